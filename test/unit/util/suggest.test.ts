import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../../src/util/suggest.ts';

describe('editDistance', () => {
  it.each([
    ['status', 'status', 0],
    ['stauts', 'status', 1],
    ['statu', 'status', 1],
    ['lst', 'list', 1],
    ['hosst', 'hosts', 1],
    ['web1', 'help', 3],
    ['', 'abc', 3],
  ])('%s → %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});

describe('closest', () => {
  const commands = ['status', 'list', 'cancel', 'hosts', 'help'];
  it('finds the nearest candidate within the distance', () => {
    expect(closest('stauts', commands)).toBe('status');
    expect(closest('hepl', commands)).toBe('help');
  });
  it('finds nothing when every candidate is too far', () => {
    expect(closest('web1', commands)).toBeUndefined();
    expect(closest('stauts', commands, 0)).toBeUndefined();
  });
});
