import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeOutputs } from '../../../src/app/bench.ts';
import { PEER_ROW, cellRows } from '../../../src/bench/plan.ts';
import { failedRun, labName, labTitle, resultsBaseName, runFromPeer, runFromReport, uniqueBaseName, type BenchResults } from '../../../src/bench/results.ts';
import { WEB } from '../../../src/bench/workloads.ts';
import { DEFAULT_FONT_FILE } from '../../../src/charts/render.ts';
import { peerMove, report, results } from './fixtures.ts';

const rows = cellRows(WEB, ['normal', 'page-server', 'pc-lazy'], { haproxy: true, peer: true });
const row = (id: string) => rows.find((r) => r.id === id)!;

describe('runs from reports', () => {
  it("keeps a Ferry report's columns, bytes, frozen time and pages, and the report itself", () => {
    const r = report({ rounds: [{ round: 1, pagesWritten: 8000, pagesSkipped: 0, seconds: 2 }], criu: { frozenMs: 700, pagesWritten: 500, pagesSkipped: 7500, pagesLazy: 20 } });
    const run = runFromReport(row('page-server'), 3, r, false);
    expect(run).toMatchObject({ row: 'page-server', run: 3, from: 'lab-1', to: 'lab-2', outcome: 'migrated', bytes: 256 * 1048576, frozenMs: 700, pages: { round1: 8000, final: 520 } });
    expect(run.times).toBe(r.times);
    expect(run.report).toBe(r);
    expect(run.client).toBeUndefined();
  });

  it("drops CRIU's frozen time for lazy dumps (CRIU 4.2 writes zeros there) and keeps failures' words", () => {
    const run = runFromReport(row('pc-lazy'), 1, report({ outcome: 'rolled-back', error: 'restore failed', runsOn: 'lab-1' }), true);
    expect(run.frozenMs).toBeNull();
    expect(run.outcome).toBe('rolled-back');
    expect(run.error).toBe('restore failed');
  });

  it("maps a Podman move onto Table II's columns, CRIU's frozen time and pages written", () => {
    const run = runFromPeer(PEER_ROW, 2, peerMove());
    expect(run).toMatchObject({ row: 'podman', run: 2, outcome: 'migrated', bytes: 260 * 1048576, frozenMs: 1200, pages: { round1: null, final: 65600 } });
    expect(run.times).toEqual({ preDump: null, preCopy: null, preMigration: null, checkpoint: 1.3, transfer: 1.0, restore: 2.0, downtime: 4.4, total: 4.6 });
    expect(run.peer).toBeDefined();
  });

  it('records a migration that threw as failed, with nothing measured', () => {
    expect(failedRun(row('normal'), 1, 'lab-1', 'lab-2', 'refused')).toMatchObject({ outcome: 'failed', error: 'refused', bytes: 0, frozenMs: null, times: { downtime: null } });
  });
});

describe('names', () => {
  it('names results by UTC date, lab and link, and never overwrites', () => {
    expect(resultsBaseName('2026-12-01T23:59:00.000Z', 'namespace', 'wan')).toBe('2026-12-01-namespace-wan');
    const taken = new Set(['x', 'x-2']);
    expect(uniqueBaseName('y', (n) => taken.has(n))).toBe('y');
    expect(uniqueBaseName('x', (n) => taken.has(n))).toBe('x-3');
  });

  it("calls the namespace lab by its name and says what each lab is", () => {
    expect(labName('local')).toBe('namespace');
    expect(labName('qemu')).toBe('qemu');
    expect(labTitle('qemu')).toContain('stock Debian kernel');
    expect(labTitle('aws')).toBe('environment aws');
  });
});

describe.skipIf(!existsSync(DEFAULT_FONT_FILE))(`writeOutputs (needs ${DEFAULT_FONT_FILE}: apt-get install fonts-dejavu-core)`, () => {
  it('writes the JSON, the Markdown and the charts side by side, a second run of the day beside the first', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-out-'));
    try {
      const res = results();
      const first = await writeOutputs(res, dir);
      expect(first.files.json).toBe(path.join(dir, '2026-12-01-namespace-lan.json'));
      expect(first.files.markdown).toBe(path.join(dir, '2026-12-01-namespace-lan.md'));
      const back = JSON.parse(await readFile(first.files.json, 'utf8')) as BenchResults;
      expect(back.schema).toBe(1);
      expect(back.cells[1]!.runs).toHaveLength(res.cells[1]!.runs.length);
      expect(back.link.measurements).toHaveLength(2);
      expect(await readFile(first.files.markdown, 'utf8')).toContain('## web, 256 MiB');
      expect(first.headlines.find((h) => h.key === 'best-vs-normal')!.value).not.toBeNull();
      const second = await writeOutputs(res, dir);
      expect(path.basename(second.files.json)).toBe('2026-12-01-namespace-lan-2.json');
      expect((await readdir(dir)).sort()).toEqual([
        '2026-12-01-namespace-lan-2-downtime.png', '2026-12-01-namespace-lan-2-phases.png', '2026-12-01-namespace-lan-2.json', '2026-12-01-namespace-lan-2.md',
        '2026-12-01-namespace-lan-downtime.png', '2026-12-01-namespace-lan-phases.png', '2026-12-01-namespace-lan.json', '2026-12-01-namespace-lan.md',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
