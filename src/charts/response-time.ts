import type { TopLevelSpec } from 'vega-lite';
import { specToPng, specToSvg, type RenderOptions } from './render.ts';
import { checkSize } from './size.ts';
import { CHART_CONFIG, FAILURE_COLOR, FREEZE_COLOR, REQUEST_COLOR, formatSeconds, phaseColor } from './style.ts';

/** One request as the chart needs it (the load probe's samples map onto this). */
export interface RequestTiming {
  /** Start, in ms since the probe started. */
  startMs: number;
  /** Until the whole answer was read, or until the error. */
  latencyMs: number;
  /** Error or status outside 2xx/3xx. */
  failed: boolean;
}

/** A phase on the probe's clock (ms since the probe started). */
export interface PhaseBand {
  name: string;
  startMs: number;
  endMs: number;
}

/**
 * The span the probe's phase recorder calls 'downtime': from the freeze to the end of the
 * first successful health check on the target. Drawn as a bracket over the plot, not as a band,
 * because it overlaps checkpoint, transfer, restore and health.
 */
export const FREEZE_BAND = 'downtime';

/** Phases shaded by default: what happens to the container, not the bookkeeping around it. */
export const DEFAULT_BANDS: readonly string[] = ['pre-dump', 'pre-copy', 'switch', 'checkpoint', 'transfer', 'restore', 'health', 'rollback'];

export interface ResponseTimeData {
  requests: readonly RequestTiming[];
  phases: readonly PhaseBand[];
  /** For the title. */
  container?: string;
  /** For the title. */
  method?: string;
  /**
   * For the title, in seconds.
   * @defaultValue the length of the FREEZE_BAND span, when there is one
   */
  downtimeS?: number;
}

export interface ResponseTimeOptions {
  /**
   * Whole picture, axes and legends included, in SVG units (the PNG has `scale` times as many pixels).
   * @defaultValue 960
   */
  width?: number;
  /** @defaultValue 540 */
  height?: number;
  /**
   * Log-scaled response time: a frozen second and a 5 ms answer both stay readable.
   * @defaultValue true
   */
  logScale?: boolean;
  /**
   * Which phases are shaded, in legend order.
   * @defaultValue DEFAULT_BANDS
   */
  bands?: readonly string[];
  /** Added to the subtitle: where the data came from (lab, link, run). */
  note?: string;
}

const OUTCOMES = ['ok', 'failed'];
const X_TITLE = 'seconds since the probe started';
const X_AXIS = { labelFlush: false, tickMinStep: 0.1 };
/** Vega expression for a latency tick: 5 ms, 1 s, 1.5 s. */
const LATENCY_LABEL = "datum.value >= 1000 ? format(datum.value / 1000, '~r') + ' s' : format(datum.value, '~r') + ' ms'";

/** The 1-2-5 step at or beyond `v`, downwards or upwards. */
function step125(v: number, up: boolean): number {
  const e = Math.floor(Math.log10(v));
  const steps = [1, 2, 5, 10].map((m) => Number((m * 10 ** e).toPrecision(6)));
  return up ? steps.find((x) => x >= v * 0.9999)! : [...steps].reverse().find((x) => x <= v * 1.0001)!;
}

/** Log-axis bounds on 1-2-5 steps around the data: tight, but ticks still land on round numbers. */
export function logDomain(values: readonly number[]): [number, number] {
  if (values.length === 0) return [1, 1000];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const a = step125(lo, false);
  const b = step125(hi, true);
  return [a, b > a ? b : a * 10];
}

/** Tick values for a log axis: the ends, and every power of ten between them. */
export function logTicks([lo, hi]: readonly [number, number]): number[] {
  const out = new Set<number>([lo]);
  for (let e = Math.ceil(Math.log10(lo) - 1e-9); 10 ** e <= hi * 1.0001; e++) out.add(Number((10 ** e).toPrecision(6)));
  out.add(hi);
  return [...out].sort((a, b) => a - b);
}

/** Below this a log axis would stretch to meaningless decades; no real answer is faster. */
const MIN_LATENCY_MS = 0.1;

function titleOf(d: ResponseTimeData, downtimeS: number | undefined): string {
  const who = d.container ? `Response time while ${d.container} migrated` : 'Response time during the migration';
  const how = [d.method, downtimeS !== undefined ? `downtime ${formatSeconds(downtimeS)}` : undefined].filter((x) => x !== undefined);
  return how.length > 0 ? `${who} (${how.join(', ')})` : who;
}

/**
 * The paper's Fig. 4, on a time axis: each request a dot at its start (seconds since the probe
 * started) and its response time; failures as red crosses; the engine's phases as shaded bands;
 * the freeze as a bracket above the plot. On a request-number axis a frozen second holds almost
 * no requests and its phases vanish; on a time axis they keep their true width.
 */
