#!/usr/bin/env node
// `npx @pkeysim/plugin-kit init <dir>`: write the template protection plugin into <dir> (which
// must not exist or be empty), ready for `npm install && npm run build && npm test`.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const USAGE = 'usage: pkeysim-plugin-kit init <dir>';
const [command, target, ...rest] = process.argv.slice(2);
if (command === '--help' || command === '-h') {
  console.log(
    `${USAGE}\n\nWrites the template pkeysim protection plugin (a scheme whose x86 supervisor keys start\nwrite-protected) into <dir>; see its README.md for the path from there to \`pkeysim --plugin .\`.`,
  );
  process.exit(0);
}
if (command !== 'init' || !target || rest.length > 0) {
  console.error(`pkeysim-plugin-kit: ${USAGE}`);
  process.exit(2);
}
const dir = resolve(target);
if (existsSync(dir) && readdirSync(dir).length > 0) {
  console.error(`pkeysim-plugin-kit: ${target} exists and is not empty; choose a new directory`);
  process.exit(2);
}
const template = JSON.parse(readFileSync(new URL('../dist/template.json', import.meta.url), 'utf8'));
try {
  for (const [path, text] of Object.entries(template.files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
} catch (error) {
  console.error(`pkeysim-plugin-kit: cannot write ${target}: ${error.message}`);
  process.exit(2);
}
console.log(`wrote ${template.name} (${Object.keys(template.files).length} files) to ${target}`);
console.log(`next: cd ${target} && npm install && npm run build && npm test`);
