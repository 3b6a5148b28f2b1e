import { ErrorCode, FerryError } from '../errors.ts';

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

/** Splits one CSV line written by {@link toCsv} (fields quoted only when they hold `,`, `"` or a newline). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * The samples of a probe CSV written by {@link toCsv} (a benchmark reads a run's file back).
 * Throws on a header or row that is not that shape, naming the line.
 */
export function fromCsv(text: string): Sample[] {
  const lines = text.split('\n');
  if (lines[0]?.trim() !== CSV_HEADER) throw new FerryError(ErrorCode.Internal, `not a load-probe CSV: the first line is not '${CSV_HEADER}'`);
  const samples: Sample[] = [];
  // Quoted errors may hold newlines: join physical lines until the quotes balance.
  let pending = '';
  for (let n = 1; n < lines.length; n++) {
    pending = pending ? `${pending}\n${lines[n]}` : lines[n]!;
    if ((pending.match(/"/g)?.length ?? 0) % 2 === 1) continue;
    const row = pending.replace(/\r$/, '');
    pending = '';
    if (row === '') continue;
    const f = csvFields(row);
    const nums = f.slice(0, 5).map(Number);
    if (f.length !== 6 || nums.some((x) => !Number.isFinite(x))) throw new FerryError(ErrorCode.Internal, `load-probe CSV line ${n + 1} is not seq,client,start_ms,latency_ms,status,error: ${row.slice(0, 120)}`);
    const s: Sample = { seq: nums[0]!, client: nums[1]!, startMs: nums[2]!, latencyMs: nums[3]!, status: nums[4]! };
    if (f[5] !== '') s.error = f[5]!;
    samples.push(s);
  }
  return samples;
}
