import { describe, expect, it } from 'vitest';
import { assertNoUnfinished, unfinishedMigrations } from '../../../src/app/remove.ts';
import { ErrorCode } from '../../../src/errors.ts';
import type { JournalRecord } from '../../../src/migrate/journal/record.ts';
import { catchFerry } from '../catch-ferry.ts';

const rec = (id: string, container: string, over: Partial<JournalRecord> = {}): JournalRecord => ({
  version: 1,
  id,
  container,
  from: 'lab-1',
  to: 'lab-2',
  method: 'page-server',
  traits: { pageServer: true, lazy: false, preCopy: false },
  seq: 1,
  phase: 'dumped',
  owner: 'ctl:1',
  heartbeatAt: '2026-12-01T00:00:00Z',
  startedAt: '2026-12-01T00:00:00Z',
  updatedAt: '2026-12-01T00:00:00Z',
  ...over,
});

describe('unfinishedMigrations', () => {
  it('keeps open records of the named containers, the newest copy of each', () => {
    const records = [
      rec('m-1', 'img1', { seq: 3, phase: 'restoring' }),
      rec('m-1', 'img1', { seq: 2, phase: 'dumped' }), // an older copy, from another store
      rec('m-2', 'img1', { seq: 9, outcome: 'migrated', runsOn: 'lab-2' }),
      rec('m-3', 'web1'),
    ];
    expect(unfinishedMigrations(records, ['img1']).map((r) => [r.id, r.phase])).toEqual([['m-1', 'restoring']]);
  });

  it('counts a record finished when its newest copy is', () => {
    const records = [rec('m-1', 'img1', { seq: 2 }), rec('m-1', 'img1', { seq: 5, outcome: 'rolled-back', runsOn: 'lab-1' })];
    expect(unfinishedMigrations(records, ['img1'])).toEqual([]);
  });
});

describe('assertNoUnfinished', () => {
  it('refuses, naming the migration, where it stands and what to do', () => {
    const e = catchFerry(() => assertNoUnfinished([rec('m-1', 'img1', { phase: 'restoring' })], false), ErrorCode.PreflightFailed);
    expect(e.message).toContain('img1 (m-1: lab-1 → lab-2, page-server, at restoring)');
    expect(e.message).toContain("'ferry recover'");
    expect(e.message).toContain('--force');
  });

  it('lets it through with --force, or with nothing open', () => {
    expect(() => assertNoUnfinished([rec('m-1', 'img1')], true)).not.toThrow();
    expect(() => assertNoUnfinished([], false)).not.toThrow();
  });
});
