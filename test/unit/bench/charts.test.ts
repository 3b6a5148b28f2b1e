import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarizeCell } from '../../../src/bench/aggregate.ts';
import { breakdownRows, chartSubtitle, downtimePoints, responseTimeSource, writeCharts } from '../../../src/bench/charts.ts';
import { downtimeBySizeSpec } from '../../../src/charts/downtime-by-size.ts';
import { phaseBreakdownSpec } from '../../../src/charts/phase-breakdown.ts';
import { readPngHeader } from '../../../src/charts/png-info.ts';
import { DEFAULT_FONT_FILE } from '../../../src/charts/render.ts';
import { results, webCell, wordpressCell } from './fixtures.ts';

const res = results();
const cells = res.cells.map((c) => summarizeCell(c, res.link.measurements));

describe('chart data from a run', () => {
  it('gives one downtime series per row, a point per size, with its sd', () => {
    const pts = downtimePoints(cells);
    expect([...new Set(pts.map((p) => p.method))]).toEqual(['normal', 'page-server', 'page-server+haproxy', 'lazy', 'podman']);
    const ps = pts.filter((p) => p.method === 'page-server');
    expect(ps.map((p) => p.mib)).toEqual([64, 256, 1024]);
    expect(ps[1]!.downtimeS).toBeCloseTo(1.3, 10);
    expect(ps[1]!.sdS).toBeGreaterThan(0);
    // the spec the chart module builds from them: log-scaled size axis, ticks at the sizes
    const spec = downtimeBySizeSpec(pts) as unknown as { encoding: { x: { scale: { type: string }; axis: { values: number[] } } } };
    expect(spec.encoding.x.scale.type).toBe('log');
    expect(spec.encoding.x.axis.values).toEqual([64, 256, 1024]);
  });

  it('leaves the one-size workloads (kv) out of the size charts', () => {
    const kv = { ...webCell(64), workload: 'kv', title: 'kv, 64 MiB' };
    const withKv = [...cells, summarizeCell(kv, [])];
    expect(downtimePoints(withKv)).toHaveLength(downtimePoints(cells).length);
    expect(breakdownRows(withKv)).toHaveLength(breakdownRows(cells).length);
    // The WordPress group is one cell too: its figures are in its table, not on a size axis.
    const withWp = [...cells, summarizeCell(wordpressCell(), [])];
    expect(downtimePoints(withWp)).toHaveLength(downtimePoints(cells).length);
    expect(breakdownRows(withWp)).toHaveLength(breakdownRows(cells).length);
  });

  it('gives phase bars per row and size, with null where a method has no such phase', () => {
    const rows = breakdownRows(cells);
    const normal = rows.find((r) => r.method === 'normal' && r.mib === 256)!;
    expect(normal.seconds.preDump).toBeNull();
    expect(normal.seconds.transfer).toBeCloseTo(2.3, 10);
    const spec = phaseBreakdownSpec(rows) as unknown as { facet?: unknown };
    expect(spec.facet).toBeDefined(); // one panel per size
  });

  it("picks an HAProxy run's response-time chart at the largest size", () => {
    expect(responseTimeSource(res)).toBe('/bench/m-1024-1.png');
    const noFront = results([webCell(64)]);
    noFront.cells[0]!.rows = noFront.cells[0]!.rows.filter((r) => !r.front);
    expect(responseTimeSource(noFront)).toBeUndefined();
  });

  it('says where the numbers came from under each title', () => {
    expect(chartSubtitle(res)).toBe('namespace lab, link lan, 2 runs per point, 2026-12-01');
  });
});

describe.skipIf(!existsSync(DEFAULT_FONT_FILE))(`writeCharts (needs ${DEFAULT_FONT_FILE}: apt-get install fonts-dejavu-core)`, () => {
  it('writes the downtime and phase PNGs and copies the response-time chart beside the results', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-charts-'));
    try {
      const probePng = path.join(dir, 'probe.png');
      await writeFile(probePng, Buffer.from('not really a png'));
      const r = results();
      for (const c of r.cells) for (const run of c.runs) if (run.responseTimePng) run.responseTimePng = probePng;
      const files = await writeCharts(dir, '2026-12-01-namespace-lan', r, cells);
      expect(files.downtime).toBe(path.join(dir, '2026-12-01-namespace-lan-downtime.png'));
      expect(files.phases).toBe(path.join(dir, '2026-12-01-namespace-lan-phases.png'));
      expect(readPngHeader(await readFile(files.downtime!))?.width).toBeGreaterThan(500);
      expect(readPngHeader(await readFile(files.phases!))?.height).toBeGreaterThan(100);
      expect(await readFile(files.responseTime!, 'utf8')).toBe('not really a png');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes nothing for a run without size cells', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-charts-'));
    try {
      expect(await writeCharts(dir, 'x', { ...results([]), cells: [] }, [])).toEqual({});
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
