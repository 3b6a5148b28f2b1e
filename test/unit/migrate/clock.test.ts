import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { PHASE_COLUMNS, PhaseClock } from '../../../src/migrate/clock.ts';
import { catchFerry } from '../catch-ferry.ts';

/** A clock whose time (ms) only moves when the test says so. */
function fakeClock(start = 1000) {
  let t = start;
  const clock = new PhaseClock(() => t);
  return {
    clock,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('PhaseClock', () => {
  it('returns the duration of a phase in seconds', () => {
    const { clock, advance } = fakeClock();
    clock.start('checkpoint');
    advance(1500);
    expect(clock.end('checkpoint')).toBe(1.5);
    expect(clock.seconds('checkpoint')).toBe(1.5);
  });

  it('adds up repeated phases', () => {
    const { clock, advance } = fakeClock();
    for (const ms of [300, 200, 100]) {
      clock.start('pre-dump');
      advance(ms);
      clock.end('pre-dump');
      advance(1000); // time between rounds is not counted
    }
    expect(clock.seconds('pre-dump')).toBeCloseTo(0.6, 10);
  });

  it('has null for a phase that never ran', () => {
    const { clock } = fakeClock();
    expect(clock.seconds('transfer')).toBeNull();
  });

  it('preMigration is preDump + preCopy', () => {
    const { clock, advance } = fakeClock();
    clock.start('pre-dump');
    advance(2000);
    clock.end('pre-dump');
    clock.start('pre-copy');
    advance(500);
    clock.end('pre-copy');
    const t = clock.times();
    expect(t.preDump).toBe(2);
    expect(t.preCopy).toBe(0.5);
    expect(t.preMigration).toBe(2.5);
  });

  it('preMigration counts a lone pre-copy phase', () => {
    const { clock, advance } = fakeClock();
    clock.start('pre-copy');
    advance(700);
    clock.end('pre-copy');
    const t = clock.times();
    expect(t.preDump).toBeNull();
    expect(t.preMigration).toBeCloseTo(0.7, 10);
  });

  it('reports null columns for phases never run (a normal dump)', () => {
    const { clock, advance } = fakeClock();
    clock.start('checkpoint');
    advance(1000);
    clock.end('checkpoint');
    const t = clock.times();
    expect(t.preDump).toBeNull();
    expect(t.preCopy).toBeNull();
    expect(t.preMigration).toBeNull();
    expect(t.transfer).toBeNull();
    expect(t.restore).toBeNull();
    expect(t.downtime).toBeNull();
    expect(t.checkpoint).toBe(1);
  });

  it('downtime is healthy minus freeze', () => {
    const { clock, advance } = fakeClock();
    advance(5000);
    clock.mark('freeze');
    advance(1250);
    clock.mark('healthy');
    advance(3000);
    expect(clock.times().downtime).toBe(1.25);
  });

  it('downtime is null without a healthy mark (rolled back)', () => {
    const { clock, advance } = fakeClock();
    clock.mark('freeze');
    advance(100);
    expect(clock.times().downtime).toBeNull();
  });

  it('total runs from construction to the done mark', () => {
    const { clock, advance } = fakeClock();
    advance(4000);
    clock.mark('done');
    advance(9000);
    expect(clock.times().total).toBe(4);
  });

  it('total runs to now while not done', () => {
    const { clock, advance } = fakeClock();
    advance(2500);
    expect(clock.times().total).toBe(2.5);
    advance(500);
    expect(clock.times().total).toBe(3);
  });

  it('times() has exactly the Table II columns', () => {
    const { clock } = fakeClock();
    expect(Object.keys(clock.times()).sort()).toEqual([...PHASE_COLUMNS].sort());
  });

  it('time() measures the phase and returns the result', async () => {
    const { clock, advance } = fakeClock();
    const r = await clock.time('transfer', async () => {
      advance(800);
      return 'sent';
    });
    expect(r).toBe('sent');
    expect(clock.seconds('transfer')).toBeCloseTo(0.8, 10);
  });

  it('time() ends the phase even when fn throws', async () => {
    const { clock, advance } = fakeClock();
    await expect(
      clock.time('restore', async () => {
        advance(400);
        throw new Error('restore failed');
      }),
    ).rejects.toThrow('restore failed');
    expect(clock.seconds('restore')).toBeCloseTo(0.4, 10);
    expect(() => clock.end('restore')).toThrow(/not started/);
  });

  it('time() does not end twice when fn ended the phase itself', async () => {
    const { clock, advance } = fakeClock();
    await clock.time('checkpoint', async () => {
      advance(100);
      clock.end('checkpoint');
      advance(900);
    });
    expect(clock.seconds('checkpoint')).toBeCloseTo(0.1, 10);
  });

  it('end() of an unstarted phase throws, as a bug', () => {
    const { clock } = fakeClock();
    expect(catchFerry(() => clock.end('health'), ErrorCode.Internal).message).toBe('phase health was not started');
  });

  it('end() of an already ended phase throws', () => {
    const { clock } = fakeClock();
    clock.start('health');
    clock.end('health');
    expect(() => clock.end('health')).toThrow(/not started/);
  });
});
