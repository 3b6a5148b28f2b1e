import { describe, expect, it } from 'vitest';
import { closest, closestMatches, editDistance, orList } from '../../../src/util/suggest.ts';

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

describe('closestMatches', () => {
  const hosts = ['lab-1', 'lab-2', 'lab-10', 'db-1', 'cloud-b-1'];

  it('returns the nearest names first, ties by name, at most three', () => {
    expect(closestMatches('lab-3', hosts)).toEqual(['lab-1', 'lab-2', 'lab-10']);
    expect(closestMatches('lab-3', hosts, 2)).toEqual(['lab-1', 'lab-2']);
  });

  it('allows more edits for a longer name (a third of its length)', () => {
    expect(closestMatches('clod-b-2', hosts)).toEqual(['cloud-b-1']);
    expect(closestMatches('db', hosts)).toEqual(['db-1']);
    expect(closestMatches('web', hosts)).toEqual([]);
  });
});

describe('orList', () => {
  it.each([
    [[], ''],
    [['a'], 'a'],
    [['a', 'b'], 'a or b'],
    [['a', 'b', 'c'], 'a, b or c'],
  ])('%j → %s', (items, want) => {
    expect(orList(items)).toBe(want);
  });
});
