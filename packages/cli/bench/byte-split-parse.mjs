// The baseline of bench/replay-cpu.bench.ts: the least a replay must do, a streaming byte-split parse
// of a lackey trace. It reads the file in 1 MiB chunks and splits each line's bytes into its kind, hex
// address and decimal size (no validation, no policy), summing them so that nothing is optimised away.
import { createReadStream } from 'node:fs';

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x61 + i] = 10 + i;

let records = 0;
let sum = 0;
let state = 0; // 0: before the letter, 1: in the address, 2: in the size, 3: skipping the line
let kind = 0;
let address = 0;
let size = 0;
for await (const chunk of createReadStream(process.argv[2], { highWaterMark: 1 << 20 })) {
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i];
    if (c === 0x0a) {
      if (state === 2) {
        records++;
        sum += kind + address + size;
      }
      state = 0;
      address = 0;
      size = 0;
    } else if (state === 0) {
      if (c === 0x49 || c === 0x4c || c === 0x53 || c === 0x4d) {
        kind = c;
        state = 1;
      } else if (c !== 0x20) state = 3;
    } else if (state === 1) {
      if (c === 0x2c) state = 2;
      else if (HEX[c] >= 0) address = address * 16 + HEX[c];
    } else if (state === 2) size = size * 10 + (c - 0x30);
  }
}
console.log(`${records} records, checksum ${sum}`);
