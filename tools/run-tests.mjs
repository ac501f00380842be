#!/usr/bin/env node
// `npm test`: build, typecheck, lint and test every package through nx, check the packed tarballs
// as npm users get them (tools/check-packed.mjs), build the API reference (npm run docs), then print
// one closing line that counts all tests and checks ("Tests: N passed, M failed"), read from the
// JSON report each vitest run writes, the packed check's closing line, the docs build and the lint of
// tools/. Type errors and layer violations fail the run too: vitest alone strips types without
// checking them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = [
  'nx',
  'run-many',
  '-t',
  'build',
  'typecheck',
  'lint',
  'test',
  '--outputStyle=static',
  ...process.argv.slice(2),
];
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

// The packages from npm's point of view: packed, installed outside the workspace, imported both ways.
let packedCode = 0;
if (process.argv.length <= 2) {
  const packed = spawnSync(process.execPath, [join(root, 'tools', 'check-packed.mjs')], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(packed.stdout ?? '');
  const counts = /packed: (\d+) passed, (\d+) failed/.exec(packed.stdout ?? '');
  passed += counts ? Number(counts[1]) : 0;
  failed += counts ? Number(counts[2]) : 1;
  packedCode = packed.status ?? 1;
}

// The API reference: TypeDoc with warnings as errors (every exported symbol documented, no link to
// an unexported symbol), counted as one check.
let docsCode = 0;
if (process.argv.length <= 2) {
  const docs = spawnSync('npx', ['typedoc', '--logLevel', 'Warn'], { cwd: root, stdio: 'inherit' });
  docsCode = docs.status ?? 1;
  console.log(`${docsCode === 0 ? 'ok  ' : 'FAIL'} npm run docs: the API reference builds with no warnings`);
  if (docsCode === 0) passed++;
  else failed++;
}

// The repository's own scripts (tools/, root configs) belong to no package: lint them here, as one check.
let toolsLintCode = 0;
if (process.argv.length <= 2) {
  const lint = spawnSync('npx', ['eslint', 'tools', 'eslint.config.mjs'], { cwd: root, stdio: 'inherit' });
  toolsLintCode = lint.status ?? 1;
  console.log(`${toolsLintCode === 0 ? 'ok  ' : 'FAIL'} eslint tools: the repository's scripts lint clean`);
  if (toolsLintCode === 0) passed++;
  else failed++;
}

const code = run.status ?? 1;
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(code !== 0 ? code : failed > 0 || packedCode !== 0 || docsCode !== 0 || toolsLintCode !== 0 ? 1 : 0);
