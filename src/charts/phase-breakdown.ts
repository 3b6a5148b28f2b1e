import type { TopLevelSpec } from 'vega-lite';
import { ErrorCode, FerryError } from '../errors.ts';
import { specToPng, specToSvg, type RenderOptions } from './render.ts';
import { checkSize } from './size.ts';
import { CHART_CONFIG, formatMiB, formatSeconds, phaseColor } from './style.ts';

/** The Table II columns a bar is made of, keyed as in the engine's PhaseTimes. */
export const BREAKDOWN_PHASES = [
  { key: 'preDump', phase: 'pre-dump' },
  { key: 'preCopy', phase: 'pre-copy' },
  { key: 'checkpoint', phase: 'checkpoint' },
  { key: 'transfer', phase: 'transfer' },
  { key: 'restore', phase: 'restore' },
] as const;

export type BreakdownKey = (typeof BREAKDOWN_PHASES)[number]['key'];

/** One bar: a method's mean phase times (seconds), optionally at one memory size. */
export interface PhaseBreakdownRow {
  method: string;
  /** Container memory; rows with sizes are grouped by size, one panel each. */
  mib?: number;
  /** Seconds per column; a missing or null column is a phase the method does not have. */
  seconds: Partial<Record<BreakdownKey, number | null>>;
}

export interface PhaseBreakdownOptions {
  /** @defaultValue 'Where the time goes, per method' */
  title?: string;
  /** Where the numbers came from (lab, link, runs), under the title. */
  subtitle?: string;
  /**
   * Width of the plot area of one panel, in SVG units (the picture adds the labels and legend).
   * @defaultValue 560
   */
  width?: number;
  /**
   * Height of one bar's band.
   * @defaultValue 30
   */
  barStep?: number;
}

/**
 * Horizontal stacked bars, one per method (per size when sizes are given): pre-dump and
 * pre-copy happen while the container runs; checkpoint, transfer and restore while it is
 * frozen. Each bar ends with its total.
 */
export function phaseBreakdownSpec(rows: readonly PhaseBreakdownRow[], opts: PhaseBreakdownOptions = {}): TopLevelSpec {
  const width = opts.width ?? 560;
  const step = opts.barStep ?? 30;
  checkSize(width, Math.round(step), { width: 200, height: 12 });
  const segments: { method: string; size: string; mib: number; phase: string; order: number; seconds: number }[] = [];
  const totals: { method: string; size: string; mib: number; total: number; label: string }[] = [];
  for (const r of rows) {
    const size = r.mib !== undefined ? formatMiB(r.mib) : '';
    let total = 0;
    BREAKDOWN_PHASES.forEach(({ key, phase }, order) => {
      const s = r.seconds[key];
      if (s === undefined || s === null) return;
      if (!(s >= 0)) throw new FerryError(ErrorCode.ChartInvalid, `${phase} time of ${r.method} must be >= 0 s, got ${s}`, { details: { method: r.method, phase, seconds: s } });
      segments.push({ method: r.method, size, mib: r.mib ?? 0, phase, order, seconds: s });
      total += s;
    });
    totals.push({ method: r.method, size, mib: r.mib ?? 0, total, label: formatSeconds(total) });
  }
  const present = BREAKDOWN_PHASES.map((p) => p.phase).filter((p) => segments.some((s) => s.phase === p));
  const methods = [...new Set(rows.map((r) => r.method))];
  const bySize = rows.some((r) => r.mib !== undefined);

  const y = { field: 'method', type: 'nominal' as const, title: null, sort: methods };
  const x = { field: 'seconds', type: 'quantitative' as const, title: 'seconds (mean)', axis: { labelFlush: false } };
  const bars = {
    data: { values: segments },
    mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      y,
      x: { ...x, stack: 'zero' },
      color: { field: 'phase', type: 'nominal', title: 'phase', scale: { domain: present, range: present.map(phaseColor) }, legend: { orient: 'bottom', direction: 'horizontal' } },
      order: { field: 'order', type: 'quantitative' },
    },
  };
  const labels = {
    data: { values: totals },
    mark: { type: 'text', align: 'left', dx: 4, fontSize: 11, color: '#333333' },
    encoding: { y, x: { field: 'total', type: 'quantitative' }, text: { field: 'label' } },
  };
  const head = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title ?? 'Where the time goes, per method', ...(opts.subtitle ? { subtitle: opts.subtitle } : {}) },
    config: CHART_CONFIG,
  };
  const panel = { width, height: { step } };
  if (!bySize) return { ...head, ...panel, layer: [bars, labels] } as TopLevelSpec;
  // One panel per size, sizes in ascending order, sharing the time axis so bars compare across panels.
  const sizes = [...new Set(rows.filter((r) => r.mib !== undefined).sort((a, b) => a.mib! - b.mib!).map((r) => formatMiB(r.mib!)))];
  const layered = [
    { mark: bars.mark, encoding: bars.encoding, transform: [{ filter: { field: 'kind', equal: 'segment' } }] },
    { mark: labels.mark, encoding: labels.encoding, transform: [{ filter: { field: 'kind', equal: 'total' } }] },
  ];
  return {
    ...head,
    data: { values: [...segments.map((s) => ({ ...s, kind: 'segment' })), ...totals.map((t) => ({ ...t, kind: 'total' }))] },
    facet: { row: { field: 'size', type: 'ordinal', title: null, sort: sizes, header: { labelAngle: 0, labelAlign: 'left', labelFontSize: 12 } } },
    // One method axis for every panel: a method keeps its row even where a size lacks it.
    spec: { ...panel, layer: layered },
  } as TopLevelSpec;
}

export function phaseBreakdownSvg(rows: readonly PhaseBreakdownRow[], opts: PhaseBreakdownOptions & RenderOptions = {}): Promise<string> {
  return specToSvg(phaseBreakdownSpec(rows, opts), opts);
}

export function phaseBreakdownPng(rows: readonly PhaseBreakdownRow[], opts: PhaseBreakdownOptions & RenderOptions = {}): Promise<Buffer> {
  return specToPng(phaseBreakdownSpec(rows, opts), opts);
}
