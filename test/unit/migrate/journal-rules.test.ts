import { describe, expect, it } from 'vitest';
import { decide, isOrphaned, type JournalPhase, type JournalRecord, type Observed } from '../../../src/migrate/journal/record.ts';
import { newest } from '../../../src/migrate/journal/stores.ts';
import { parseJobState } from '../../../src/hosts/jobs.ts';
import { listedState, procState } from '../../../src/migrate/host-state.ts';

const rec = (phase: JournalPhase, over: Partial<JournalRecord> = {}): JournalRecord => ({
  version: 1,
  id: 'm-1',
  container: 'web1',
  from: 'lab-1',
  to: 'lab-2',
  method: 'page-server',
  traits: { pageServer: true, lazy: false, preCopy: false },
  seq: 3,
  phase,
  owner: 'ctl:123',
  heartbeatAt: '2026-12-01T10:00:00.000Z',
  startedAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
  ...over,
});
const lazy = { traits: { pageServer: false, lazy: true, preCopy: false }, method: 'lazy' };

const obs = (over: Partial<Observed> = {}): Observed => ({ source: 'running', target: 'absent', targetHealthy: null, dump: { state: 'absent' }, ...over });

describe('decide: the rule book for rollback and recovery', () => {
  it('waits for a restore still under way on the target before undoing anything (a copy may appear there any moment)', () => {
    // Lazy: the source's dump still serves pages, the target's restore has not made its copy yet.
    const d = decide(rec('restoring', lazy), obs({ source: 'frozen', target: 'absent', dump: { state: 'running' }, restore: { state: 'running' } }), 'rollback');
    expect(d).toMatchObject({ action: 'wait-restore' });
    // A complete dump, the source's copy gone: not restored on the source while the target's restore runs.
    expect(decide(rec('restoring'), obs({ source: 'absent', target: 'stopped', dump: { state: 'rc', rc: 0 }, restore: { state: 'running' } }), 'rollback')).toMatchObject({ action: 'wait-restore' });
    // Once the copy runs, the usual rules (here: freeze it before releasing the lazy dump).
    expect(decide(rec('restoring', lazy), obs({ source: 'frozen', target: 'running', targetHealthy: false, dump: { state: 'running' }, restore: { state: 'running' } }), 'rollback')).toMatchObject({ action: 'pause-target' });
    // The restore over: the usual rules too.
    expect(decide(rec('restoring', lazy), obs({ source: 'frozen', target: 'absent', dump: { state: 'running' }, restore: { state: 'rc', rc: 1 } }), 'rollback')).toMatchObject({ action: 'release-lazy-dump' });
  });

  it('keeps a container that never left the source (crash before the freeze, or a dump that failed)', () => {
    for (const phase of ['preparing', 'precopy', 'diverting', 'freezing'] as const) {
      expect(decide(rec(phase), obs(), 'recover')).toMatchObject({ action: 'rollback-keep-source', resume: false });
    }
    expect(decide(rec('freezing'), obs({ dump: { state: 'rc', rc: 1 } }), 'rollback')).toMatchObject({ action: 'rollback-keep-source' });
  });

  it('resumes a source left paused or frozen, once the dump has ended', () => {
    expect(decide(rec('freezing'), obs({ source: 'paused', dump: { state: 'rc', rc: 1 } }), 'recover')).toMatchObject({ action: 'rollback-keep-source', resume: true });
  });

  it('waits for a dump still running before deciding anything', () => {
    expect(decide(rec('freezing'), obs({ source: 'frozen', dump: { state: 'running' } }), 'recover').action).toBe('wait-dump');
  });

  it('releases a lazy dump still serving pages (ending CRIU lets the tasks run on), freezing a running target copy first, unless the target already serves', () => {
    expect(decide(rec('restoring', lazy), obs({ source: 'frozen', target: 'absent', dump: { state: 'running' } }), 'rollback').action).toBe('release-lazy-dump');
    // Never two running copies: the target's is frozen before the source's is released.
    expect(decide(rec('restoring', lazy), obs({ source: 'frozen', target: 'running', targetHealthy: false, dump: { state: 'running' } }), 'rollback').action).toBe('pause-target');
    expect(decide(rec('restoring', lazy), obs({ source: 'frozen', target: 'paused', dump: { state: 'running' } }), 'rollback').action).toBe('release-lazy-dump');
    // A target out of reach may run a copy: the source is not released blind.
    expect(decide(rec('restoring', lazy), obs({ source: 'frozen', target: 'unknown', dump: { state: 'running' } }), 'rollback').action).toBe('retry-later');
    expect(decide(rec('switched', lazy), obs({ source: 'frozen', target: 'running', targetHealthy: true, dump: { state: 'running' } }), 'rollback').action).toBe('finish');
  });

  it('lazy: a source whose tasks CRIU let go after a failed transfer stays frozen by its cgroup until the target copy is gone', () => {
    // Serving failed: CRIU ended and would have let the tasks run; the cgroup holds them (paused).
    expect(decide(rec('restoring', lazy), obs({ source: 'paused', target: 'running', targetHealthy: false, dump: { state: 'rc', rc: 1 } }), 'rollback')).toMatchObject({ action: 'rollback-keep-source', resume: true });
  });

  it('lazy: once every page was served, the source is let go (its tasks were killed) and never resumed over the target', () => {
    // Served, CRIU waits for its frozen tasks to die: thaw them, whatever the mode.
    for (const mode of ['rollback', 'recover'] as const) {
      expect(decide(rec('restoring', lazy), obs({ source: 'paused', target: 'running', targetHealthy: false, dump: { state: 'running' }, lazyServed: true }), mode).action).toBe('thaw-served-source');
    }
    // A release that raced with the last page: CRIU killed, the tasks doomed: still let go, not resumed.
    expect(decide(rec('restoring', lazy), obs({ source: 'paused', target: 'paused', dump: { state: 'rc', rc: 137 }, lazyServed: true }), 'rollback').action).toBe('thaw-served-source');
    // Then the target keeps the only copy.
    expect(decide(rec('restoring', lazy), obs({ source: 'stopped', target: 'paused', dump: { state: 'rc', rc: 137 }, lazyServed: true }), 'rollback').action).toBe('keep-target');
    // Not served: the usual release.
    expect(decide(rec('restoring', lazy), obs({ source: 'paused', target: 'paused', dump: { state: 'running' } }), 'rollback').action).toBe('release-lazy-dump');
  });

  it('restores on the source from a complete dump when the container ran nowhere (the kill -9 after the freeze)', () => {
    expect(decide(rec('dumped'), obs({ source: 'absent', dump: { state: 'rc', rc: 0 } }), 'recover')).toMatchObject({ action: 'rollback-restore-source' });
    expect(decide(rec('restoring'), obs({ source: 'absent', target: 'running', targetHealthy: false, dump: { state: 'rc', rc: 0 } }), 'rollback')).toMatchObject({ action: 'rollback-restore-source' });
  });

  it('finishes when the target is healthy: always after a crash, only past the switch after an error', () => {
    const healthy = obs({ source: 'absent', target: 'running', targetHealthy: true, dump: { state: 'rc', rc: 0 } });
    expect(decide(rec('healthy'), healthy, 'recover').action).toBe('finish');
    expect(decide(rec('restoring'), healthy, 'recover').action).toBe('finish');
    expect(decide(rec('healthy'), healthy, 'rollback').action).toBe('rollback-restore-source');
    expect(decide(rec('switched'), healthy, 'rollback').action).toBe('finish');
    expect(decide(rec('cleaning'), healthy, 'rollback').action).toBe('finish');
  });

  it('never rolls back past the switch, even when the target cannot be reached: it waits', () => {
    expect(decide(rec('switched'), obs({ source: 'absent', target: 'unknown', dump: { state: 'rc', rc: 0 } }), 'rollback').action).toBe('retry-later');
  });

  it('keeps the only copy on the target when the images cannot bring it back (lazy, all pages served)', () => {
    expect(decide(rec('restoring', lazy), obs({ source: 'absent', target: 'running', targetHealthy: false, dump: { state: 'rc', rc: 0 } }), 'rollback').action).toBe('keep-target');
  });

  it('refuses to guess with a host out of reach', () => {
    expect(decide(rec('dumped'), obs({ source: 'unknown', dump: { state: 'rc', rc: 0 } }), 'recover').action).toBe('retry-later');
    expect(decide(rec('dumped'), obs({ source: 'unknown', target: 'unknown' }), 'recover').action).toBe('retry-later');
    expect(decide(rec('dumped'), obs({ source: 'absent', dump: { state: 'unknown' } }), 'recover').action).toBe('retry-later');
    expect(decide(rec('dumped'), obs({ source: 'absent', target: 'unknown', dump: { state: 'lost' } }), 'recover').action).toBe('retry-later');
  });

  it('says loudly when nothing can bring the container back', () => {
    const d = decide(rec('dumped'), obs({ source: 'absent', dump: { state: 'lost' } }), 'recover');
    expect(d.action).toBe('lost');
    expect(d.why).toContain('runs on neither lab-1 nor lab-2');
  });
});

