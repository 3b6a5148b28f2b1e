import type { TopLevelSpec } from 'vega-lite';
import { ErrorCode, FerryError } from '../errors.ts';
import { specToPng, specToSvg, type RenderOptions } from './render.ts';
import { checkSize } from './size.ts';
import { CHART_CONFIG } from './style.ts';

/** One benchmark cell: a method at a memory size. */
export interface DowntimePoint {
  /** Method name as Ferry spells it (`page-server`), or a peer's (`podman`). */
  method: string;
  /** Container memory in MiB. */
  mib: number;
  /** Mean downtime in seconds. */
  downtimeS: number;
  /** Standard deviation of the downtime over the runs; drawn as an error bar when given. */
  sdS?: number;
}

export interface DowntimeBySizeOptions {
  /** @defaultValue 'Downtime against memory size' */
  title?: string;
  /** Where the numbers came from (lab, link, runs), under the title. */
  subtitle?: string;
  /** Whole picture, in SVG units. @defaultValue 720 */
  width?: number;
  /** @defaultValue 440 */
  height?: number;
  /**
   * Log-scaled downtime too (the size axis always is): use it when methods differ by orders of magnitude.
   * @defaultValue false
   */
  logY?: boolean;
}

/** Vega expression for a size tick: 64 MiB, 1 GiB. */
const SIZE_LABEL = "datum.value >= 1024 ? format(datum.value / 1024, '~r') + ' GiB' : format(datum.value, '~r') + ' MiB'";

/**
 * Downtime (y, s) against container memory (x, MiB, log scale), one line per method, points at
 * the measured sizes, error bars of ± one standard deviation where given.
 */
export function downtimeBySizeSpec(points: readonly DowntimePoint[], opts: DowntimeBySizeOptions = {}): TopLevelSpec {
  const width = opts.width ?? 720;
  const height = opts.height ?? 440;
  checkSize(width, height, { width: 320, height: 200 });
  for (const p of points) {
    if (!(p.mib > 0) || !(p.downtimeS >= 0) || (p.sdS !== undefined && !(p.sdS >= 0))) {
      throw new FerryError(ErrorCode.ChartInvalid, `downtime point for ${p.method} at ${p.mib} MiB is out of range (size must be > 0, downtime and sd >= 0)`, { details: { ...p } });
    }
  }
  const logY = opts.logY ?? false;
  // On a log axis a bar reaching 0 or below has no place: keep its lower end just above 0.
  const floor = (v: number): number => (logY ? Math.max(v, 1e-3) : Math.max(v, 0));
  const methods = [...new Set(points.map((p) => p.method))];
  const sizes = [...new Set(points.map((p) => p.mib))].sort((a, b) => a - b);
  const values = points.map((p) => ({
    method: p.method,
    mib: p.mib,
    downtime: floor(p.downtimeS),
    ...(p.sdS !== undefined ? { lo: floor(p.downtimeS - p.sdS), hi: p.downtimeS + p.sdS } : {}),
  }));

  const x = { field: 'mib', type: 'quantitative' as const, title: 'container memory (log scale)', scale: { type: 'log' as const, nice: false, padding: 24 }, axis: { values: sizes, labelExpr: SIZE_LABEL, grid: true } };
  const y = { field: 'downtime', type: 'quantitative' as const, title: logY ? 'downtime (s, log scale)' : 'downtime (s)', scale: logY ? { type: 'log' as const } : { zero: true } };
  const color = { field: 'method', type: 'nominal' as const, title: 'method', scale: { domain: methods } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title ?? 'Downtime against memory size', ...(opts.subtitle ? { subtitle: opts.subtitle } : {}) },
    width,
    height,
    autosize: { type: 'fit', contains: 'padding' },
    config: CHART_CONFIG,
    data: { values },
    encoding: { x, color },
    layer: [
      { mark: { type: 'line', strokeWidth: 2 }, encoding: { y } },
      { mark: { type: 'point', filled: true, size: 60, opacity: 1 }, encoding: { y, shape: { field: 'method', type: 'nominal', scale: { domain: methods } } } },
      {
        transform: [{ filter: 'isValid(datum.lo)' }],
        mark: { type: 'errorbar', ticks: { size: 8 } },
        encoding: { y: { field: 'lo', type: 'quantitative', title: y.title }, y2: { field: 'hi' } },
      },
    ],
  } as TopLevelSpec;
}

export function downtimeBySizeSvg(points: readonly DowntimePoint[], opts: DowntimeBySizeOptions & RenderOptions = {}): Promise<string> {
  return specToSvg(downtimeBySizeSpec(points, opts), opts);
}

export function downtimeBySizePng(points: readonly DowntimePoint[], opts: DowntimeBySizeOptions & RenderOptions = {}): Promise<Buffer> {
  return specToPng(downtimeBySizeSpec(points, opts), opts);
}
