import http from 'node:http';
import { ErrorCode, FerryError } from '../errors.ts';
import { positiveInt } from '../util/positive-int.ts';
import type { Sample } from './samples.ts';

export { CSV_HEADER, isFailure, summarize, toCsv, type Sample, type Summary } from './samples.ts';

export interface LoadProbeOptions {
  /** http:// URL every request goes to. */
  url: string | URL;
  /**
   * Clients looping at once; each waits for its answer before the next request (closed loop).
   * @defaultValue 50
   */
  concurrency?: number;
  /**
   * No request starts after this; requests in flight finish (bounded by timeoutMs).
   * @defaultValue 60000
   */
  durationMs?: number;
  /**
   * Total requests; also bounds the memory the samples take.
   * @defaultValue 100000
   */
  maxRequests?: number;
  /**
   * Per request, from start until the whole response is read.
   * @defaultValue 30000
   */
  timeoutMs?: number;
  /** @defaultValue 'GET', or 'POST' when `body` is given */
  method?: string;
  /** Body for request number `seq`; given, requests carry it (POST unless `method` says otherwise). */
  body?: (seq: number) => Buffer | string;
  /** @defaultValue {} */
  headers?: Record<string, string>;
}

/**
 * Closed-loop HTTP load (the paper's client side): N clients, each sending its next request
 * as soon as the previous one is answered, so a frozen service shows up as one long request
 * per client rather than a pile of timeouts.
 */
export class LoadProbe {
  private readonly url: URL;
  private readonly concurrency: number;
  private readonly durationMs: number;
  private readonly maxRequests: number;
  private readonly timeoutMs: number;
  private readonly method: string;
  private readonly body?: (seq: number) => Buffer | string;
  private readonly headers: Record<string, string>;
  private t0 = 0;
  private started = false;
  private stopped = false;
  private issued = 0;
  private durationTimer: NodeJS.Timeout | undefined;

  constructor(opts: LoadProbeOptions) {
    this.url = new URL(opts.url);
    if (this.url.protocol !== 'http:') throw new FerryError(ErrorCode.TrafficInvalidOption, `url must be http://, got ${this.url.protocol}`, { details: { option: 'url' } });
    this.concurrency = positiveInt('concurrency', opts.concurrency, 50);
    this.durationMs = positiveInt('durationMs', opts.durationMs, 60_000);
    this.maxRequests = positiveInt('maxRequests', opts.maxRequests, 100_000);
    this.timeoutMs = positiveInt('timeoutMs', opts.timeoutMs, 30_000);
    this.body = opts.body;
    this.method = (opts.method ?? (opts.body ? 'POST' : 'GET')).toUpperCase();
    this.headers = opts.headers ?? {};
  }

  /** Milliseconds since run() started, on the samples' clock: stamp migration events with it. */
  elapsedMs(): number {
    return this.started ? performance.now() - this.t0 : 0;
  }

  /** No new request starts after this; run() resolves once those in flight end. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.durationTimer);
  }

  /** Runs once; resolves with every sample in start order. */
  async run(): Promise<Sample[]> {
    // A caller's bug: a probe's samples and clock belong to its one run.
    if (this.started) throw new FerryError(ErrorCode.Internal, 'a LoadProbe runs once: create a new one');
    this.started = true;
    this.t0 = performance.now();
    // No keep-alive: every request opens its own connection, as a fresh client would after
    // the service moved, and a broken pooled socket cannot hide behind a retry.
    const agent = new http.Agent({ keepAlive: false, maxSockets: this.concurrency });
    const samples: Sample[] = [];
    this.durationTimer = setTimeout(() => this.stop(), this.durationMs);
    try {
      await Promise.all(Array.from({ length: this.concurrency }, (_, client) => this.loop(client, agent, samples)));
    } finally {
      this.stop();
      agent.destroy();
    }
    return samples.sort((a, b) => a.seq - b.seq);
  }

  private async loop(client: number, agent: http.Agent, out: Sample[]): Promise<void> {
    while (!this.stopped && this.issued < this.maxRequests) {
      const seq = this.issued++;
      out.push(await this.one(seq, client, agent));
    }
  }

  private one(seq: number, client: number, agent: http.Agent): Promise<Sample> {
    const start = performance.now();
    const body = this.body?.(seq);
    return new Promise<Sample>((resolve) => {
      let status = 0;
      let settled = false;
      const finish = (error?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const s: Sample = { seq, client, startMs: start - this.t0, latencyMs: performance.now() - start, status };
        if (error !== undefined) s.error = error;
        resolve(s);
      };
      const headers: Record<string, string | number> = { ...this.headers };
      if (body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
      const req = http.request(this.url, { method: this.method, agent, headers }, (res) => {
        status = res.statusCode ?? 0;
        res.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
        res.on('end', () => finish());
        // A connection cut mid-body may skip 'end'; 'close' always comes.
        res.on('close', () => finish(res.complete ? undefined : 'response cut off'));
        res.resume();
      });
      const timer = setTimeout(() => {
        finish(`timeout after ${this.timeoutMs} ms`);
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
      req.end(body);
    });
  }
}
