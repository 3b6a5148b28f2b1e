import type { MigrationReport } from '../../../src/migrate/report.ts';

export const ID = 'm-20250301120000-a1b2c3';

/** A migrated pc-ps-rsync report with two pre-copy rounds; every Table II column has a value. */
export function report(over: Partial<MigrationReport> = {}): MigrationReport {
  return {
    id: ID,
    container: 'web1',
    from: 'aws-1',
    to: 'gcp-1',
    method: 'pc-ps-rsync',
    reason: 'both hosts track dirty memory',
    outcome: 'migrated',
    runsOn: 'gcp-1',
    times: { preDump: 1.234, preCopy: 0.5, preMigration: 1.734, checkpoint: 0.806, transfer: 0.2, restore: 0.333, downtime: 1.4249, total: 9.87 },
    criu: { frozenMs: 812.4, pagesWritten: 1234, pagesSkipped: 56, pagesLazy: 0 },
    bytes: { total: 52428800, rsync: 2097152, pages: 50331648 },
    rounds: [
      { round: 1, pagesWritten: 10000, pagesSkipped: 0, seconds: 0.9 },
      { round: 2, pagesWritten: 300, pagesSkipped: 9700, seconds: 0.214 },
    ],
    precopyStop: 'dirty pages under 5%',
    health: 'tcp 8080 open',
    ...over,
  };
}
