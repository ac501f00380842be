import { Deny, formatRightsState, rightsStateEqual } from '@pkeysim/core';
import type { EntryMode } from '../config';
import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import type { OopsReport } from '../oops';

/** What happened when an interrupt arrived inside a thread's access window. */
export interface InterruptInWindowResult {
  readonly entryMode: EntryMode;
  readonly key: number;
  /** The thread's rights with its window open, before the interrupt. */
  readonly before: string;
  /** The rights the interrupt handler started with. */
  readonly handlerStarted: string;
  /** The thread's rights after the interrupt returned. */
  readonly after: string;
  /** True when the interrupt changed the interrupted thread's rights. */
  readonly corrupted: boolean;
  /** The thread's second write in its (supposedly still open) window: undefined when it succeeded. */
  readonly oops: OopsReport | undefined;
}

/**
 * RFC V1 saved PKRS on context switch but not across interrupts ("the MSR setting is not
 * saved/restored during irqs", RFC V1 Documentation/core-api/protection-keys.rst). A thread opens a
 * window on a key and writes; an interrupt handler opens and closes its own window on the same key;
 * the thread writes again. With the V9/V10 auxiliary area the second write succeeds; in legacy mode
 * the handler's close has shut the thread's window and the write oopses.
 */
export function runInterruptInWindow(kernel: Kernel, cpuId = 0): InterruptInWindowResult {
  if (!kernel.supported) throw new KernelError('EOPNOTSUPP', 'the interrupt-in-window scenario needs supervisor keys');
  const space = kernel.space!;
  const dynamic = kernel.config.keyDesign === 'dynamic';
  const key = dynamic ? kernel.pks_key_alloc('irq_window_demo') : kernel.keyOf('PKS_KEY_TEST');
  if (key === undefined || key < 0)
    throw new KernelError('ENOSPC', 'no key for the scenario (dynamic: all allocated; static: no PKS_KEY_TEST)');
  const cpu = kernel.cpu(cpuId);
  const thread = kernel.kthread_create('window_writer', cpuId);
  const page = kernel.vmap([kernel.alloc_page()], { key });
  try {
    cpu.switchTo(thread);
    cpu.pks_set_readwrite(key);
    const first = cpu.write(page, new Uint8Array([1]));
    if (!first.ok) throw new KernelError('EFAULT', 'the first write in the open window failed');
    const before = thread.pkrs;
    let handlerStarted = before;
    cpu.interrupt(() => {
      handlerStarted = cpu.rights();
      // A driver's own window in the handler: open, write, close (as pgmap_set_noaccess closes).
      cpu.pks_set_readwrite(key);
      cpu.write(page, new Uint8Array([2]));
      cpu.pks_update_protection(key, Deny.Access);
    }, 'irq 42');
    const after = thread.pkrs;
    const second = cpu.write(page, new Uint8Array([3]));
    if (second.ok) cpu.pks_set_noaccess(key);
    return {
      entryMode: kernel.config.entryMode,
      key,
      before: formatRightsState(before),
      handlerStarted: formatRightsState(handlerStarted),
      after: formatRightsState(after),
      corrupted: !rightsStateEqual(before, after) || space.denialsOf(after, key) !== Deny.None,
      oops: second.ok ? undefined : second.oops,
    };
  } finally {
    kernel.vunmap(page);
    if (dynamic) kernel.pks_key_free(key, cpuId);
    if (thread.state !== 'dead' && cpu.current === thread) kernel.exitCurrent(cpuId);
  }
}
