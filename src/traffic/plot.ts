import { TrafficError, TrafficErrorCode } from './errors.ts';
import { GLYPH_HEIGHT, textWidth } from './font.ts';
import { encodePngRgb } from './png.ts';
import { Raster, type Rgb } from './raster.ts';
import { isFailure, type Sample } from '../probe/samples.ts';

export { isPng, readPngHeader } from './png.ts';
export type { Rgb } from './raster.ts';

/** A migration phase on the probe's clock (ms since the probe started). */
export interface PlotPhase {
  name: string;
  startMs: number;
  endMs: number;
}

export interface PlotOptions {
  /** @defaultValue 960 */
  width?: number;
  /** @defaultValue 540 */
  height?: number;
  /**
   * Tick numbers, axis titles and a phase legend, in the built-in bitmap font.
   * @defaultValue true
   */
  labels?: boolean;
  /** Band colour per phase name, over the default palette. */
  colors?: Readonly<Record<string, Rgb>>;
}

export const COLORS = {
  background: [255, 255, 255] as Rgb,
  axis: [0, 0, 0] as Rgb,
  text: [40, 40, 40] as Rgb,
  latency: [31, 78, 121] as Rgb,
  failure: [214, 39, 40] as Rgb,
};

/** Light tints so the latency line and the red failures stay readable on top of them. */
export const PHASE_COLORS: readonly Rgb[] = [
  [174, 199, 232],
  [255, 187, 120],
  [152, 223, 138],
  [197, 176, 213],
  [247, 182, 210],
  [219, 219, 141],
  [158, 218, 229],
  [196, 156, 148],
  [199, 199, 199],
  [255, 152, 150],
];

/** One colour per distinct name, palette order by first appearance; repeated phases (pre-copy rounds) share one. */
export function phaseColors(phases: readonly PlotPhase[], overrides: Readonly<Record<string, Rgb>> = {}): Map<string, Rgb> {
  const out = new Map<string, Rgb>();
  for (const p of phases) {
    if (out.has(p.name)) continue;
    out.set(p.name, overrides[p.name] ?? PHASE_COLORS[out.size % PHASE_COLORS.length]!);
  }
  return out;
}

/** The plot area in pixels (edges inclusive): axes sit on `left` and `bottom`. */
export interface Frame {
  left: number;
  top: number;
  right: number;
  bottom: number;
  /** Font scale for labels. */
  scale: number;
}

export function plotFrame(width: number, height: number, labels = true): Frame {
  if (!labels) return { left: 8, top: 8, right: width - 9, bottom: height - 9, scale: 1 };
  const scale = width >= 480 && height >= 240 ? 2 : 1;
  const glyphH = GLYPH_HEIGHT * scale;
  return {
    left: textWidth('000000', scale) + 12,
    top: glyphH + 12,
    right: width - 1 - textWidth('000', scale),
    bottom: height - 1 - (10 + 2 * glyphH + 6),
    scale,
  };
}

/** A 1-2-5 step giving about `count` intervals up to `max`. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

/** Ticks from 0 through the first multiple of the step at or above `max`. */
export function niceTicks(max: number, count = 5): number[] {
  const step = niceStep(max, count);
  const n = Math.max(1, Math.ceil(max / step - 1e-9));
  // toPrecision trims float dust (3 * 0.2 = 0.6000000000000001) that would show in labels.
  return Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

export function formatTick(v: number, step: number): string {
  if (step >= 1) {
    const r = Math.round(v);
    return r >= 10_000 && r % 1000 === 0 ? `${r / 1000}k` : String(r);
  }
  return v.toFixed(Math.min(3, Math.ceil(-Math.log10(step))));
}

/**
 * Where probe time `t` falls on the request axis: fractional request number, interpolated
 * between the start times around it, clamped to the first and last request.
 */
export function requestPosition(starts: readonly number[], t: number): number {
  const n = starts.length;
  if (n === 0 || t <= starts[0]!) return 0;
  if (t >= starts[n - 1]!) return n - 1;
  let lo = 0;
  let hi = n - 1; // invariant: starts[lo] <= t < starts[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= t) lo = mid;
    else hi = mid;
  }
  const a = starts[lo]!;
  const b = starts[hi]!;
  return b > a ? lo + (t - a) / (b - a) : lo;
}

/**
 * Response time (y, ms) against request number (x) with the migration phases as shaded
 * bands, as in the paper's Fig. 4. Requests are numbered by start time. With a closed-loop
 * probe no request starts while the service is frozen, so frozen phases are narrow on this
 * axis: they are drawn at least 2 px wide, and the frozen time shows as the latency spike.
 */
