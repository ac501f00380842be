import { budgetMessage, type Limits } from './limits';
import type { PathSegment } from './load';
import type { Scenario, ScenarioOp } from './schema';

/** A budget a file exceeds, with the field to point at. */
export interface BudgetProblem {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

/**
 * Budgets checked on the raw parsed data, before schema validation: validating a million memory
 * entries or threads would itself take the memory the budget is there to protect.
 */
export function preflight(raw: object, limits: Limits): BudgetProblem | undefined {
  const data = raw as Record<string, unknown>;
  const memory = own(data, 'memory');
  if (Array.isArray(memory) && memory.length > limits.memoryEntries)
    return { path: ['memory'], message: budgetMessage('memoryEntries', memory.length, limits.memoryEntries) };
  const threads = own(data, 'threads');
  if (Array.isArray(threads) && threads.length > limits.threads)
    return { path: ['threads'], message: budgetMessage('threads', threads.length, limits.threads) };
  return undefined;
}

function own(data: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(data, key) ? data[key] : undefined;
}

/**
 * Budgets a validated scenario must keep before it runs, computed statically: the product of
 * nested `repeat` counts along any path, the forks a run can make (a fork inside `repeat: N` is N
 * forks), the threads that makes, and `schedule.max_steps` against the steps budget.
 */
export function checkBudgets(s: Scenario, limits: Limits, raw: object): BudgetProblem | undefined {
  // A max_steps the file does not set is the default: the run's step counter enforces the budget.
  const schedule = own(raw as Record<string, unknown>, 'schedule');
  const setsMaxSteps =
    schedule !== null && typeof schedule === 'object' && Object.prototype.hasOwnProperty.call(schedule, 'max_steps');
  if (setsMaxSteps && s.schedule.max_steps > limits.steps)
    return {
      path: ['schedule', 'max_steps'],
      message: `max_steps ${budgetMessage('steps', s.schedule.max_steps, limits.steps)}`,
    };
  let forks = 0;
  let problem: BudgetProblem | undefined;
  const walk = (ops: readonly ScenarioOp[], path: readonly PathSegment[], times: number): void => {
    for (let i = 0; i < ops.length && !problem; i++) {
      const o = ops[i];
      const at = [...path, i];
      if (o.op === 'repeat') {
        const product = times * o.times;
        if (product > limits.repeatProduct) {
          problem = {
            path: [...at, 'times'],
            message: `nested repeat counts multiply to ${product}: ${budgetMessage('repeatProduct', product, limits.repeatProduct)}`,
          };
          return;
        }
        walk(o.program, [...at, 'program'], product);
      } else if (o.op === 'fork' || o.op === 'clone') {
        forks += times;
        if (forks > limits.forks) {
          problem = {
            path: [...at, 'op'],
            message: `a run can fork ${forks} threads or more: ${budgetMessage('forks', forks, limits.forks)}`,
          };
          return;
        }
        if (s.threads.length + forks > limits.threads) {
          problem = {
            path: [...at, 'op'],
            message: `with its forks a run has ${s.threads.length + forks} threads: ${budgetMessage('threads', s.threads.length + forks, limits.threads)}`,
          };
          return;
        }
        walk(o.program, [...at, 'program'], times);
      } else if (o.op === 'interrupt' || o.op === 'nmi') walk(o.program, [...at, 'program'], times);
      else if (o.op === 'signal' || o.op === 'sigaction') walk(o.handler, [...at, 'handler'], times);
      else if (o.op === 'set_fault_callback') walk(o.program, [...at, 'program'], times);
    }
  };
  s.threads.forEach((t, i) => walk(t.program, ['threads', i, 'program'], 1));
  s.inject.forEach((inj, i) => {
    if (inj.kind !== 'stray_write') walk(inj.program, ['inject', i, 'program'], 1);
  });
  s.schedule.interrupts?.forEach((src, i) => walk(src.program, ['schedule', 'interrupts', i, 'program'], 1));
  return problem;
}
