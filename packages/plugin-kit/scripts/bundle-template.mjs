// Build step: store the template plugin (template/) as one JSON file, dist/template.json, for
// `npx @pkeysim/plugin-kit init DIR`. Shipping it as data keeps a nested package.json (which Node
// and publint would misread) and the template's test file out of the published package. Every
// @pkeysim range is written as ^<current version>, so a release's template always matches it.
import { readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const kit = resolve(import.meta.dirname, '..');
const template = join(kit, 'template');
const packagesDir = resolve(kit, '..');
const versions = Object.fromEntries(
  readdirSync(packagesDir).flatMap((dir) => {
    try {
      const pkg = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'));
      return [[pkg.name, pkg.version]];
    } catch {
      return [];
    }
  }),
);

const files = {};
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else files[relative(template, path).split('\\').join('/')] = readFileSync(path, 'utf8');
  }
})(template);

const manifest = JSON.parse(files['package.json']);
for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
  for (const name of Object.keys(manifest[field] ?? {})) {
    if (versions[name]) manifest[field][name] = `^${versions[name]}`;
  }
}
files['package.json'] = `${JSON.stringify(manifest, null, 2)}\n`;
mkdirSync(join(kit, 'dist'), { recursive: true });
writeFileSync(join(kit, 'dist', 'template.json'), `${JSON.stringify({ name: manifest.name, files }, null, 2)}\n`);
