import {
  type AccessFault,
  AccessKind,
  type DomainSpace,
  formatRightsState,
  type Machine,
  type RightsState,
} from '@pkeysim/core';
import type { EntryCode } from './entry/entry-code';
import type { KeyTable } from './keys/key-table';
import { formatAddress, isKernelAddress } from './layout';
import type { KernelLog } from './log';
import type { AccessWindows } from './mm/kmap';
import { accessName, faultHeadline, formatOops, type OopsReport, oopsFrame } from './oops';
import type { PanicState } from './panic';
import type { Sched } from './sched/sched';
import { describeThread, inHandler, type TaskStruct } from './sched/thread';

/** What the kernel did with a fault: retry the access, or an oops ended the faulting thread. */
export type FaultOutcome = { readonly retry: true } | { readonly retry: false; readonly oops: OopsReport };

/** The one outcome of every handled fault (immutable, so a handled fault allocates none). */
const RETRY: FaultOutcome = Object.freeze({ retry: true });

/** How many times one access may fault and be "handled" before the kernel gives up (Linux would loop). */
export const MAX_HANDLED_FAULTS = 8;

/**
 * The page-fault path for kernel accesses. A key fault on a kernel address goes to
 * pks_handle_key_fault() (V7..V10 arch/x86/mm/fault.c): the hardware does not report the key, so it
 * walks the page tables to find it, and calls that key's callback inside the #PF frame. Handled:
 * the access is retried. Not handled, or any other fault: oops.
 *
 * It owns the panic state: it is the only service that declares a panic (see kill()).
 */
export class FaultHandler {
  constructor(
    private readonly machine: Machine,
    private readonly space: DomainSpace | undefined,
    private readonly supported: boolean,
    private readonly keys: KeyTable,
    private readonly log: KernelLog,
    private readonly entry: EntryCode,
    private readonly sched: Sched,
    private readonly windows: AccessWindows,
    private readonly panic: PanicState,
  ) {}

  handle(cpu: number, fault: AccessFault): FaultOutcome {
    const thread = this.sched.current(cpu);
    const rightsAtFault = thread.pkrs;
    const keyFault = fault.cause === 'domain' && isKernelAddress(fault.address) && this.supported;
    const key = this.keyOf(fault);
    const notes = keyFault ? this.globalKmapNotes(fault, thread) : [];

    const frame = this.entry.enter(cpu, 'exception', '#PF');
    const callback = keyFault && key !== undefined ? this.keys.callbackOf(key) : undefined;
    if (callback) {
      let handled: boolean;
      try {
        handled = callback(frame, fault.address, fault.access === AccessKind.Write);
      } catch (error) {
        if (frame.live && thread.frames[thread.frames.length - 1] === frame) this.entry.exit(cpu, frame);
        throw error;
      }
      if (handled) {
        this.entry.exit(cpu, frame);
        return RETRY;
      }
    }
    return this.unhandled(cpu, thread, fault, key, rightsAtFault, keyFault, Boolean(callback), notes);
  }

  /**
   * The cold half of handle(), kept out of it so the handled-fault path compiles small: why the
   * fault was not handled, and the oops.
   */
  private unhandled(
    cpu: number,
    thread: TaskStruct,
    fault: AccessFault,
    key: number | undefined,
    rightsAtFault: RightsState,
    keyFault: boolean,
    hadCallback: boolean,
    notes: string[],
  ): FaultOutcome {
    const reason = !keyFault
      ? `${fault.cause} fault, not a supervisor key fault`
      : !hadCallback
        ? `no fault callback for key ${key ?? '?'}`
        : `the fault callback of key ${key} did not handle it`;
    return { retry: false, oops: this.oops(cpu, thread, fault, key, rightsAtFault, reason, notes) };
  }

  /**
   * A key fault on an address other threads hold a global kmap() of: warned, and noted in an oops.
   * Asked here, not in handle(): the holders list is a shared empty array or a fresh one, two shapes
   * that would deoptimize handle() when the second appears.
   */
  private globalKmapNotes(fault: AccessFault, thread: TaskStruct): string[] {
    const others = this.windows.otherGlobalHolders(fault.address, thread);
    if (others.length === 0) return [];
    const note = `global kmap used across threads: ${formatAddress(fault.address)} was kmap()ed by ${others.map(describeThread).join(', ')}, accessed by ${describeThread(thread)}`;
    this.log.warn(note);
    return [note];
  }

  /** An access that kept faulting although its callback said "handled". */
  persistent(cpu: number, fault: AccessFault): OopsReport {
    const thread = this.sched.current(cpu);
    const rightsAtFault = thread.pkrs;
    this.entry.enter(cpu, 'exception', '#PF');
    const reason = `the fault persisted after ${MAX_HANDLED_FAULTS} handled faults (the CPU would retry forever)`;
    return this.oops(cpu, thread, fault, this.keyOf(fault), rightsAtFault, reason, []);
  }

  /**
   * The faulting context's rights (taken before the #PF entry replaces them), as the oops prints
   * them: formatted only for an oops, since rights states are immutable values.
   */
  private formatRights(pkrs: RightsState): string {
    return this.supported ? formatRightsState(pkrs) : '(no PKS)';
  }

  private keyOf(fault: AccessFault): number | undefined {
    const space = this.space;
    if (space?.info.faultReportsDomain && fault.domain !== undefined) return fault.domain;
    // The hardware does not report the key (SDM 4.7): walk the page tables.
    return this.machine.translate(this.machine.activeSpace(fault.cpu), fault.address)?.domain;
  }

  private oops(
    cpu: number,
    thread: TaskStruct,
    fault: AccessFault,
    key: number | undefined,
    pkrs: RightsState,
    reason: string,
    notes: string[],
  ): OopsReport {
    const inInterrupt = inHandler(thread.frames);
    const report: OopsReport = {
      severity: inInterrupt || thread.idle ? 'panic' : 'oops',
      headline: faultHeadline(fault.address),
      reason: inInterrupt
        ? `${reason}; Fatal exception in interrupt`
        : thread.idle
          ? `${reason}; Attempted to kill the idle task!`
          : reason,
      cpu,
      thread: { tid: thread.tid, name: thread.name },
      address: fault.address,
      addressHex: formatAddress(fault.address),
      access: accessName(fault.access),
      cause: fault.cause,
      key,
      owner: key === undefined ? undefined : this.keys.ownerOf(key),
      pkrs: this.formatRights(pkrs),
      register: this.space?.info.register ?? 'PKRS',
      fault: fault.summary,
      frames: thread.frames.map((f) => oopsFrame(f, formatRightsState)),
      notes,
    };
    for (const line of formatOops(report)) this.log.info(line);
    this.kill(cpu, thread, report);
    return report;
  }

  /** make_task_dead(): the thread dies with its frames and windows; the CPU runs its idle thread. */
  private kill(cpu: number, thread: TaskStruct, report: OopsReport): void {
    if (report.severity === 'panic') {
      this.panic.declare(report);
      return;
    }
    for (const f of thread.frames) f.live = false;
    thread.frames = [];
    thread.kmaps = [];
    thread.atomicDepth = 0;
    thread.windowCounts.fill(0);
    thread.oops = report;
    this.sched.bury(thread);
    this.windows.dropThread(thread);
    this.sched.forceSwitch(cpu, this.sched.idleOf(cpu));
  }
}
