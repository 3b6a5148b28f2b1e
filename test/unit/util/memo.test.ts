import { describe, expect, it } from 'vitest';
import { memoizeFor } from '../../../src/util/memo.ts';

describe('memoizeFor', () => {
  function counter() {
    let calls = 0;
    let fail = false;
    return {
      fn: async () => {
        calls++;
        if (fail) throw new Error(`failure ${calls}`);
        return calls;
      },
      calls: () => calls,
      failNext: (f: boolean) => void (fail = f),
    };
  }

  it('computes once per TTL and shares the result', async () => {
    let t = 1000;
    const c = counter();
    const get = memoizeFor(c.fn, 30_000, () => t);
    expect(await get()).toBe(1);
    t += 29_999;
    expect(await get()).toBe(1);
    t += 1;
    expect(await get()).toBe(2);
    expect(c.calls()).toBe(2);
  });

  it('shares one computation in flight', async () => {
    const c = counter();
    const get = memoizeFor(c.fn, 30_000, () => 0);
    const [a, b, d] = await Promise.all([get(), get(), get()]);
    expect([a, b, d]).toEqual([1, 1, 1]);
    expect(c.calls()).toBe(1);
  });

  it('does not keep a failure: the next call tries again', async () => {
    const c = counter();
    const get = memoizeFor(c.fn, 30_000, () => 0);
    c.failNext(true);
    await expect(get()).rejects.toThrow('failure 1');
    c.failNext(false);
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
  });
});
