import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LineBatcher, streamBatches } from '../../../src/util/line-batches.ts';

describe('LineBatcher', () => {
  const limits = { maxLines: 3, maxMs: 1000 };

  it('sends a batch as soon as it holds maxLines lines', () => {
    const b = new LineBatcher(limits);
    expect(b.push('a', 0)).toEqual([]);
    expect(b.push('b', 10)).toEqual([]);
    expect(b.push('c', 20)).toEqual([['a', 'b', 'c']]);
    expect(b.deadline()).toBeNull();
    expect(b.push('d', 30)).toEqual([]);
    expect(b.deadline()).toBe(1030);
  });

  it('holds no line longer than maxMs after the first line of its batch', () => {
    const b = new LineBatcher(limits);
    b.push('a', 100);
    b.push('b', 900);
    expect(b.deadline()).toBe(1100);
    expect(b.due(1099)).toEqual([]);
    expect(b.due(1100)).toEqual([['a', 'b']]);
    expect(b.due(5000)).toEqual([]);
  });

  it('sends an overdue batch before starting the next one with a late line', () => {
    const b = new LineBatcher(limits);
    b.push('a', 0);
    expect(b.push('b', 1500)).toEqual([['a']]);
    expect(b.deadline()).toBe(2500);
    expect(b.drain()).toEqual([['b']]);
  });

  it('drains what is pending at the end, and nothing when nothing is', () => {
    const b = new LineBatcher(limits);
    expect(b.drain()).toEqual([]);
    b.push('a', 0);
    expect(b.drain()).toEqual([['a']]);
    expect(b.drain()).toEqual([]);
  });

  it('keeps every line, in order, in batches of at most maxLines', () => {
    const b = new LineBatcher(limits);
    const lines = Array.from({ length: 17 }, (_, i) => `l${i}`);
    const out = lines.flatMap((l, i) => b.push(l, i * 400)).concat(b.drain());
    expect(out.flat()).toEqual(lines);
    expect(out.every((x) => x.length >= 1 && x.length <= 3)).toBe(true);
  });

  it('with maxLines 1 sends each line alone', () => {
    const b = new LineBatcher({ maxLines: 1, maxMs: 1000 });
    expect(b.push('a', 0)).toEqual([['a']]);
    expect(b.push('b', 0)).toEqual([['b']]);
  });

  it('refuses limits that make no batches', () => {
    expect(() => new LineBatcher({ maxLines: 0, maxMs: 10 })).toThrow(/maxLines/);
    expect(() => new LineBatcher({ maxLines: 2.5, maxMs: 10 })).toThrow(/maxLines/);
    expect(() => new LineBatcher({ maxLines: 2, maxMs: -1 })).toThrow(/maxMs/);
  });
});

describe('streamBatches', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends a partial batch when it falls due, without further input', () => {
    const got: string[][] = [];
    const s = streamBatches((l) => got.push(l), { maxLines: 5, maxMs: 2000 });
    s.push('a');
    vi.advanceTimersByTime(500);
    s.push('b');
    vi.advanceTimersByTime(1499);
    expect(got).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(got).toEqual([['a', 'b']]);
    s.push('c');
    vi.advanceTimersByTime(2000);
    expect(got).toEqual([['a', 'b'], ['c']]);
    s.end();
    expect(got).toEqual([['a', 'b'], ['c']]);
  });

  it('sends full batches at once and the rest at the end, leaving no timer behind', () => {
    const got: string[][] = [];
    const s = streamBatches((l) => got.push(l), { maxLines: 2, maxMs: 2000 });
    for (const l of ['a', 'b', 'c', 'd', 'e']) s.push(l);
    expect(got).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    s.end();
    expect(got.at(-1)).toEqual(['e']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
