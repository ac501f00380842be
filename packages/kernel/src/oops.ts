import { accessKindName, type AccessKind } from '@pkeysim/core';
import { describeFrame, type FrameKind } from './entry/frame-kind';
import { formatAddress } from './layout';

/** One entry of an oops report's frame chain, outermost first. */
export interface OopsFrame {
  readonly kind: FrameKind;
  readonly vector: string;
  readonly depth: number;
  readonly cpu: number;
  /** The interrupted context's rights saved in the frame's auxiliary area, formatted. */
  readonly savedRights: string | undefined;
}

/**
 * The structured report of a kernel oops (arch/x86/mm/fault.c page_fault_oops, plus the PKRS line
 * the series added to the register dump).
 */
export interface OopsReport {
  /** An oops kills the thread; one in an interrupt, NMI or the idle thread panics the kernel. */
  readonly severity: 'oops' | 'panic';
  /** "BUG: unable to handle page fault for address: 0xffff888000123000" */
  readonly headline: string;
  /** Why no handler took the fault: "no fault callback for key 1", "callback declined", ... */
  readonly reason: string;
  readonly cpu: number;
  readonly thread: { readonly tid: number; readonly name: string };
  readonly address: number;
  readonly addressHex: string;
  readonly access: 'read' | 'write' | 'fetch';
  readonly cause: string;
  /** The key of the faulting page, found by walking the page tables; undefined when not mapped. */
  readonly key: number | undefined;
  readonly owner: string | undefined;
  /** The rights register of the faulting context, formatted ("0x55555554"). */
  readonly pkrs: string;
  /** That register's name on this architecture ("PKRS", "POR_EL1", "AMR"); PKRS when absent. */
  readonly register?: string;
  /** The architecture's one-line fault summary ("#PF error code 0x23 ..."). */
  readonly fault: string;
  readonly frames: readonly OopsFrame[];
  /** Extra findings, e.g. "global kmap used across threads". */
  readonly notes: readonly string[];
}

/** The oops report's view of an exception frame (the saved rights formatted with `format`). */
export function oopsFrame(
  frame: Omit<OopsFrame, 'savedRights'> & { readonly aux: { readonly pkrs: readonly number[] } | undefined },
  format: (s: readonly number[]) => string,
): OopsFrame {
  return {
    kind: frame.kind,
    vector: frame.vector,
    depth: frame.depth,
    cpu: frame.cpu,
    savedRights: frame.aux ? format(frame.aux.pkrs) : undefined,
  };
}

/** The name an oops report gives an access kind. */
export function accessName(kind: AccessKind): OopsReport['access'] {
  return accessKindName(kind);
}

/** The report as the kernel log would print it. */
export function formatOops(report: OopsReport): string[] {
  const lines = [
    report.headline,
    `#PF: supervisor ${report.access} access in kernel mode (${report.cause})`,
    `#PF: ${report.fault}`,
    `${report.severity === 'panic' ? 'Kernel panic' : 'Oops'}: CPU: ${report.cpu} PID: ${report.thread.tid} Comm: ${report.thread.name}`,
    `${report.register ?? 'PKRS'}: ${report.pkrs}`,
    `key: ${report.key ?? '-'}${report.owner ? ` (${report.owner})` : ''}; ${report.reason}`,
  ];
  for (const note of report.notes) lines.push(`note: ${note}`);
  if (report.frames.length > 0) {
    lines.push('frames (outermost first):');
    for (const f of report.frames) {
      lines.push(`  ${describeFrame(f)}${f.savedRights ? ` saved ${report.register ?? 'PKRS'} ${f.savedRights}` : ''}`);
    }
  }
  return lines;
}

/** The oops headline for a page fault at `address` ("BUG: unable to handle page fault ..."). */
export function faultHeadline(address: number): string {
  return `BUG: unable to handle page fault for address: ${formatAddress(address)}`;
}
