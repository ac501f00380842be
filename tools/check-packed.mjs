#!/usr/bin/env node
// The packages as a user gets them from npm: pack every workspace package, install the tarballs into
// a fresh directory outside the workspace with plain npm, and check that
//   - every package imports through ESM (import) and CJS (require), every subpath export too;
//   - every bundle imports only what its package.json declares, and every declared dependency is used;
//   - the installed `pkeysim` starts (--version), runs the demo, and lists its plugins as JSON;
//   - publint and @arethetypeswrong/cli (node16 profile) report nothing for any tarball;
//   - the plugin template, built from the tarballs, passes its conformance suite and runs through
//     the installed CLI with `--plugin` (selftest pks all OK, listed by `pkeysim plugins --json`).
// It needs built packages (npm install builds them; `npm run build` after a change). Third-party
// dependencies come from npm's cache when present (--prefer-offline). Ends with one line,
// `packed: N passed, M failed`, and exits 1 on any failure.
//
//   node tools/check-packed.mjs [--keep] [--skip-template]
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');
const skipTemplate = process.argv.includes('--skip-template');
const work = mkdtempSync(join(tmpdir(), 'pkeysim-packed-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
mkdirSync(tarballs);
mkdirSync(app);

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? `\n${indent(detail)}` : ''}`);
}
const indent = (text) =>
  String(text)
    .trim()
    .split('\n')
    .slice(0, 40)
    .map((l) => `       ${l}`)
    .join('\n');

/** Run a command; never throws. `input` goes to stdin. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: '1', npm_config_audit: 'false', npm_config_fund: 'false' },
    ...options,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
  return { ok: result.status === 0, status: result.status, stdout: result.stdout ?? '', output };
}
const npm = (args, cwd) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd });

const packages = readdirSync(join(root, 'packages'))
  .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
  .map((dir) => {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
    return { dir, manifest, name: manifest.name };
  })
  .filter((p) => !p.manifest.private);

// 1. Pack. --ignore-scripts: the packages are already built; packing must not rebuild them.
for (const p of packages) {
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tarballs], {
    cwd: join(root, 'packages', p.dir),
  });
  if (!packed.ok) {
    check(`${p.name}: npm pack`, false, packed.output);
    continue;
  }
  const [info] = JSON.parse(packed.stdout);
  p.tarball = join(tarballs, info.filename);
  p.files = info.files.map((f) => f.path);
  const leaked = p.files.filter((f) => /\.(test|bench)\.|(^|\/)(test|bench|src)\//.test(f));
  check(`${p.name}: tarball ships no tests or sources`, leaked.length === 0, leaked.join('\n'));
  check(`${p.name}: tarball has README.md and LICENSE`, p.files.includes('README.md') && p.files.includes('LICENSE'));
}
const packedOnes = packages.filter((p) => p.tarball);

// 2. Install every tarball into an empty project, as a user would.
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-check', private: true }, null, 2));
const install = npm(['install', ...packedOnes.map((p) => p.tarball)], app);
check('plain npm install of every tarball', install.ok, install.output);
if (!install.ok) finish();

// 3. Imports, both module systems, every export subpath.
for (const p of packedOnes) {
  // Module subpaths only: './package.json' and pattern exports of data files ('./schemas/*') are not modules.
  const subpaths = Object.keys(p.manifest.exports ?? { '.': null }).filter(
    (s) => s !== './package.json' && !s.includes('*'),
  );
  for (const subpath of subpaths) {
    const specifier = subpath === '.' ? p.name : `${p.name}/${subpath.slice(2)}`;
    // The vitest binding needs vitest, an optional peer: the template below loads it with vitest present.
    if (specifier === '@pkeysim/plugin-kit/vitest') continue;
    const esm = run(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(specifier)})`], {
      cwd: app,
    });
    check(`${specifier}: import (ESM)`, esm.ok, esm.output);
    const cjs = run(process.execPath, ['-e', `require(${JSON.stringify(specifier)})`], { cwd: app });
    check(`${specifier}: require (CJS)`, cjs.ok, cjs.output);
  }
}

