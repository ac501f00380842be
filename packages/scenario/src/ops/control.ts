import { z } from 'zod';
import { op } from '../fields';
import { defineOp, type ReferenceChecks } from './spec';

/** Handlers (interrupt, NMI, signal, fault callback) run to completion: they cannot give up the CPU. */
function notInHandler(name: string, refs: ReferenceChecks): void {
  if (refs.inHandler)
    refs.bad(['op'], `${name} is not allowed in an interrupt, NMI or signal handler (handlers run to completion)`);
}

/** Control: the preemption points a program hands its driver (round-robin or the random scheduler). */
export const CONTROL_OPS = {
  /** A preemption point: the next thread runs. */
  yield: defineOp(z.strictObject({ ...op('yield') }), {
    check: (_o, refs) => notInHandler('yield', refs),
    run: () => ({ kind: 'yield' }),
  }),
  /** Yield and skip `rounds` rounds. */
  sleep: defineOp(z.strictObject({ ...op('sleep'), rounds: z.int().min(1) }), {
    check: (_o, refs) => notInHandler('sleep', refs),
    run: (o) => ({ kind: 'sleep', rounds: o.rounds }),
  }),
  /** End the thread now; in a signal handler's program, exit(2) from the handler (the interrupted access never resumes). */
  exit: defineOp(z.strictObject({ ...op('exit') }), {
    check: (_o, refs) => {
      if (!refs.inSignalHandler) notInHandler('exit', refs);
    },
    run: (_o, ctx) => {
      if (!ctx.signal) return { kind: 'exit' };
      ctx.user.exit();
    },
  }),
};
