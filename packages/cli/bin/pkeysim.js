#!/usr/bin/env node
// The published entry point: runs the built CLI. In the repository, `npm install` builds it (prepare).
// It imports the light `main` entry: commands load lazily, so `pkeysim --version` starts fast.
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));
