import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, FerryError } from '../errors.ts';
import { upstreamRequestHeaders } from './headers.ts';

/** Where held requests go once the migrated container answers. */
export interface Target {
  host: string;
  port: number;
}

/** A client request fully read into memory, ready to be replayed. */
export interface BufferedRequest {
  method: string;
  /** Path and query, exactly as the client sent them. */
  url: string;
  rawHeaders: readonly string[];
  body: Buffer;
  /** The client framed a body (Content-Length or chunked), even an empty one. */
  hadBody: boolean;
}

/**
 * connect: no connection was made, so the target never saw the request and a retry is safe
 * even for POST. timeout / upstream: the target may have acted on it, so no retry.
 */
export type ForwardFailure = 'connect' | 'timeout' | 'upstream' | 'aborted';

/**
 * Why a forward failed, and so which status the waiting client gets. A signal inside src/traffic, not
 * a Ferry error: only the hold server calls {@link forwardWithRetry}, and it answers every failure to
 * the client (503, 504 or 502, see HoldServer) and throws none of them on, so no ForwardError reaches
 * a user or `toFerryError`. `.dependency-cruiser.cjs` lets no other module import this file.
 */
export class ForwardError extends Error {
  constructor(
    message: string,
    readonly kind: ForwardFailure,
    public attempts = 1,
  ) {
    super(message);
    this.name = 'ForwardError';
  }
}

export interface ForwardOptions {
  /** Socket idle time allowed while waiting for the target. */
  timeoutMs: number;
  /** A SYN that is dropped (address not up yet) counts as a connect failure after this. */
  connectTimeoutMs: number;
  signal?: AbortSignal;
}

export function validateTarget(target: Target): Target {
  const okHost = typeof target?.host === 'string' && target.host.length > 0;
  const okPort = Number.isInteger(target?.port) && target.port > 0 && target.port < 65536;
  if (!okHost || !okPort) {
    throw new FerryError(ErrorCode.TrafficInvalidTarget, `invalid target ${JSON.stringify(target)}: need {host, port} with port 1-65535`, { details: { address: target?.host, port: target?.port } });
  }
  return { host: target.host, port: target.port };
}

function hostHeader(t: Target): string {
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

/** One attempt. Resolves with the target's response (body not yet read). */
export function forwardOnce(target: Target, r: BufferedRequest, opts: ForwardOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let connected = false;
    let failure: ForwardError | null = null;
    // No agent pooling: a stale pooled socket to a container that just moved fails in ways
    // that look like the target acting on the request, which would forbid a retry.
    const up = http.request({
      host: target.host,
      port: target.port,
      method: r.method,
      path: r.url,
      headers: upstreamRequestHeaders(r.rawHeaders, r.body.length, r.hadBody, hostHeader(target)),
      agent: false,
      timeout: opts.timeoutMs,
      signal: opts.signal,
    });
    const connectTimer = setTimeout(() => {
      if (!connected) {
        failure = new ForwardError(`no connection to ${hostHeader(target)} within ${opts.connectTimeoutMs} ms`, 'connect');
        up.destroy(failure);
      }
    }, opts.connectTimeoutMs);
    up.on('socket', (s) => {
      if (!s.connecting) connected = true;
      else s.once('connect', () => (connected = true));
    });
    up.on('timeout', () => {
      failure = new ForwardError(`${hostHeader(target)} sent nothing for ${opts.timeoutMs} ms`, 'timeout');
      up.destroy(failure);
    });
    up.on('response', (res) => {
      clearTimeout(connectTimer);
      resolve(res);
    });
    up.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (opts.signal?.aborted) return reject(new ForwardError('client went away', 'aborted'));
      if (failure) return reject(failure);
      reject(new ForwardError(`${hostHeader(target)}: ${e.code ?? e.message}`, connected ? 'upstream' : 'connect'));
    });
    up.end(r.body);
  });
}

/** Backoff between connect attempts: short, because the target is expected any moment. */
export function retryDelayMs(attempt: number, baseMs = 25, capMs = 250): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

export interface RetryOptions extends ForwardOptions {
  /** Monotonic time (performance.now()) after which no new attempt starts. */
  retryUntil: number;
  now?: () => number;
  /** Called before each wait for another attempt, with the failure that caused it. */
  onRetry?: (failed: ForwardError) => void;
}

/**
 * Attempts until one connects or `retryUntil` passes. Only connect failures are retried:
 * the target cannot have seen those requests, so replaying a POST is safe.
 */
export async function forwardWithRetry(target: Target, r: BufferedRequest, opts: RetryOptions): Promise<{ res: http.IncomingMessage; attempts: number }> {
  const now = opts.now ?? (() => performance.now());
  for (let attempt = 1; ; attempt++) {
    try {
      return { res: await forwardOnce(target, r, opts), attempts: attempt };
    } catch (e) {
      const err = e instanceof ForwardError ? e : new ForwardError(String(e), 'upstream');
      err.attempts = attempt;
      const delay = retryDelayMs(attempt);
      if (err.kind !== 'connect' || now() + delay > opts.retryUntil) throw err;
      opts.onRetry?.(err);
      try {
        await sleep(delay, undefined, { signal: opts.signal });
      } catch {
        throw new ForwardError('client went away', 'aborted', attempt);
      }
    }
  }
}
