import { describe, expect, it } from 'vitest';
import { PHASE_COLUMNS } from '../../../src/migrate/clock.ts';
import { COLUMN_TITLES, fmtS, renderReport, type MigrationReport } from '../../../src/migrate/report.ts';

const report = (over: Partial<MigrationReport> = {}): MigrationReport => ({
  id: 'm-20240101120000-abc123',
  container: 'web1',
  from: 'lab-1',
  to: 'lab-2',
  method: 'pc-ps-rsync',
  reason: 'requested explicitly',
  outcome: 'migrated',
  runsOn: 'lab-2',
  times: { preDump: 1.234, preCopy: 0.5, preMigration: 1.734, checkpoint: 0.25, transfer: 0.125, restore: 0.333, downtime: 0.9, total: 4.321 },
  criu: { frozenMs: 283.7, pagesWritten: 1200, pagesSkipped: 64000, pagesLazy: 0 },
  bytes: { total: 5 * 1024 * 1024, rsync: 1024 * 1024, pages: 4 * 1024 * 1024 },
  rounds: [],
  health: 'HTTP GET :8080/counter passed after 0.12 s',
  ...over,
});

describe('fmtS', () => {
  it('formats seconds with two decimals', () => {
    expect(fmtS(1.234)).toBe('1.23');
    expect(fmtS(0)).toBe('0.00');
    expect(fmtS(12)).toBe('12.00');
  });

  it('shows a dash for a missing phase', () => {
    expect(fmtS(null)).toBe('-');
  });
});

describe('renderReport', () => {
  it('includes every Table II column title', () => {
    const text = renderReport(report());
    expect(PHASE_COLUMNS).toHaveLength(8);
    for (const c of PHASE_COLUMNS) expect(text).toContain(`${COLUMN_TITLES[c]} (s)`);
    for (const t of ['Pre-dump', 'Pre-copy', 'Pre-migration', 'Checkpoint', 'Transfer', 'Restore', 'Downtime', 'Total']) expect(text).toContain(t);
  });

  it('shows the method title in the row and the method line with the reason', () => {
    const lines = renderReport(report()).split('\n');
    expect(lines).toContain('method: pc-ps-rsync (PC & PS + Rsync): requested explicitly');
    const header = lines.findIndex((l) => l.startsWith('Method'));
    expect(lines[header + 2]!.startsWith('PC & PS + Rsync')).toBe(true);
  });

  it('puts each phase time in the row, dashes for phases the method lacks', () => {
    const text = renderReport(report({ method: 'normal', times: { preDump: null, preCopy: null, preMigration: null, checkpoint: 1.5, transfer: 2, restore: 0.75, downtime: 4.25, total: 5 } }));
    const row = text.split('\n').find((l) => l.startsWith('Normal'))!;
    expect(row.split(/\s{2,}/)).toEqual(['Normal', '-', '-', '-', '1.50', '2.00', '0.75', '4.25', '5.00']);
  });

  it('leads with the move for a migrated container', () => {
    const first = renderReport(report()).split('\n')[0];
    expect(first).toBe('web1 moved from lab-1 to lab-2 (migration m-20240101120000-abc123)');
  });

  it("says 'rolled back' and where it runs for a rolled-back migration, with the failure", () => {
    const text = renderReport(report({ outcome: 'rolled-back', runsOn: 'lab-1', error: 'restore failed on lab-2' }));
    const lines = text.split('\n');
    expect(lines[0]).toBe('web1 was NOT moved: rolled back, it runs on lab-1 (migration m-20240101120000-abc123)');
    expect(lines).toContain('failure: restore failed on lab-2');
    expect(text).not.toContain('moved from');
  });

  it('has no failure line without an error', () => {
    expect(renderReport(report())).not.toContain('failure:');
  });

  it('reports bytes and CRIU counters', () => {
    const text = renderReport(report());
    expect(text).toContain('moved: 5.0 MiB (page server 4.0 MiB, rsync 1.0 MiB)');
    expect(text).toContain('CRIU: frozen 284 ms, pages written 1200, skipped 64000');
    expect(text).not.toContain('lazy');
  });

  it('mentions lazy pages only when there were some', () => {
    const text = renderReport(report({ method: 'lazy', criu: { frozenMs: 10, pagesWritten: 0, pagesSkipped: 0, pagesLazy: 2560 } }));
    expect(text).toContain(', lazy 2560');
  });

  it('omits the CRIU part without CRIU stats', () => {
    expect(renderReport(report({ criu: null }))).not.toContain('CRIU:');
  });

  it('renders the pre-copy rounds table and the stop reason when rounds exist', () => {
    const text = renderReport(
      report({
        rounds: [
          { round: 1, pagesWritten: 262144, pagesSkipped: 0, seconds: 1.5 },
          { round: 2, pagesWritten: 40, pagesSkipped: 262104, seconds: 0.25 },
        ],
        precopyStop: 'converged: round 2 wrote 40 pages (<= 64)',
      }),
    );
    const lines = text.split('\n');
    const head = lines.findIndex((l) => /^round\s+pages written\s+pages skipped\s+seconds$/.test(l));
    expect(head).toBeGreaterThan(0);
    expect(lines[head + 2]!.trim().split(/\s+/)).toEqual(['1', '262144', '0', '1.50']);
    expect(lines[head + 3]!.trim().split(/\s+/)).toEqual(['2', '40', '262104', '0.25']);
    expect(lines).toContain('pre-copy stopped: converged: round 2 wrote 40 pages (<= 64)');
  });

  it('has no rounds table without rounds', () => {
    const text = renderReport(report({ precopyStop: 'should not show' }));
    expect(text).not.toContain('pages written  ');
    expect(text).not.toContain('pre-copy stopped');
  });

  it('ends with the health check', () => {
    expect(renderReport(report()).split('\n').at(-1)).toBe('health check: HTTP GET :8080/counter passed after 0.12 s');
  });
});
