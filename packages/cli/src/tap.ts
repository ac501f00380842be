/**
 * TAP 13 as Linux's kselftest prints it (tools/testing/selftests/kselftest.h): the version line,
 * the plan, diagnostics as "# " lines, "ok N name", "not ok N name", "ok N name # SKIP reason",
 * and ksft_print_cnts()'s closing "# Totals: pass:N fail:N xfail:0 xpass:0 skip:N error:0".
 */
export interface TapCase {
  readonly name: string;
  readonly status: 'OK' | 'FAIL' | 'SKIP';
  readonly detail: string;
}

/** A description must not open a directive ("#") or span lines; TAP 13 escapes "#" as "\#". */
function description(text: string): string {
  return oneLine(text).replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Every line of the TAP stream: `header` lines become diagnostics after the plan. */
export function formatTap(header: readonly string[], cases: readonly TapCase[]): string[] {
  const lines = ['TAP version 13', `1..${cases.length}`, ...header.map((h) => `# ${oneLine(h)}`)];
  const totals = { pass: 0, fail: 0, skip: 0 };
  cases.forEach((c, i) => {
    const number = i + 1;
    const name = description(c.name);
    if (c.status === 'OK') {
      totals.pass++;
      lines.push(`ok ${number} ${name}`);
    } else if (c.status === 'SKIP') {
      totals.skip++;
      lines.push(`ok ${number} ${name} # SKIP ${oneLine(c.detail)}`);
    } else {
      totals.fail++;
      // kselftest prints why before the result line (ksft_print_msg, then ksft_test_result_fail).
      for (const line of c.detail.split('\n')) if (line.trim()) lines.push(`# ${c.name}: ${line.trim()}`);
      lines.push(`not ok ${number} ${name}`);
    }
  });
  lines.push(`# Totals: pass:${totals.pass} fail:${totals.fail} xfail:0 xpass:0 skip:${totals.skip} error:0`);
  return lines;
}