export function renderPlotPng(samples: readonly Sample[], phases: readonly PlotPhase[], opts: PlotOptions = {}): Buffer {
  const width = opts.width ?? 960;
  const height = opts.height ?? 540;
  const labels = opts.labels ?? true;
  const f = plotFrame(width, height, labels);
  if (!Number.isInteger(width) || !Number.isInteger(height) || f.right - f.left < 16 || f.bottom - f.top < 16) {
    throw new TrafficError(TrafficErrorCode.InvalidOption, `plot size ${width}x${height} leaves no room for the plot`, { width, height });
  }
  const img = new Raster(width, height, COLORS.background);
  const sorted = [...samples].sort((a, b) => a.startMs - b.startMs || a.seq - b.seq);
  const starts = sorted.map((s) => s.startMs);
  const xMax = Math.max(1, sorted.length - 1);
  const maxLatency = sorted.reduce((m, s) => Math.max(m, s.latencyMs), 0);
  const yTicks = niceTicks(maxLatency);
  const yMax = yTicks[yTicks.length - 1]!;
  const xTicks = niceTicks(xMax, Math.max(2, Math.min(10, Math.floor((f.right - f.left) / 80))));
  const xPix = (pos: number): number => f.left + Math.round((pos / xMax) * (f.right - f.left));
  const yPix = (ms: number): number => f.bottom - Math.round((Math.min(ms, yMax) / yMax) * (f.bottom - f.top));

  const colors = phaseColors(phases, opts.colors);
  for (const p of phases) {
    let x0 = xPix(requestPosition(starts, p.startMs));
    let x1 = xPix(requestPosition(starts, p.endMs));
    if (x1 - x0 < 1) x1 = x0 + 1;
    x0 = Math.max(f.left + 1, x0);
    x1 = Math.min(f.right, x1);
    img.fillRect(x0, f.top, x1, f.bottom - 1, colors.get(p.name)!);
  }

  let prev: [number, number] | null = null;
  sorted.forEach((s, i) => {
    const pt: [number, number] = [xPix(i), yPix(s.latencyMs)];
    if (prev) img.line(prev[0], prev[1], pt[0], pt[1], COLORS.latency);
    else img.set(pt[0], pt[1], COLORS.latency);
    prev = pt;
  });
  const r = f.scale;
  sorted.forEach((s, i) => {
    if (!isFailure(s)) return;
    const x = xPix(i);
    const y = yPix(s.latencyMs);
    img.fillRect(Math.max(f.left + 1, x - r), y - r, x + r, Math.min(f.bottom - 1, y + r), COLORS.failure);
  });

  img.line(f.left, f.top, f.left, f.bottom, COLORS.axis);
  img.line(f.left, f.bottom, f.right, f.bottom, COLORS.axis);
  const tick = 3 * f.scale;
  for (const v of yTicks) img.line(f.left - tick, yPix(v), f.left, yPix(v), COLORS.axis);
  for (const v of xTicks) if (v <= xMax) img.line(xPix(v), f.bottom, xPix(v), f.bottom + tick, COLORS.axis);

  if (labels) drawLabels(img, f, { yTicks, xTicks, xMax, yPix, xPix, colors });
  return encodePngRgb(width, height, img.data);
}

function drawLabels(
  img: Raster,
  f: Frame,
  a: { yTicks: number[]; xTicks: number[]; xMax: number; yPix: (v: number) => number; xPix: (v: number) => number; colors: Map<string, Rgb> },
): void {
  const s = f.scale;
  const gh = GLYPH_HEIGHT * s;
  const tick = 3 * s;
  const yStep = a.yTicks[1] ?? 1;
  for (const v of a.yTicks) {
    const t = formatTick(v, yStep);
    img.text(f.left - tick - 3 - textWidth(t, s), a.yPix(v) - Math.floor(gh / 2), t, COLORS.text, s);
  }
  const xStep = a.xTicks[1] ?? 1;
  for (const v of a.xTicks) {
    if (v > a.xMax) continue;
    const t = formatTick(v, xStep);
    img.text(a.xPix(v) - Math.floor(textWidth(t, s) / 2), f.bottom + tick + 3, t, COLORS.text, s);
  }
  const xTitle = 'request #';
  img.text(f.right - textWidth(xTitle, s), f.bottom + tick + 3 + gh + 4, xTitle, COLORS.text, s);
  const legendY = f.top - gh - 6;
  img.text(4, legendY, 'ms', COLORS.text, s);
  let x = f.left + 4;
  for (const [name, c] of a.colors) {
    const w = gh + 3 + textWidth(name, s) + 4 * s;
    if (x + w > img.width) break;
    img.fillRect(x, legendY, x + gh - 1, legendY + gh - 1, c);
    img.text(x + gh + 3, legendY, name, COLORS.text, s);
    x += w + 4 * s;
  }
}
