/**
 * The benchmark's pictures, drawn with src/charts: downtime against memory size per row (log-scaled
 * size), the phase breakdown as stacked bars (one panel per size), and one HAProxy run's response
 * time. The data mapping is pure; writeCharts writes the PNGs beside the results.
 */
import { existsSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { downtimeBySizePng, type DowntimePoint } from '../charts/downtime-by-size.ts';
import { phaseBreakdownPng, type PhaseBreakdownRow } from '../charts/phase-breakdown.ts';
import type { RenderOptions } from '../charts/render.ts';
import type { CellSummary } from './aggregate.ts';
import type { BenchResults } from './results.ts';
import { BENCH_WORKLOADS } from './workloads.ts';

const swept = (c: CellSummary) => BENCH_WORKLOADS.find((w) => w.name === c.workload)?.sizing === 'sweep';

/** Each row's mean downtime (± sd) at each size of the swept workload, series named by row id. */
export function downtimePoints(cells: readonly CellSummary[]): DowntimePoint[] {
  return cells.filter(swept).flatMap((c) =>
    c.rows.filter((r) => r.columns.downtime).map((r) => ({ method: r.row.id, mib: c.mib, downtimeS: r.columns.downtime!.mean, sdS: r.columns.downtime!.sd })),
  );
}

/** Each row's mean phase times at each size of the swept workload. */
export function breakdownRows(cells: readonly CellSummary[]): PhaseBreakdownRow[] {
  return cells.filter(swept).flatMap((c) =>
    c.rows
      .filter((r) => r.columns.checkpoint || r.columns.transfer || r.columns.restore)
      .map((r) => ({
        method: r.row.id,
        mib: c.mib,
        seconds: {
          preDump: r.columns.preDump?.mean ?? null,
          preCopy: r.columns.preCopy?.mean ?? null,
          checkpoint: r.columns.checkpoint?.mean ?? null,
          transfer: r.columns.transfer?.mean ?? null,
          restore: r.columns.restore?.mean ?? null,
        },
      })),
  );
}

/** The HAProxy run whose response-time chart the results show: at the largest size, the first that moved. */
export function responseTimeSource(res: BenchResults): string | undefined {
  const cells = [...res.cells].filter((c) => c.rows.some((r) => r.front)).sort((a, b) => b.mib - a.mib);
  for (const c of cells) {
    const fronted = new Set(c.rows.filter((r) => r.front).map((r) => r.id));
    const run = c.runs.find((r) => fronted.has(r.row) && r.outcome === 'migrated' && r.responseTimePng);
    if (run) return run.responseTimePng;
  }
  return undefined;
}

export function chartSubtitle(res: BenchResults): string {
  return `${res.meta.labTitle.split(' (')[0]}, link ${res.link.profile.name}, ${res.meta.runs} runs per point, ${res.meta.date.slice(0, 10)}${res.meta.quick ? ' (--quick: a harness check)' : ''}`;
}

export interface ChartFiles {
  downtime?: string;
  phases?: string;
  responseTime?: string;
}

/** Writes `<base>-downtime.png`, `<base>-phases.png` and `<base>-response-time.png` in `dir`, for what the results hold. */
export async function writeCharts(dir: string, base: string, res: BenchResults, cells: readonly CellSummary[], opts: RenderOptions = {}): Promise<ChartFiles> {
  const out: ChartFiles = {};
  const subtitle = chartSubtitle(res);
  const points = downtimePoints(cells);
  if (points.length) {
    out.downtime = path.join(dir, `${base}-downtime.png`);
    await writeFile(out.downtime, await downtimeBySizePng(points, { ...opts, subtitle, title: 'Downtime against memory size, per method (mean ± sd)' }));
  }
  const bars = breakdownRows(cells);
  if (bars.length) {
    out.phases = path.join(dir, `${base}-phases.png`);
    await writeFile(out.phases, await phaseBreakdownPng(bars, { ...opts, subtitle, title: 'Where the time goes, per method and size (means)' }));
  }
  const rt = responseTimeSource(res);
  // The probe wrote it during the run; a results file moved elsewhere may no longer find it.
  if (rt && existsSync(rt)) {
    out.responseTime = path.join(dir, `${base}-response-time.png`);
    await copyFile(rt, out.responseTime);
  }
  return out;
}
