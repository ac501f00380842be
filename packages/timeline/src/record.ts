import { type LoadedScenario, type RunOptions, type RunResult, runScenario } from '@pkeysim/scenario';
import { type StepState, type Timeline, TIMELINE_MAX_STEPS } from './model';
import { snapshot } from './snapshot';

/** A scenario run with its timeline. */
export interface Recording {
  readonly result: RunResult;
  readonly timeline: Timeline;
}

/**
 * Run a scenario and record the state after every event. The scenario runner calls back once per
 * event (RunOptions.observe); nothing is recorded, and nothing allocated per step, in a plain run.
 */
export function recordScenario(loaded: LoadedScenario, options: Omit<RunOptions, 'observe'> = {}): Recording {
  const steps: (StepState | null)[] = [];
  let truncated = false;
  const result = runScenario(loaded, {
    ...options,
    observe: (seq, view) => {
      if (seq >= TIMELINE_MAX_STEPS) {
        truncated = true;
        return;
      }
      steps[seq] = snapshot(view);
    },
  });
  // Events logged while the kernel boots have no state (null); every later one has its own.
  let last: StepState | null = null;
  for (let i = 0; i < Math.min(result.events.length, TIMELINE_MAX_STEPS); i++) {
    if (steps[i]) last = steps[i];
    else steps[i] = last;
  }
  const m = loaded.scenario.machine;
  const timeline: Timeline = {
    format: 'pkeysim-timeline',
    version: 1,
    name: result.name,
    file: result.file,
    arch: m.arch,
    cpus: m.cpus,
    seed: result.seed,
    passed: result.passed,
    events: result.events,
    steps,
    truncated,
    threads: result.threads,
    failures: result.failures,
  };
  return { result, timeline };
}
