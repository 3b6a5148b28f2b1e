import { describe, expect, it } from 'vitest';
import { groupTimes, lazyGroupBlocker, runFromGroupReport, type LazyHostFacts } from '../../../src/bench/group.ts';
import { cellRows } from '../../../src/bench/plan.ts';
import { WORDPRESS } from '../../../src/bench/workloads.ts';
import { groupReport } from './fixtures.ts';

const host = (name: string, over: Partial<LazyHostFacts> = {}): LazyHostFacts => ({ host: name, unprivilegedUserfaultfd: '1', pipeUserPagesSoft: '0', bootId: 'b-1', ...over });

describe('lazyGroupBlocker', () => {
  it('allows lazy where both sysctls are set', () => {
    expect(lazyGroupBlocker([host('lab-1'), host('lab-2')])).toBeNull();
  });

  it('refuses without unprivileged userfaultfd on a host, naming it and the sysctl', () => {
    const why = lazyGroupBlocker([host('lab-1'), host('lab-2', { unprivilegedUserfaultfd: '0' })])!;
    expect(why).toContain('lab-2 has it off');
    expect(why).toContain('vm.unprivileged_userfaultfd=1');
    expect(lazyGroupBlocker([host('a', { unprivilegedUserfaultfd: null }), host('b', { unprivilegedUserfaultfd: '0' })])).toContain('a and b have it off');
  });

  it("minds the pipe limit only where the hosts share one kernel (the namespace lab's)", () => {
    expect(lazyGroupBlocker([host('lab-1', { pipeUserPagesSoft: '16384' }), host('lab-2', { pipeUserPagesSoft: '16384' })])).toContain('fs.pipe-user-pages-soft=0');
    expect(lazyGroupBlocker([host('a-1', { pipeUserPagesSoft: '16384', bootId: 'x' }), host('b-1', { pipeUserPagesSoft: '16384', bootId: 'y' })])).toBeNull();
    expect(lazyGroupBlocker([host('a-1', { pipeUserPagesSoft: '16384', bootId: null }), host('b-1', { pipeUserPagesSoft: '16384', bootId: null })])).toBeNull();
  });
});

describe('a group move as a bench run', () => {
  const g = groupReport();
  const row = cellRows(WORDPRESS, ['page-server'], { haproxy: false, peer: false })[0]!;

  it("takes the group's own downtime and total, the longest member's parallel phases, the sum of the restores", () => {
    const t = groupTimes(g);
    expect(t.downtime).toBe(9);
    expect(t.total).toBe(11);
    expect(t.checkpoint).toBe(1.2);
    expect(t.transfer).toBe(4.5);
    expect(t.restore).toBeCloseTo(3.1, 12);
    expect(t.preDump).toBeNull();
    expect(t.preMigration).toBeNull();
  });

  it('sums bytes and pages over the members, keeps the longest freeze and the whole report', () => {
    const r = runFromGroupReport(row, 1, g, false);
    expect(r).toMatchObject({ row: 'page-server', run: 1, from: 'lab-1', to: 'lab-2', outcome: 'migrated', bytes: (230 + 452) * 1048576, frozenMs: 1200, pages: { round1: null, final: 40960 } });
    expect(r.group!.members.map((m) => m.container)).toEqual(['bench-wp-db', 'bench-wp-web']);
    expect(r.report).toBeUndefined();
    expect(runFromGroupReport(row, 1, g, true).frozenMs).toBeNull();
  });

  it('adds up pre-copy round 1 only when every member had one', () => {
    const rounds = [{ round: 1, pagesWritten: 100, pagesSkipped: 0, seconds: 1 }];
    const both = { ...g, members: g.members.map((m) => ({ ...m, rounds })) };
    expect(runFromGroupReport(row, 1, both, false).pages.round1).toBe(200);
    const one = { ...g, members: [{ ...g.members[0]!, rounds }, g.members[1]!] };
    expect(runFromGroupReport(row, 1, one, false).pages.round1).toBeNull();
  });

  it('carries a rollback and its reason', () => {
    const r = runFromGroupReport(row, 2, groupReport({ outcome: 'rolled-back', error: 'bench-wp-web: health check failed' }), false);
    expect(r.outcome).toBe('rolled-back');
    expect(r.error).toBe('bench-wp-web: health check failed');
  });
});
