import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareVector, parseVector, runVector, SAMPLE_VECTORS_PATH } from '../src/vectors';

const lines = readFileSync(SAMPLE_VECTORS_PATH, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');

describe('bundled QEMU sample vectors', () => {
  it('every sample vector parses and passes when executed', () => {
    const failures: string[] = [];
    for (const [i, line] of lines.entries()) {
      const parsed = parseVector(line);
      if (!parsed.ok) {
        failures.push(`line ${i + 1}: ${parsed.issue.field}: ${parsed.issue.message}`);
        continue;
      }
      const problems = compareVector(parsed.vector, runVector(parsed.vector));
      if (problems.length > 0) failures.push(`${parsed.vector.id}: ${problems.join('; ')}`);
    }
    expect(failures).toEqual([]);
    expect(lines.length).toBe(411);
  });
});
