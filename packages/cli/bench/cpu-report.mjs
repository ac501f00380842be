// Preloaded with `node --import`: at exit, prints the process's own CPU time (start-up included) to
// stderr as "bench-cpu-us <microseconds>", for the CPU benches; on Linux also the main thread's share
// as "bench-main-us <microseconds>" (the rest is V8's compiler and GC threads).
import { readFileSync, writeSync } from 'node:fs';

/** CPU microseconds of the main thread, from /proc (clock ticks of 10 ms), or undefined off Linux. */
function mainThreadMicros() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

process.on('exit', () => {
  const used = process.cpuUsage();
  const main = mainThreadMicros();
  writeSync(2, `\nbench-cpu-us ${used.user + used.system}\n${main === undefined ? '' : `bench-main-us ${main}\n`}`);
});
