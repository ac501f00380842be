import { describe, expect, it } from 'vitest';
import { parsePgtableBootParams } from '../src';

describe('boot parameters', () => {
  it('defaults to protection on in strict mode', () => {
    expect(parsePgtableBootParams()).toEqual({ enabled: true, mode: 'strict' });
    expect(parsePgtableBootParams('root=/dev/sda1 quiet')).toEqual({ enabled: true, mode: 'strict' });
  });

  it('nopkstables switches protection off', () => {
    expect(parsePgtableBootParams('quiet nopkstables')).toEqual({ enabled: false, mode: 'strict' });
  });

  it('pkstablessoft selects soft mode', () => {
    expect(parsePgtableBootParams('  pkstablessoft\tconsole=ttyS0 ')).toEqual({ enabled: true, mode: 'soft' });
  });

  it('takes both words together', () => {
    expect(parsePgtableBootParams('nopkstables pkstablessoft')).toEqual({ enabled: false, mode: 'soft' });
  });

  it('matches whole words only', () => {
    expect(parsePgtableBootParams('xnopkstables pkstablessofter')).toEqual({ enabled: true, mode: 'strict' });
  });

  it('refuses a value on a flag parameter with a clear error', () => {
    expect(() => parsePgtableBootParams('nopkstables=1')).toThrow(/takes no value/);
    expect(() => parsePgtableBootParams(42 as unknown as string)).toThrow(/must be a string/);
  });
});
