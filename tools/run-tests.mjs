#!/usr/bin/env node
// `npm test`: typecheck, lint and test every package through nx, then print one closing line that
// counts all tests ("Tests: N passed, M failed"), read from the JSON report each vitest run writes.
// Type errors and layer violations fail the run too: vitest alone strips types without checking them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = ['nx', 'run-many', '-t', 'typecheck', 'lint', 'test', '--outputStyle=static', ...process.argv.slice(2)];
const run = spawnSync('npx', args, { cwd: root, stdio: 'inherit' });

let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of readdirSync(join(root, 'packages'))) {
  const report = join(root, 'packages', dir, 'test-results', 'vitest.json');
  if (!existsSync(report)) continue;
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed += json.numPassedTests ?? 0;
  failed += json.numFailedTests ?? 0;
  skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
}
const code = run.status ?? 1;
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(code === 0 && failed > 0 ? 1 : code);
