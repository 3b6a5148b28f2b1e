import { describe, expect, it } from 'vitest';
import { clientGap, clientView } from '../../../src/bench/client-view.ts';
import { fromCsv, toCsv, type Sample } from '../../../src/probe/samples.ts';
import { probeFixture } from '../charts/fixtures.ts';

let seq = 0;
const ok = (startMs: number, latencyMs: number, client = 0): Sample => ({ seq: seq++, client, startMs, latencyMs, status: 200 });
const bad = (startMs: number, latencyMs: number, client = 0): Sample => ({ seq: seq++, client, startMs, latencyMs, status: 0, error: 'ECONNREFUSED' });

describe('clientGap', () => {
  it('is null without samples', () => {
    expect(clientGap([])).toBeNull();
  });

  it('finds the widest interval between successful completions', () => {
    const samples = [ok(0, 10), ok(10, 10), ok(20, 1000), ok(1020, 5), ok(1025, 5)];
    // completions at 10, 20, 1020, 1025, 1030: the widest stretch is 20 → 1020
    expect(clientGap(samples)).toEqual({ ms: 1000, fromMs: 20, toMs: 1020 });
  });

  it('does not count failed responses as answers', () => {
    const samples = [ok(0, 10), bad(10, 2), bad(12, 2), bad(14, 2), ok(16, 500)];
    expect(clientGap(samples)).toEqual({ ms: 506, fromMs: 10, toMs: 516 });
  });

  it('counts from the first request, so an outage at the start is seen', () => {
    expect(clientGap([bad(0, 5), bad(5, 5), ok(600, 10), ok(610, 10)])).toEqual({ ms: 610, fromMs: 0, toMs: 610 });
  });

  it('is the whole span when nothing succeeded', () => {
    expect(clientGap([bad(5, 5), bad(10, 40)])).toEqual({ ms: 45, fromMs: 5, toMs: 50 });
  });

  it('does not care about the order of the samples or which client made them', () => {
    const a = [ok(0, 10, 0), ok(5, 300, 1), ok(10, 20, 0), ok(30, 400, 0)];
    expect(clientGap([...a].reverse())).toEqual(clientGap(a));
  });

  it('sees the freeze behind the hold server, where no request fails', () => {
    // 10 closed-loop clients, 20 ms answers; from 2.5 s requests wait at the hold server until the target is healthy at 3.8 s.
    const samples: Sample[] = [];
    for (let client = 0; client < 10; client++) {
      for (let t = client * 2; t < 6000; ) {
        const latency = t >= 2500 && t < 3800 ? 3800 - t + 5 : 20;
        samples.push(ok(t, latency, client));
        t += latency;
      }
    }
    expect(samples.every((s) => s.status === 200)).toBe(true);
    const gap = clientGap(samples)!;
    expect(gap.toMs).toBeCloseTo(3805, 6);
    expect(gap.fromMs).toBeLessThanOrEqual(2520);
    expect(gap.ms).toBeGreaterThan(1280);
    expect(gap.ms).toBeLessThan(1310);
  });
});

describe('clientView', () => {
  it('puts the probe summary and the gap together', () => {
    const v = clientView([ok(0, 10), bad(10, 2), ok(12, 100)], 2);
    expect(v).toEqual({ clients: 2, requests: 3, failures: 1, p50Ms: 10, p99Ms: 100, maxMs: 100, gapMs: 102 });
  });
});

describe('fromCsv (the probe CSV read back)', () => {
  it('round-trips what toCsv writes, errors with commas, quotes and newlines too', () => {
    const samples: Sample[] = [
      { seq: 0, client: 0, startMs: 0.125, latencyMs: 10.5, status: 200 },
      { seq: 1, client: 3, startMs: 1.5, latencyMs: 2, status: 0, error: 'timeout after 30000 ms' },
      { seq: 2, client: 1, startMs: 2, latencyMs: 3, status: 503, error: 'odd, "quoted"\nerror' },
    ];
    expect(fromCsv(toCsv(samples))).toEqual(samples);
  });

  it('round-trips the seeded probe fixture', () => {
    const { samples } = probeFixture({ hold: false, clients: 5 });
    const back = fromCsv(toCsv(samples));
    expect(back).toHaveLength(samples.length);
    expect(back[17]!.status).toBe(samples[17]!.status);
    expect(back.at(-1)!.startMs).toBeCloseTo(samples.at(-1)!.startMs, 3);
  });

  it('refuses files that are not a probe CSV', () => {
    expect(() => fromCsv('a,b,c\n1,2,3\n')).toThrow(/not a load-probe CSV/);
    expect(() => fromCsv('seq,client,start_ms,latency_ms,status,error\n1,2,x,4,200,\n')).toThrow(/line 2/);
  });
});