export function responseTimeSpec(d: ResponseTimeData, opts: ResponseTimeOptions = {}): TopLevelSpec {
  const width = opts.width ?? 960;
  const height = opts.height ?? 540;
  checkSize(width, height, { width: 320, height: 200 });
  const logScale = opts.logScale ?? true;
  const shown = opts.bands ?? DEFAULT_BANDS;

  const bands = d.phases.filter((p) => shown.includes(p.name)).map((p) => ({ phase: p.name, start: p.startMs / 1000, end: Math.max(p.endMs, p.startMs) / 1000 }));
  const present = shown.filter((name) => bands.some((b) => b.phase === name));
  const freeze = d.phases.find((p) => p.name === FREEZE_BAND);
  const downtimeS = d.downtimeS ?? (freeze ? (freeze.endMs - freeze.startMs) / 1000 : undefined);

  const points = [...d.requests]
    .sort((a, b) => a.startMs - b.startMs)
    .map((r) => ({ t: r.startMs / 1000, ms: logScale ? Math.max(r.latencyMs, MIN_LATENCY_MS) : r.latencyMs, outcome: r.failed ? 'failed' : 'ok' }));
  const failed = points.filter((p) => p.outcome === 'failed').length;

  let tMax = 0;
  for (const r of d.requests) tMax = Math.max(tMax, r.startMs / 1000);
  for (const p of d.phases) tMax = Math.max(tMax, p.endMs / 1000);

  const x = { field: 'start', type: 'quantitative' as const, scale: { domain: [0, tMax > 0 ? tMax : 1], nice: false } };
  const yDomain = logDomain(points.map((p) => p.ms));
  const layer: unknown[] = [];
  if (bands.length > 0) {
    layer.push({
      name: 'phases',
      data: { values: bands },
      mark: { type: 'rect', opacity: 0.35 },
      encoding: {
        x: { ...x, title: X_TITLE, axis: X_AXIS },
        x2: { field: 'end' },
        color: { field: 'phase', type: 'nominal', title: 'phase', scale: { domain: present, range: present.map(phaseColor) }, legend: { orient: 'right', symbolType: 'square', symbolOpacity: 0.6 } },
      },
    });
  }
  // Color and shape share field, domain and title, so one legend shows both; failures are a layer
  // of their own, after the rest, so they are drawn larger and on top of the dots around them.
  const outcome = {
    color: { field: 'outcome', type: 'nominal', title: 'request', scale: { domain: OUTCOMES, range: [REQUEST_COLOR, FAILURE_COLOR] } },
    shape: { field: 'outcome', type: 'nominal', title: 'request', scale: { domain: OUTCOMES, range: ['circle', 'cross'] } },
  };
  const xPoint = { field: 't', type: 'quantitative', title: X_TITLE, scale: x.scale, axis: X_AXIS };
  const yPoint = {
    field: 'ms',
    type: 'quantitative',
    title: logScale ? 'response time (log scale)' : 'response time',
    scale: logScale ? { type: 'log', domain: yDomain, nice: false } : { zero: true },
    axis: logScale ? { values: logTicks(yDomain), labelExpr: LATENCY_LABEL } : { labelExpr: LATENCY_LABEL },
  };
  // Nested, so the two point layers share one colour scale, apart from the phases' colours.
  layer.push({
    layer: [
      { name: 'requests', data: { values: points.filter((p) => p.outcome === 'ok') }, mark: { type: 'point', filled: true, opacity: 0.6, size: 12 }, encoding: { x: xPoint, y: yPoint, ...outcome } },
      { name: 'failures', data: { values: points.filter((p) => p.outcome === 'failed') }, mark: { type: 'point', filled: true, opacity: 0.7, size: 70 }, encoding: { x: xPoint, y: yPoint, ...outcome } },
    ],
  });
  if (freeze) {
    const win = [{ start: freeze.startMs / 1000, end: Math.max(freeze.endMs, freeze.startMs) / 1000, label: `frozen ${formatSeconds((freeze.endMs - freeze.startMs) / 1000)}` }];
    // Pixel positions above the plot area: the bracket never hides a dot.
    layer.push({
      name: 'freeze',
      data: { values: win },
      mark: { type: 'rule', color: FREEZE_COLOR, strokeWidth: 2 },
      encoding: { x, x2: { field: 'end' }, y: { value: -6 } },
    });
    for (const edge of ['start', 'end'] as const) {
      layer.push({
        name: `freeze-${edge}`,
        data: { values: win },
        mark: { type: 'rule', color: FREEZE_COLOR, strokeDash: [3, 3], opacity: 0.7 },
        encoding: { x: { ...x, field: edge }, y: { value: -10 }, y2: { value: { expr: 'height' } } },
      });
    }
    layer.push({
      name: 'freeze-label',
      data: { values: win },
      transform: [{ calculate: '(datum.start + datum.end) / 2', as: 'mid' }],
      mark: { type: 'text', color: FREEZE_COLOR, baseline: 'bottom', dy: -10, fontSize: 12 },
      encoding: { x: { ...x, field: 'mid' }, y: { value: 0 }, text: { field: 'label' } },
    });
  }

  const summary = [`${d.requests.length.toLocaleString('en-US')} requests, ${failed.toLocaleString('en-US')} failed; each dot is one request, at its start`, ...(opts.note ? [opts.note] : [])].join('. ');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: titleOf(d, downtimeS), subtitle: summary, offset: freeze ? 28 : 10 },
    width,
    height,
    autosize: { type: 'fit', contains: 'padding' },
    config: CHART_CONFIG,
    layer,
    // Phases and outcomes are two legends.
    resolve: { scale: { color: 'independent', shape: 'independent' }, legend: { color: 'independent', shape: 'independent' } },
  } as TopLevelSpec;
}

export function responseTimeSvg(d: ResponseTimeData, opts: ResponseTimeOptions & RenderOptions = {}): Promise<string> {
  return specToSvg(responseTimeSpec(d, opts), opts);
}

export function responseTimePng(d: ResponseTimeData, opts: ResponseTimeOptions & RenderOptions = {}): Promise<Buffer> {
  return specToPng(responseTimeSpec(d, opts), opts);
}