// 4. Declared dependencies match what the bundles import.
const builtins = new Set(builtinModules);
for (const p of packedOnes) {
  const distDir = join(app, 'node_modules', p.name, 'dist');
  const imported = new Set();
  // Runtime bundles and type bundles: a dependency that only types use must still be declared.
  const bundles = readdirSync(distDir, { recursive: true }).filter((f) => /\.(c?js|d\.c?ts)$/.test(String(f)));
  for (const file of bundles) {
    const text = readFileSync(join(distDir, String(file)), 'utf8');
    const specifiers = /(?:\bfrom\s*|^\s*import\s*|\bimport\(\s*|\brequire\(\s*)["']([^"'./][^"']*)["']\s*[);\n]/gm;
    for (const m of text.matchAll(specifiers)) {
      const spec = m[1];
      if (spec.startsWith('node:')) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (!builtins.has(name) && name !== p.name) imported.add(name);
    }
  }
  const optional = p.manifest.peerDependenciesMeta ?? {};
  const declared = new Set([
    ...Object.keys(p.manifest.dependencies ?? {}),
    ...Object.keys(p.manifest.peerDependencies ?? {}).filter((n) => !optional[n]?.optional),
  ]);
  const optionalPeers = new Set(Object.keys(optional).filter((n) => optional[n]?.optional));
  const undeclared = [...imported].filter((n) => !declared.has(n) && !optionalPeers.has(n));
  const unused = [...declared].filter((n) => !imported.has(n));
  check(`${p.name}: imports what it declares`, undeclared.length === 0, `undeclared: ${undeclared.join(', ')}`);
  check(`${p.name}: declares only what it imports`, unused.length === 0, `unused: ${unused.join(', ')}`);
}

// 5. The installed CLI.
const bin = join(app, 'node_modules', '.bin', 'pkeysim');
const version = run(bin, ['--version'], { cwd: app });
check('installed pkeysim --version', version.ok && /^\d+\.\d+\.\d+/.test(version.stdout.trim()), version.output);
const demo = run(bin, ['demo'], { cwd: app });
check('installed pkeysim demo', demo.ok && /strays blocked/.test(demo.stdout), demo.output);
const plugins = run(bin, ['plugins', '--json'], { cwd: app });
check('installed pkeysim plugins --json', plugins.ok && parsesAsJson(plugins.stdout), plugins.output);
const example = run(bin, ['run', 'examples/rfc-v1-interrupt.yaml'], { cwd: app });
check('installed pkeysim run examples/... (shipped examples)', example.ok, example.output);

// 6. publint and attw on every tarball, a few at a time (each is a separate process).
const publint = join(root, 'node_modules', '.bin', 'publint');
const attw = join(root, 'node_modules', '.bin', 'attw');
const lints = packedOnes.flatMap((p) => [
  // --strict: warnings count as errors. publint prints "All good!" when it finds nothing.
  {
    name: `${p.name}: publint`,
    command: publint,
    args: ['run', p.tarball, '--strict'],
    clean: (r) => r.ok && /All good/.test(r.stdout),
  },
  // node16 profile: Node 20 resolves through `exports`; node10-style resolution cannot see subpath exports.
  {
    name: `${p.name}: attw (types for import and require)`,
    command: attw,
    args: [p.tarball, '--profile', 'node16', '--format', 'ascii'],
    clean: (r) => r.ok,
  },
]);
for (const { name, result, clean } of await runAll(lints, 4)) check(name, clean(result), result.output);

// 7. The template plugin, built from the tarballs outside the workspace, through the installed CLI.
if (!skipTemplate) checkTemplate();
finish();

/** Run commands with at most `limit` at once; results in input order. */
async function runAll(jobs, limit) {
  const results = new Array(jobs.length);
  let next = 0;
  async function worker() {
    while (next < jobs.length) {
      const index = next++;
      const job = jobs[index];
      results[index] = { ...job, result: await runAsync(job.command, job.args, { cwd: work }) };
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

function runAsync(command, args, options) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { ...options, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => resolvePromise({ ok: false, stdout, output: `${stdout}${stderr}${error}` }));
    child.on('close', (status) => resolvePromise({ ok: status === 0, stdout, output: `${stdout}${stderr}` }));
  });
}

function checkTemplate() {
  const template = join(work, 'template');
  cpSync(join(root, 'packages', 'plugin-kit', 'template'), template, { recursive: true });
  const manifestPath = join(template, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const tarballOf = new Map(packedOnes.map((p) => [p.name, `file:${p.tarball}`]));
  for (const field of ['dependencies', 'devDependencies']) {
    for (const name of Object.keys(manifest[field] ?? {})) {
      if (tarballOf.has(name)) manifest[field][name] = tarballOf.get(name);
    }
  }
  // Transitive @pkeysim dependencies (the CLI's) come from the tarballs too, never the registry.
  // The peer range stays as written: npm must find the installed core inside it.
  manifest.overrides = Object.fromEntries(tarballOf);
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  const installTemplate = npm(['install'], template);
  check('template: npm install from the tarballs', installTemplate.ok, installTemplate.output);
  if (!installTemplate.ok) return;
  const typecheck = run('npm', ['run', 'typecheck'], { cwd: template });
  check('template: typecheck', typecheck.ok, typecheck.output);
  const built = run('npm', ['run', 'build'], { cwd: template });
  check('template: build (rollup: ESM, CJS, .d.ts, .d.cts)', built.ok, built.output);
  const tested = run('npm', ['test'], { cwd: template });
  check('template: conformance suite (vitest)', tested.ok && /passed/.test(tested.output), tested.output);
  const cli = join(template, 'node_modules', '.bin', 'pkeysim');
  const selftest = run(cli, ['--plugin', '.', 'selftest', 'pks', '--arch', 'example-wpinit'], { cwd: template });
  const verdicts = selftest.stdout.split('\n').filter((l) => /^\[(OK|FAIL|SKIP)\]/.test(l));
  check(
    'template: pkeysim --plugin . selftest pks --arch example-wpinit, all OK',
    selftest.ok && verdicts.length > 0 && verdicts.every((l) => l.startsWith('[OK]')),
    selftest.output,
  );
  const listed = run(cli, ['--plugin', '.', 'plugins', '--json'], { cwd: template });
  const names = parsesAsJson(listed.stdout) ? JSON.parse(listed.stdout).plugins.map((p) => p.name) : [];
  check('template: pkeysim plugins --json lists it', listed.ok && names.includes('example-wpinit'), listed.output);
  const required = run(process.execPath, ['-e', "require('pkeysim-plugin-wpinit')"], { cwd: join(work, 'template') });
  check('template: its CJS build loads through require', required.ok, required.output);
}

function parsesAsJson(text) {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function finish() {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
  console.log(`packed: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
