import { isFailure, summarize, type Sample } from '../probe/samples.ts';

/** A stretch of the probe's clock (ms since it started). */
export interface ClientGap {
  ms: number;
  fromMs: number;
  toMs: number;
}

/**
 * The longest stretch in which no client received a successful response: the widest interval
 * between consecutive successful completions (start + latency), counted from the probe's first
 * request so a service that never answered shows its whole outage. With the hold server the
 * freeze shows up here (the held requests all complete once the target is healthy), even though
 * no request fails. Null without samples.
 */
export function clientGap(samples: readonly Sample[]): ClientGap | null {
  if (samples.length === 0) return null;
  let first = Infinity;
  let last = -Infinity;
  for (const s of samples) {
    first = Math.min(first, s.startMs);
    last = Math.max(last, s.startMs + s.latencyMs);
  }
  const done = samples.filter((s) => !isFailure(s)).map((s) => s.startMs + s.latencyMs);
  if (done.length === 0) return { ms: last - first, fromMs: first, toMs: last };
  done.sort((a, b) => a - b);
  let best: ClientGap = { ms: done[0]! - first, fromMs: first, toMs: done[0]! };
  for (let i = 1; i < done.length; i++) {
    const ms = done[i]! - done[i - 1]!;
    if (ms > best.ms) best = { ms, fromMs: done[i - 1]!, toMs: done[i]! };
  }
  return best;
}

/** What clients saw during one migration: the load probe's summary and the gap. */
export interface ClientView {
  /** Concurrent clients. */
  clients: number;
  requests: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The longest stretch without a successful response (see {@link clientGap}). */
  gapMs: number;
}

export function clientView(samples: readonly Sample[], clients: number): ClientView {
  const s = summarize(samples);
  return { clients, requests: s.requests, failures: s.failures, p50Ms: s.p50Ms, p99Ms: s.p99Ms, maxMs: s.maxMs, gapMs: clientGap(samples)?.ms ?? 0 };
}
