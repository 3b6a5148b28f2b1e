import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { DEFAULT_BANDS, FREEZE_BAND, logDomain, logTicks, responseTimeSpec, type RequestTiming } from '../../../src/charts/response-time.ts';
import { FAILURE_COLOR } from '../../../src/charts/style.ts';
import { methodFrom, toRequestTimings } from '../../../src/probe/probe-run.ts';
import { probeFixture } from './fixtures.ts';
import { compileWarnings, layerNamed, layerNames, loose } from './spec-helpers.ts';

const phases = [
  { name: 'preflight', startMs: 100, endMs: 1300 },
  { name: 'checkpoint', startMs: 2560, endMs: 3150 },
  { name: FREEZE_BAND, startMs: 2560, endMs: 3810 },
  { name: 'transfer', startMs: 3150, endMs: 3580 },
  { name: 'restore', startMs: 3580, endMs: 3770 },
  { name: 'health', startMs: 3770, endMs: 3810 },
  { name: 'cleanup', startMs: 3860, endMs: 5000 },
];

function requests(failAt: number[] = []): RequestTiming[] {
  return Array.from({ length: 60 }, (_, i) => ({ startMs: i * 100, latencyMs: i === 26 ? 1250 : 20 + (i % 7), failed: failAt.includes(i) }));
}

