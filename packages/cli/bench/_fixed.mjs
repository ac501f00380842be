import '@pkeysim/x86';
import '@pkeysim/scheme-pagetable';
import '@pkeysim/scheme-vkeys';
import { pmemCampaign } from '@pkeysim/pmem';
import { pgtableCampaign } from '@pkeysim/pgtable-guard';
import { roAtRestCampaign } from '@pkeysim/ro-at-rest';
const N = Number(process.argv[2] ?? 40);
for (const arch of ['x86', 'pagetable', 'vkeys']) for (const r of [pmemCampaign, pgtableCampaign, roAtRestCampaign]) {
  const mode = r.modes.includes('strict') ? 'strict' : r.modes[0];
  for (let i = 0; i < 5; i++) r.run({ seed: i + 1, protection: true, mode, cpus: 4, arch });
  const a = process.cpuUsage();
  for (let i = 0; i < N; i++) r.run({ seed: i + 1, protection: true, mode, cpus: 4, arch });
  const u = process.cpuUsage(a);
  console.log(arch.padEnd(10), r.consumer.padEnd(10), (((u.user + u.system) / 1e3) / N).toFixed(2), 'ms/run');
}
