#!/usr/bin/env node
// The published entry point: runs the built CLI. In the repository, `npm install` builds it (prepare).
// It imports the light `main` entry: commands load lazily, so `pkeysim --version` starts fast.
import { setFlagsFromString } from 'node:v8';

// A CLI run is short and runs much of its code only briefly: with V8's default inlining budget (sized
// for long-running servers) its optimising compiler, on background threads, cost as much CPU as the
// simulation in `pkeysim demo`. A smaller budget cuts that compile work by about a third with no loss
// on the hot loops (replay and check measured the same); docs/architecture.md, "JIT budget". It is
// this process's setting only: code that imports the packages keeps its own.
setFlagsFromString('--max-inlined-bytecode-size-cumulative=200');

const { main } = await import('../dist/main.js');
process.exitCode = await main(process.argv.slice(2));
