import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/run-cli';

describe('pkeysim keys', () => {
  it('lists the default key of the dynamic design at boot', async () => {
    const run = await runCli(['keys']);
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      '# dynamic keys, PKRS PKS_INIT_VALUE 0x55555554',
      '# key  default  owner',
      '  0  rw       DEFAULT',
    ]);
  });

  it('--design static lists the consumers with their defaults', async () => {
    const run = await runCli(['keys', '--design', 'static']);
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      // V10 include/linux/pks-keys.h: PGMAP_PROTECTION, then TEST; no page-table key without Edgecombe's series.
      '# static keys, PKRS PKS_INIT_VALUE 0x55555554',
      '# key  default  owner',
      '  0  rw       DEFAULT',
      '  1  ad       PKS_KEY_PGMAP_PROTECTION',
      '  2  ad       PKS_KEY_TEST',
    ]);
  });

  it('--json prints the listing as one object', async () => {
    const run = await runCli(['keys', '--json', '--design', 'static']);
    const listing = JSON.parse(run.stdout) as { supported: boolean; rows: { key: number; owner: string }[] };
    expect(listing.supported).toBe(true);
    expect(listing.rows.map((r) => r.owner)).toContain('PKS_KEY_PGMAP_PROTECTION');
  });

  it('--no-pks says unsupported', async () => {
    const run = await runCli(['keys', '--no-pks']);
    expect(run.code).toBe(0);
    expect(run.lines).toEqual(['PKRS: not supported on this machine (-EOPNOTSUPP)']);
  });

  it("--pks-version v10 lists V10's static keys, as --design static does", async () => {
    const byVersion = await runCli(['keys', '--pks-version', 'v10']);
    const byDesign = await runCli(['keys', '--design', 'static']);
    expect(byVersion.code).toBe(0);
    expect(byVersion.lines).toEqual(byDesign.lines);
  });

  it("--pks-version v6 boots that posting's dynamic allocator (static keys came in V7): only key 0 at boot", async () => {
    const run = await runCli(['keys', '--pks-version', 'v6']);
    expect(run.code).toBe(0);
    expect(run.lines[0]).toMatch(/^# dynamic keys/);
    expect(run.lines.slice(2)).toEqual(['  0  rw       DEFAULT']);
  });

  it.each([
    [['keys', '--pks-version', 'v10', '--design', 'dynamic'], /--design.*"dynamic".*V10/],
    [['keys', '--pks-version', 'v11'], /--pks-version.*v11/],
  ])('refuses %j in one line, exit 2', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses an unknown design in one line, exit 2', async () => {
    const run = await runCli(['keys', '--design', 'mixed']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^pkeysim: .*--design/);
  });
});
