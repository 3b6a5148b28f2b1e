import { describe, expect, it } from 'vitest';
import { DEFAULT_PRECOPY_POLICY, precopyStop, type PrecopyPolicy, type RoundPages } from '../../../src/migrate/precopy-policy.ts';

const r = (pagesWritten: number, pagesSkipped = 0): RoundPages => ({ pagesWritten, pagesSkipped });
const policy: PrecopyPolicy = { minPages: 64, maxRatio: 0.8, skippedFraction: 0.95, maxRounds: 8 };

describe('precopyStop', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_PRECOPY_POLICY).toEqual(policy);
  });

  it('goes on before any round', () => {
    expect(precopyStop([])).toBeNull();
  });

  it('goes on after a large first round', () => {
    expect(precopyStop([r(262_144)])).toBeNull();
  });

  it('stops as converged when a round writes at most minPages', () => {
    expect(precopyStop([r(10_000), r(64)], policy)).toBe('converged: round 2 wrote 64 pages (<= 64)');
    expect(precopyStop([r(50)], policy)).toMatch(/^converged: round 1 wrote 50 pages/);
  });

  it('goes on one page above minPages (when shrinking)', () => {
    expect(precopyStop([r(10_000), r(65)], policy)).toBeNull();
  });

  it('stops when a later round skipped at least the skipped fraction', () => {
    const why = precopyStop([r(10_000), r(500, 9_500)], policy);
    expect(why).toBe('converged: round 2 skipped 95 % of pages as unchanged (>= 95 %)');
  });

  it('ignores the skipped fraction in round 1', () => {
    expect(precopyStop([r(500, 9_500)], policy)).toBeNull();
  });

  it('goes on just below the skipped fraction', () => {
    expect(precopyStop([r(10_000), r(600, 9_400)], policy)).toBeNull();
  });

  it('stops as not converging when a round writes more than maxRatio of the previous', () => {
    const why = precopyStop([r(10_000), r(8_001)], policy);
    expect(why).toContain('not converging');
    expect(why).toContain('round 2 wrote 8001 pages');
    expect(why).toContain('(> 80 %)');
  });

  it('stops as not converging when the dirty set grows', () => {
    expect(precopyStop([r(1_000), r(5_000)], policy)).toMatch(/^not converging: round 2 wrote 5000 pages, 500 % of round 1/);
  });

  it('goes on at exactly maxRatio of the previous round', () => {
    expect(precopyStop([r(10_000), r(8_000)], policy)).toBeNull();
  });

  it('stops at the round limit', () => {
    const rounds = [r(100_000), r(50_000), r(25_000), r(12_000), r(6_000), r(3_000), r(1_500), r(700)];
    expect(precopyStop(rounds, policy)).toBe('round limit: 8 rounds (max 8)');
    expect(precopyStop(rounds.slice(0, 7), policy)).toBeNull();
  });

  it('keeps going while the sequence shrinks markedly', () => {
    const rounds = [r(100_000), r(40_000), r(16_000), r(6_400), r(2_560)];
    for (let n = 1; n <= rounds.length; n++) expect(precopyStop(rounds.slice(0, n), policy), `after ${n} rounds`).toBeNull();
  });

  it('applies a custom policy', () => {
    expect(precopyStop([r(1_000), r(900)], { ...policy, maxRatio: 0.95 })).toBeNull();
    expect(precopyStop([r(1_000), r(500)], { ...policy, maxRounds: 2 })).toBe('round limit: 2 rounds (max 2)');
    expect(precopyStop([r(1_000)], { ...policy, minPages: 1_000 })).toMatch(/^converged/);
  });
});
