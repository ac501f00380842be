#!/usr/bin/env node
// The published entry point: runs the built CLI. In the repository, `npm install` builds it (prepare).
import { main } from '../dist/index.js';

process.exitCode = await main(process.argv.slice(2));
