import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// dist/index.js -> ../vectors; src/vectors/*.ts -> ../../vectors.
const candidates = [
  resolve(here, '../vectors/x86-vectors-sample.jsonl'),
  resolve(here, '../../vectors/x86-vectors-sample.jsonl'),
];

/** Absolute path of the bundled sample vectors (a copy of the QEMU-derived reference sample). */
export const SAMPLE_VECTORS_PATH: string = candidates.find((path) => existsSync(path)) ?? candidates[1];