describe('journal records', () => {
  it('are orphaned when the heartbeat is older than the lease, or the owner is known dead', () => {
    const r = rec('dumped');
    expect(isOrphaned(r, new Date('2026-12-01T10:00:20Z'), { leaseS: 30 })).toBe(false);
    expect(isOrphaned(r, new Date('2026-12-01T10:00:31Z'), { leaseS: 30 })).toBe(true);
    expect(isOrphaned(r, new Date('2026-12-01T10:00:01Z'), { leaseS: 30, ownerDead: true })).toBe(true);
    expect(isOrphaned({ ...r, outcome: 'migrated' }, new Date('2027-01-01T00:00:00Z'), { leaseS: 30 })).toBe(false);
  });

  it('merge to the copy with the highest sequence number', () => {
    const merged = newest([rec('dumped', { seq: 4 }), rec('restoring', { seq: 6 }), rec('freezing', { seq: 3 }), rec('preparing', { id: 'm-2', seq: 1 })]);
    expect(merged.map((r) => [r.id, r.phase])).toEqual([
      ['m-1', 'restoring'],
      ['m-2', 'preparing'],
    ]);
  });
});

describe('host readings', () => {
  it('parses the job helper', () => {
    expect(parseJobState('rc 0\n')).toEqual({ state: 'rc', rc: 0 });
    expect(parseJobState('rc 137')).toEqual({ state: 'rc', rc: 137 });
    expect(parseJobState('running 4242')).toEqual({ state: 'running' });
    expect(parseJobState('lost')).toEqual({ state: 'lost' });
    expect(parseJobState('absent')).toEqual({ state: 'absent' });
    expect(parseJobState('output')).toEqual({ state: 'output' });
    expect(parseJobState('sh: 1: job: not found')).toEqual({ state: 'unknown' });
  });

  it('reads the task state from /proc/PID/stat, whatever the command name holds', () => {
    expect(procState('1234 (ferry-ballast) S 1 1234 1234 0 -1')).toBe('S');
    expect(procState('1234 (a) b) t 1 1234')).toBe('t');
    expect(procState('garbage')).toBeNull();
  });

  it('calls a listed container frozen when CRIU holds its init stopped, stopped when its init is gone or a zombie', () => {
    expect(listedState('running', '1234 (ferry-ballast) S 1 1234')).toBe('running');
    expect(listedState('running', '1234 (ferry-ballast) t 1 1234')).toBe('frozen');
    expect(listedState('running', '1234 (ferry-ballast) T 1 1234')).toBe('frozen');
    expect(listedState('running', '1234 (ferry-ballast) Z 1 1234')).toBe('stopped');
    expect(listedState('running', null)).toBe('stopped');
    expect(listedState('paused', null)).toBe('paused');
    expect(listedState('created', null)).toBe('stopped');
  });
});
