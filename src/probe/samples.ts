/** One request made by the load probe. */
export interface Sample {
  /** Request number, in order of start (0-based). */
  seq: number;
  /** Which concurrent client made it. */
  client: number;
  /** Start, in ms since the probe started (monotonic clock). */
  startMs: number;
  /** Until the whole response was read, or until the error. */
  latencyMs: number;
  /** HTTP status, 0 when no response arrived (refused, reset, timed out). */
  status: number;
  /** Why it failed at the transport level; absent on a clean exchange. */
  error?: string;
}

export interface Summary {
  requests: number;
  /** Samples with an error or a status outside 2xx/3xx. */
  failures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Requests per second between the first start and the last completion. */
  throughput: number;
}

export function isFailure(s: Sample): boolean {
  return s.error !== undefined || s.status < 200 || s.status >= 400;
}

/** Nearest-rank percentile (the smallest value with at least p% of the data at or below it). */
export function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Latencies cover every sample, failures included: a request cut off at the freeze is part of the picture. */
export function summarize(samples: readonly Sample[]): Summary {
  if (samples.length === 0) return { requests: 0, failures: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, throughput: 0 };
  const lat = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  let first = Infinity;
  let last = -Infinity;
  for (const s of samples) {
    first = Math.min(first, s.startMs);
    last = Math.max(last, s.startMs + s.latencyMs);
  }
  const spanS = (last - first) / 1000;
  return {
    requests: samples.length,
    failures: samples.filter(isFailure).length,
    p50Ms: nearestRank(lat, 50),
    p99Ms: nearestRank(lat, 99),
    maxMs: lat[lat.length - 1]!,
    throughput: spanS > 0 ? samples.length / spanS : 0,
  };
}

export const CSV_HEADER = 'seq,client,start_ms,latency_ms,status,error';

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line per sample, header first, newline-terminated; times to the microsecond. */
export function toCsv(samples: readonly Sample[]): string {
  const rows = samples.map((s) => [s.seq, s.client, s.startMs.toFixed(3), s.latencyMs.toFixed(3), s.status, csvField(s.error ?? '')].join(','));
  return [CSV_HEADER, ...rows].join('\n') + '\n';
}