describe('responseTimeSpec', () => {
  it('shades each shown phase as a band from its start to its end, in seconds', () => {
    const spec = responseTimeSpec({ requests: requests(), phases });
    const bands = layerNamed(spec, 'phases')!;
    expect(bands.mark.type).toBe('rect');
    expect(bands.data!.values).toEqual([
      { phase: 'checkpoint', start: 2.56, end: 3.15 },
      { phase: 'transfer', start: 3.15, end: 3.58 },
      { phase: 'restore', start: 3.58, end: 3.77 },
      { phase: 'health', start: 3.77, end: 3.81 },
    ]);
    expect(bands.encoding.x!.field).toBe('start');
    expect(bands.encoding.x2!.field).toBe('end');
    // Legend in pipeline order, one colour per phase.
    expect(bands.encoding.color!.scale!.domain).toEqual(['checkpoint', 'transfer', 'restore', 'health']);
    expect(new Set(bands.encoding.color!.scale!.range as string[]).size).toBe(4);
  });

  it('draws the freeze as a labelled bracket from the freeze to the end of the health check', () => {
    const spec = responseTimeSpec({ requests: requests(), phases });
    expect(layerNamed(spec, 'freeze')!.data!.values).toEqual([{ start: 2.56, end: 3.81, label: 'frozen 1.25 s' }]);
    expect(layerNamed(spec, 'freeze-label')!.encoding.text!.field).toBe('label');
    expect(layerNamed(spec, 'phases')!.data!.values.some((b) => b.phase === FREEZE_BAND)).toBe(false);
    expect(layerNamed(responseTimeSpec({ requests: requests(), phases: phases.filter((p) => p.name !== FREEZE_BAND) }), 'freeze')).toBeUndefined();
  });

  it('shades the bookkeeping phases only when asked', () => {
    expect(DEFAULT_BANDS).not.toContain('preflight');
    const spec = responseTimeSpec({ requests: requests(), phases }, { bands: ['preflight', 'cleanup'] });
    expect(layerNamed(spec, 'phases')!.data!.values).toEqual([
      { phase: 'preflight', start: 0.1, end: 1.3 },
      { phase: 'cleanup', start: 3.86, end: 5 },
    ]);
  });

  it('puts requests on a time axis in seconds since the probe started', () => {
    const spec = responseTimeSpec({ requests: requests(), phases });
    const pts = layerNamed(spec, 'requests')!;
    expect(pts.encoding.x!.field).toBe('t');
    expect(pts.encoding.x!.title).toBe('seconds since the probe started');
    expect(pts.data!.values.slice(0, 3).map((p) => p.t)).toEqual([0, 0.1, 0.2]);
    // The axis runs to the last event, past the last request's start.
    expect(pts.encoding.x!.scale!.domain).toEqual([0, 5.9]);
  });

  it('uses a log scale on round bounds by default, and a linear one from zero when asked', () => {
    const log = layerNamed(responseTimeSpec({ requests: requests(), phases }), 'requests')!.encoding.y!;
    expect(log.scale).toMatchObject({ type: 'log', domain: [20, 2000] });
    expect(log.axis!.values).toEqual([20, 100, 1000, 2000]);
    expect(log.title).toContain('log scale');
    const lin = layerNamed(responseTimeSpec({ requests: requests(), phases }, { logScale: false }), 'requests')!.encoding.y!;
    expect(lin.scale).toEqual({ zero: true });
    expect(lin.title).not.toContain('log');
  });

  it('keeps answers faster than 0.1 ms on the log axis', () => {
    const spec = responseTimeSpec({ requests: [{ startMs: 0, latencyMs: 0, failed: true }], phases: [] });
    expect(layerNamed(spec, 'failures')!.data!.values[0]!.ms).toBe(0.1);
  });

  it('marks failed requests in red crosses, drawn over the others, and counts them', () => {
    const spec = responseTimeSpec({ requests: requests([10, 30]), phases });
    const failures = layerNamed(spec, 'failures')!;
    expect(failures.data!.values).toEqual([
      { t: 1, ms: 23, outcome: 'failed' },
      { t: 3, ms: 22, outcome: 'failed' },
    ]);
    expect(layerNamed(spec, 'requests')!.data!.values).toHaveLength(58);
    const names = layerNames(spec);
    expect(names.indexOf('failures')).toBeGreaterThan(names.indexOf('requests'));
    const pts = failures;
    const color = pts.encoding.color!.scale!;
    expect((color.range as string[])[(color.domain as string[]).indexOf('failed')]).toBe(FAILURE_COLOR);
    const shape = pts.encoding.shape!.scale!;
    expect((shape.range as string[])[(shape.domain as string[]).indexOf('failed')]).toBe('cross');
    expect(loose(spec).title.subtitle).toMatch(/^60 requests, 2 failed/);
    expect(loose(responseTimeSpec({ requests: requests(), phases })).title.subtitle).toMatch(/^60 requests, 0 failed/);
    expect(loose(responseTimeSpec({ requests: requests(), phases }, { note: 'lab, lan' })).title.subtitle).toMatch(/at its start\. lab, lan$/);
  });

  it('titles the chart with container, method and downtime', () => {
    expect(loose(responseTimeSpec({ requests: requests(), phases, container: 'web1', method: 'page-server' })).title.text).toBe('Response time while web1 migrated (page-server, downtime 1.25 s)');
    expect(loose(responseTimeSpec({ requests: requests(), phases, downtimeS: 0.53 })).title.text).toBe('Response time during the migration (downtime 0.53 s)');
    expect(loose(responseTimeSpec({ requests: [], phases: [] })).title.text).toBe('Response time during the migration');
  });

  it('builds the chart from a probe run: samples, recorded phases and the announced method', () => {
    const f = probeFixture({ hold: false, clients: 4 });
    const spec = responseTimeSpec({ requests: toRequestTimings(f.samples), phases: f.phases, container: 'web1', method: methodFrom(f.timeline) });
    expect(loose(spec).title.text).toBe('Response time while web1 migrated (page-server, downtime 1.25 s)');
    const failed = f.samples.filter((s) => s.status >= 400).length;
    expect(failed).toBeGreaterThan(0);
    expect(layerNamed(spec, 'failures')!.data!.values).toHaveLength(failed);
    expect(layerNamed(spec, 'phases')!.data!.values.map((b) => b.phase)).toEqual(['switch', 'checkpoint', 'transfer', 'restore', 'health', 'switch']);
  });

  it('compiles without a vega-lite warning, with and without failures, phases and a log scale', () => {
    const f = probeFixture({ hold: false, clients: 2 });
    const d = { requests: toRequestTimings(f.samples), phases: f.phases };
    expect(compileWarnings(responseTimeSpec(d))).toEqual([]);
    expect(compileWarnings(responseTimeSpec(d, { logScale: false }))).toEqual([]);
    expect(compileWarnings(responseTimeSpec({ requests: [], phases: [] }))).toEqual([]);
  });

  it('refuses a size too small for axes and legends', () => {
    expect(() => responseTimeSpec({ requests: [], phases: [] }, { width: 100, height: 80 })).toThrow(expect.objectContaining({ code: ErrorCode.ChartInvalid }));
    expect(() => responseTimeSpec({ requests: [], phases: [] }, { width: 640.5, height: 400 })).toThrow(expect.objectContaining({ code: ErrorCode.ChartInvalid }));
  });
});

describe('log axis helpers', () => {
  it('bounds the data on 1-2-5 steps', () => {
    expect(logDomain([7, 1300])).toEqual([5, 2000]);
    expect(logDomain([10, 100])).toEqual([10, 100]);
    expect(logDomain([0.3, 40])).toEqual([0.2, 50]);
    expect(logDomain([5, 5])).toEqual([5, 50]);
    expect(logDomain([])).toEqual([1, 1000]);
  });

  it('ticks at the ends and every power of ten between', () => {
    expect(logTicks([5, 2000])).toEqual([5, 10, 100, 1000, 2000]);
    expect(logTicks([10, 100])).toEqual([10, 100]);
    expect(logTicks([0.2, 50])).toEqual([0.2, 1, 10, 50]);
  });
});
