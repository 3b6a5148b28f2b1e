import { describe, expect, it } from 'vitest';
import { CSV_HEADER, isFailure, nearestRank, summarize, toCsv, type Sample } from '../../../src/probe/samples.ts';

function sample(seq: number, latencyMs: number, extra: Partial<Sample> = {}): Sample {
  return { seq, client: 0, startMs: seq * 10, latencyMs, status: 200, ...extra };
}

describe('summarize', () => {
  it('takes nearest-rank percentiles over all samples', () => {
    // latencies 1..100, shuffled: nearest rank gives p50 = 50, p99 = 99
    const lat = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    const s = summarize(lat.map((l, i) => sample(i, l)));
    expect(s).toMatchObject({ requests: 100, failures: 0, p50Ms: 50, p99Ms: 99, maxMs: 100 });
  });

  it('computes throughput over first start to last completion', () => {
    const samples = Array.from({ length: 10 }, (_, i) => ({ seq: i, client: 0, startMs: i * 100, latencyMs: 100, status: 200 }));
    expect(summarize(samples).throughput).toBeCloseTo(10, 10); // 10 requests over 1 s
  });

  it('counts errors and statuses outside 2xx/3xx as failures', () => {
    const samples = [sample(0, 1), sample(1, 1, { status: 301 }), sample(2, 1, { status: 404 }), sample(3, 1, { status: 503 }), sample(4, 1, { status: 0, error: 'ECONNREFUSED' }), sample(5, 1, { error: 'response cut off' })];
    expect(samples.map(isFailure)).toEqual([false, false, true, true, true, true]);
    expect(summarize(samples).failures).toBe(4);
  });

  it('handles tiny inputs', () => {
    expect(summarize([])).toEqual({ requests: 0, failures: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, throughput: 0 });
    expect(summarize([sample(0, 7)])).toMatchObject({ p50Ms: 7, p99Ms: 7, maxMs: 7 });
    expect(nearestRank([1, 2, 3, 4], 50)).toBe(2);
    expect(nearestRank([1, 2, 3, 4], 51)).toBe(3);
    expect(nearestRank([1, 2, 3, 4], 0)).toBe(1);
  });
});

describe('toCsv', () => {
  it('writes a header then one row per sample, quoting errors that need it', () => {
    const csv = toCsv([sample(0, 1.5), sample(1, 30000, { client: 2, status: 0, error: 'timeout, "30 s"' })]);
    expect(csv.split('\n')).toEqual([CSV_HEADER, '0,0,0.000,1.500,200,', '1,2,10.000,30000.000,0,"timeout, ""30 s"""', '']);
    expect(CSV_HEADER).toBe('seq,client,start_ms,latency_ms,status,error');
  });
});
