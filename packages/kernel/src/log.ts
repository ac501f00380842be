/** The kernel log (dmesg): what the series printed with pr_*, WARN and oops, in order. */
export class KernelLog {
  private readonly entries: string[] = [];
  /** An informational line (pr_info). */
  info(message: string): void {
    this.entries.push(message);
  }
  /** A WARN splat's first line. */
  warn(message: string): void {
    this.entries.push(`WARNING: ${message}`);
  }
  /** Every line logged so far, in order. */
  lines(): readonly string[] {
    return this.entries;
  }
  /** Lines logged since `mark` (a previous `lines().length`). */
  since(mark: number): string[] {
    return this.entries.slice(mark);
  }
}
