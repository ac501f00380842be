import { describe, expect, it } from 'vitest';
import { DomainError, isDomainError } from './errors';

describe('DomainError', () => {
  it('maps each refusal to the errno the Linux series returns', () => {
    expect(new DomainError('exhausted', 'x').errno).toBe(-28);
    expect(new DomainError('unsupported', 'x').errno).toBe(-95);
    expect(new DomainError('invalid', 'x').errno).toBe(-22);
    expect(new DomainError('exhausted', 'x').errnoName).toBe('ENOSPC');
  });

  it('is recognised by code', () => {
    const error = new DomainError('invalid', 'bad key 16');
    expect(isDomainError(error)).toBe(true);
    expect(isDomainError(error, 'invalid')).toBe(true);
    expect(isDomainError(error, 'exhausted')).toBe(false);
    expect(isDomainError(new Error('x'))).toBe(false);
    expect(error.message).toBe('bad key 16');
  });
});
