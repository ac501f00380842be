/** What entered the kernel: a synchronous exception (#PF), a device interrupt, or an NMI. */
export type FrameKind = 'exception' | 'interrupt' | 'nmi';

/** A short description for reports: "#PF (exception, depth 1, CPU 0)". */
export function describeFrame(frame: {
  readonly kind: FrameKind;
  readonly vector: string;
  readonly depth: number;
  readonly cpu: number;
}): string {
  return `${frame.vector} (${frame.kind}, depth ${frame.depth}, CPU ${frame.cpu})`;
}
