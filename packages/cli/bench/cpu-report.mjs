// Preloaded with `node --import`: at exit, prints the process's own CPU time (start-up included) to
// stderr as "bench-cpu-us <microseconds>", for demo-cpu.mjs.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const used = process.cpuUsage();
  writeSync(2, `\nbench-cpu-us ${used.user + used.system}\n`);
});
