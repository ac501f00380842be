import '@pkeysim/x86';
import '@pkeysim/scheme-capability';
import { it } from 'vitest';
import { runKmapApisCampaign } from '../src';
it('prints', () => {
  const r = runKmapApisCampaign({ seed: 1, protection: true, mode: 'strict' });
  console.log(JSON.stringify(r.designs.map(d => ({...d, by_kind: undefined, source: undefined})), null, 0).replace(/\},\{/g, '},\n{'));
  console.log(r.notes.join('\n'));
});
