import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, FerryError } from '../errors.ts';
import { positiveInt } from '../util/positive-int.ts';
import { ForwardError, forwardWithRetry, validateTarget, type Target } from './forward.ts';
import { clientResponseHeaders, declaredLength } from './headers.ts';

export type { Target } from './forward.ts';

const MiB = 1024 * 1024;

export interface HoldServerOptions {
  /**
   * How long a request may wait, from arrival until it is sent to the target (holding plus
   * connect retries). Past it the client gets 503 with Retry-After.
   * @defaultValue 30000
   */
  deadlineMs?: number;
  /**
   * Requests waiting at once (held, or still uploading their body). More get 503 at once.
   * @defaultValue 10000
   */
  maxHeldRequests?: number;
  /**
   * Body bytes kept in memory at once, for held requests and for forwarded ones until the
   * target answers (the body is kept for connect retries). A body that would pass it is not
   * read into memory: 413 if it alone is larger, else 503.
   * @defaultValue 67108864 (64 MiB)
   */
  maxHeldBytes?: number;
  /**
   * Socket idle time allowed while the target works on a forwarded request; past it 504.
   * @defaultValue 60000
   */
  upstreamTimeoutMs?: number;
  /**
   * Time for one TCP connect to the target; a dropped SYN (address not up yet) then counts
   * as a refused connection and is retried.
   * @defaultValue 1000
   */
  connectTimeoutMs?: number;
  /**
   * How long connect failures are retried after release, capped by the request's deadline.
   * The target cannot have seen a request that never connected, so this is safe for POST. Long:
   * a restored service on a busy host may take seconds to accept again, and a held client would
   * rather wait than get a 503 (measured: a 5 s window let one request of ~1,300 fail under load).
   * @defaultValue 30000
   */
  upstreamRetryMs?: number;
  /**
   * Value of Retry-After (seconds) on every 503.
   * @defaultValue 2
   */
  retryAfterS?: number;
  /**
   * Requests forwarded at once: a container just restored should not take 10000 connections
   * in the same millisecond. The rest stay held (and count as held) until a slot frees.
   * @defaultValue 128
   */
  maxUpstreamConcurrency?: number;
  /**
   * After refusing a request whose body is still arriving, up to this many further bytes are
   * read and thrown away so the client finishes its upload and reads the answer; closing at
   * once would reset the connection and the client would see ECONNRESET instead of the 413/503.
   * Beyond it the answer is sent with Connection: close and reading stops. 0 stops at once.
   * @defaultValue 1048576 (1 MiB)
   */
  maxDiscardBytes?: number;
}

export interface HoldStats {
  /** Requests waiting now: held, uploading, or waiting for a forwarding slot. */
  held: number;
  /** Requests whose target response was relayed to the client. */
  forwarded: number;
  /** Requests answered 503 because their deadline passed. */
  expired: number;
  /** Requests refused on arrival or mid-upload because of maxHeldRequests / maxHeldBytes. */
  rejected: number;
  /** Requests answered 502/503/504 because the target could not be reached or failed. */
  upstreamErrors: number;
  /** Clients that went away before they were answered. */
  abandoned: number;
  /** Highest `held` so far. */
  maxHeldSeen: number;
  /**
   * Body bytes held now, counting a declared Content-Length in full from arrival (so parallel
   * uploads cannot overshoot together), and forwarded bodies until the target answers.
   */
  heldBytes: number;
}

export type RejectReason = 'held-requests' | 'held-bytes' | 'body-too-large' | 'closing';

/** What the server tells its owner, for logs and for tests that wait on state changes. */
export type HoldEvent =
  | { type: 'held'; method: string; url: string; bytes: number }
  | { type: 'released'; target: Target; held: number }
  | { type: 'holding' }
  | { type: 'forwarded'; method: string; url: string; status: number; attempts: number }
  | { type: 'expired'; method: string; url: string }
  | { type: 'rejected'; method: string; url: string; status: number; reason: RejectReason }
  | { type: 'retrying'; method: string; url: string; error: string; attempts: number }
  | { type: 'upstream-error'; method: string; url: string; status: number; error: string; attempts: number }
  | { type: 'abandoned'; method: string; url: string }
  | { type: 'server-error'; error: string };

interface Entry {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: string;
  chunks: Buffer[];
  bytes: number;
  /** Bytes counted against maxHeldBytes for this request (Content-Length up front, else as read). */
  reserved: number;
  hadBody: boolean;
  state: 'waiting' | 'forwarding' | 'done';
  deadlineAt: number;
  timer: NodeJS.Timeout | undefined;
  abort: AbortController;
}

type Counters = Omit<HoldStats, 'held' | 'heldBytes'>;

/**
 * Stands in for a container while it is frozen: keeps every request until the restored copy
 * is ready, then replays it there and relays the answer. It proxies instead of redirecting
 * because a 302 turns POSTs into GETs in many clients and breaks clients pinned to one host.
 */
export class HoldServer extends EventEmitter<{ event: [HoldEvent] }> {
  private readonly opts: Required<HoldServerOptions>;
  private readonly server: http.Server;
  private target: Target | null = null;
  /** Admitted and not yet sent upstream, in arrival order. */
  private readonly waiting = new Set<Entry>();
  /** The waiting ones whose body is complete: what a release sends, oldest first. */
  private readonly ready = new Set<Entry>();
  /** Refusals waiting for the client to finish uploading; each answers at once when called. */
  private readonly refusals = new Set<() => void>();
  /** One promise per response, settled when it closes: close() waits on them. */
  private readonly open = new Set<Promise<void>>();
  private active = 0;
  private heldBytes = 0;
  private readonly counters: Counters = { forwarded: 0, expired: 0, rejected: 0, upstreamErrors: 0, abandoned: 0, maxHeldSeen: 0 };
  private poll: AbortController | null = null;
  private closing: Promise<void> | null = null;

  constructor(opts: HoldServerOptions = {}) {
    super();
    this.opts = {
      deadlineMs: positiveInt('deadlineMs', opts.deadlineMs, 30_000),
      maxHeldRequests: positiveInt('maxHeldRequests', opts.maxHeldRequests, 10_000),
      maxHeldBytes: positiveInt('maxHeldBytes', opts.maxHeldBytes, 64 * MiB),
      upstreamTimeoutMs: positiveInt('upstreamTimeoutMs', opts.upstreamTimeoutMs, 60_000),
      connectTimeoutMs: positiveInt('connectTimeoutMs', opts.connectTimeoutMs, 1000),
      upstreamRetryMs: positiveInt('upstreamRetryMs', opts.upstreamRetryMs, 30_000, { allowZero: true }),
      retryAfterS: positiveInt('retryAfterS', opts.retryAfterS, 2),
      maxUpstreamConcurrency: positiveInt('maxUpstreamConcurrency', opts.maxUpstreamConcurrency, 128),
      maxDiscardBytes: positiveInt('maxDiscardBytes', opts.maxDiscardBytes, MiB, { allowZero: true }),
    };
    this.server = http.createServer();
    this.server.on('request', (req, res) => this.onRequest(req, res, false));
    // Handling checkContinue ourselves means a body we would refuse is never sent at all.
    this.server.on('checkContinue', (req, res) => this.onRequest(req, res, true));
    // An accept failure (EMFILE) after listen must not crash the process mid-migration.
    this.server.on('error', (e: NodeJS.ErrnoException) => {
      if (this.server.listening) this.emit('event', { type: 'server-error', error: e.code ?? e.message });
    });
  }

  /** Starts accepting clients; resolves with the bound address (port 0 picks a free one). */
  async listen(port = 0, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    // Both are a caller's bug (a hold server listens once, and is not used after close).
    if (this.closing) throw new FerryError(ErrorCode.Internal, 'hold server is closed');
    if (this.server.listening) throw new FerryError(ErrorCode.Internal, 'hold server is already listening');
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const a = this.server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Sends everything held, and everything arriving from now on, to `target`. */
  release(target: Target): void {
    this.assertOpen();
    const t = validateTarget(target);
    this.cancelPoll();
    this.target = t;
    this.emit('event', { type: 'released', target: t, held: this.waiting.size });
    this.pump();
  }

  /** Back to holding (e.g. the next migration freezes). Requests already sent upstream finish. */
  hold(): void {
    this.assertOpen();
    this.cancelPoll();
    this.target = null;
    this.emit('event', { type: 'holding' });
  }

  /**
   * Polls `probe` every `intervalMs` and releases to `target` on its first true (a throwing
   * probe counts as false). Resolves true once released, false if hold(), release(), another
   * releaseWhenHealthy() or close() came first.
   */
  async releaseWhenHealthy(target: Target, probe: () => Promise<boolean>, intervalMs = 250): Promise<boolean> {
    this.assertOpen();
    const t = validateTarget(target);
    const every = positiveInt('intervalMs', intervalMs, 250);
    this.cancelPoll();
    const ac = new AbortController();
    this.poll = ac;
    for (;;) {
      const ok = await probe().then(
        (v) => v === true,
        () => false,
      );
      if (ac.signal.aborted) return false;
      if (ok) {
        this.poll = null;
        this.release(t);
        return true;
      }
      try {
        await sleep(every, undefined, { signal: ac.signal });
      } catch {
        return false;
      }
    }
  }

  /** The target requests go to, or null while holding. */
  get releasedTo(): Target | null {
    return this.target;
  }

  stats(): HoldStats {
    return { held: this.waiting.size, heldBytes: this.heldBytes, ...this.counters };
  }

  /**
   * Stops listening, answers every held request 503 (Retry-After), lets requests already sent
   * to the target finish (bounded by upstreamTimeoutMs), then closes every connection.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.cancelPoll();
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const e of [...this.waiting]) {
      this.unwait(e);
      answer(e.res, 503, this.migratingText(), { 'Retry-After': String(this.opts.retryAfterS), Connection: 'close' });
    }
    for (const now of [...this.refusals]) now();
    while (this.open.size > 0) await Promise.all([...this.open]);
    this.server.closeAllConnections();
    await stopped;
  }

  /** A hold server is not used after close: a call that comes later is a caller's bug. */
  private assertOpen(): void {
    if (this.closing) throw new FerryError(ErrorCode.Internal, 'hold server is closed');
  }

  private cancelPoll(): void {
    this.poll?.abort();
    this.poll = null;
  }

  private migratingText(): string {
    return `service is being migrated; retry in ${this.opts.retryAfterS} s\n`;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    const closed = new Promise<void>((resolve) => res.once('close', resolve));
    this.open.add(closed);
    void closed.then(() => this.open.delete(closed));
    req.on('error', () => undefined); // a client that aborts mid-upload: res 'close' cleans up

    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const declared = declaredLength(req.headers['content-length']);
    const max = this.opts;
    let refusal: { status: number; reason: RejectReason } | null = null;
    if (this.closing) refusal = { status: 503, reason: 'closing' };
    else if (this.waiting.size >= max.maxHeldRequests) refusal = { status: 503, reason: 'held-requests' };
    else if (declared !== null && declared > max.maxHeldBytes) refusal = { status: 413, reason: 'body-too-large' };
    else if (declared !== null && this.heldBytes + declared > max.maxHeldBytes) refusal = { status: 503, reason: 'held-bytes' };
    if (refusal) {
      if (refusal.reason !== 'closing') this.counters.rejected++;
      this.emit('event', { type: 'rejected', method, url, ...refusal });
      this.refuse(req, res, refusal.status, this.refusalText(refusal.reason), expectContinue, 0);
      return;
    }

    const e: Entry = {
      req,
      res,
      method,
      url,
      chunks: [],
      bytes: 0,
      reserved: declared ?? 0,
      hadBody: declared !== null || req.headers['transfer-encoding'] !== undefined,
      state: 'waiting',
      deadlineAt: performance.now() + max.deadlineMs,
      timer: undefined,
      abort: new AbortController(),
    };
    this.heldBytes += e.reserved;
    this.waiting.add(e);
    this.counters.maxHeldSeen = Math.max(this.counters.maxHeldSeen, this.waiting.size);
    e.timer = setTimeout(() => this.expire(e), max.deadlineMs);
    res.once('close', () => this.onClientClose(e));
    req.on('data', (chunk: Buffer) => this.onData(e, chunk));
    req.once('end', () => this.onEnd(e));
    if (expectContinue) res.writeContinue();
  }

  private refusalText(reason: RejectReason): string {
    switch (reason) {
      case 'body-too-large':
        return `request body too large to hold while the service is being migrated (limit ${this.opts.maxHeldBytes} bytes)\n`;
      case 'closing':
      case 'held-requests':
      case 'held-bytes':
        return this.migratingText();
    }
  }

  private onData(e: Entry, chunk: Buffer): void {
    if (e.state !== 'waiting') return;
    e.bytes += chunk.length;
    if (e.bytes > e.reserved) {
      // Chunked uploads have no length up front: the bound is checked as bytes arrive.
      const grow = e.bytes - e.reserved;
      if (e.bytes > this.opts.maxHeldBytes) return this.dropWaiting(e, 413, 'body-too-large');
      if (this.heldBytes + grow > this.opts.maxHeldBytes) return this.dropWaiting(e, 503, 'held-bytes');
      this.heldBytes += grow;
      e.reserved = e.bytes;
    }
    e.chunks.push(chunk);
  }

  private onEnd(e: Entry): void {
    if (e.state !== 'waiting') return;
    this.ready.add(e);
    if (!this.target) this.emit('event', { type: 'held', method: e.method, url: e.url, bytes: e.bytes });
    this.pump();
  }

  private dropWaiting(e: Entry, status: number, reason: RejectReason): void {
    this.unwait(e);
    this.counters.rejected++;
    this.emit('event', { type: 'rejected', method: e.method, url: e.url, status, reason });
    this.refuse(e.req, e.res, status, this.refusalText(reason), false, e.bytes);
  }

  private expire(e: Entry): void {
    if (e.state !== 'waiting') return;
    this.unwait(e);
    this.counters.expired++;
    this.emit('event', { type: 'expired', method: e.method, url: e.url });
    this.refuse(e.req, e.res, 503, this.migratingText(), false, e.bytes);
  }

  /** Takes an entry out of the waiting state and frees what it held. */
  private unwait(e: Entry): void {
    this.waiting.delete(e);
    this.ready.delete(e);
    clearTimeout(e.timer);
    e.state = 'done';
    e.chunks = [];
    this.freeBytes(e);
  }

  private freeBytes(e: Entry): void {
    this.heldBytes -= e.reserved;
    e.reserved = 0;
  }

  private onClientClose(e: Entry): void {
    if (e.state === 'waiting') {
      this.unwait(e);
      this.counters.abandoned++;
      this.emit('event', { type: 'abandoned', method: e.method, url: e.url });
    } else if (e.state === 'forwarding' && !e.res.writableFinished) {
      if (!e.res.headersSent) {
        this.counters.abandoned++;
        this.emit('event', { type: 'abandoned', method: e.method, url: e.url });
      }
      e.abort.abort();
    }
  }

  /**
   * Answers a request we will not keep. If its body is still coming, reads and drops the rest
   * first (up to maxDiscardBytes): see that option for why.
   */
  private refuse(req: IncomingMessage, res: ServerResponse, status: number, text: string, awaitingContinue: boolean, read: number): void {
    const headers: Record<string, string> = status === 503 ? { 'Retry-After': String(this.opts.retryAfterS) } : {};
    if (this.closing) headers.Connection = 'close';
    const declared = declaredLength(req.headers['content-length']);
    const bodyComing = !req.complete && ((declared !== null && declared > read) || (declared === null && req.headers['transfer-encoding'] !== undefined));
    if (!bodyComing) return answer(res, status, text, headers);
    // The client waits for 100 Continue that will never come: nothing to drain.
    if (awaitingContinue || (declared !== null && declared - read > this.opts.maxDiscardBytes)) {
      return answer(res, status, text, { ...headers, Connection: 'close' });
    }
    let discarded = 0;
    const now = (): void => {
      if (!this.refusals.delete(now)) return;
      answer(res, status, text, { ...headers, Connection: 'close' });
    };
    this.refusals.add(now);
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > this.opts.maxDiscardBytes) now();
    });
    req.once('end', () => {
      if (this.refusals.delete(now)) answer(res, status, text, headers);
    });
    res.once('close', () => this.refusals.delete(now));
    req.resume();
  }

  /** Starts forwarding ready requests while there is a target and a free slot. */
  private pump(): void {
    const target = this.target;
    if (!target || this.closing) return;
    for (const e of this.ready) {
      if (this.active >= this.opts.maxUpstreamConcurrency) break;
      this.ready.delete(e);
      this.waiting.delete(e);
      clearTimeout(e.timer);
      e.state = 'forwarding';
      this.active++;
      void this.forward(e, target).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private async forward(e: Entry, target: Target): Promise<void> {
    const body = Buffer.concat(e.chunks);
    e.chunks = [];
    let up: IncomingMessage;
    let attempts: number;
    try {
      ({ res: up, attempts } = await forwardWithRetry(
        target,
        { method: e.method, url: e.url, rawHeaders: e.req.rawHeaders, body, hadBody: e.hadBody },
        {
          timeoutMs: this.opts.upstreamTimeoutMs,
          connectTimeoutMs: this.opts.connectTimeoutMs,
          signal: e.abort.signal,
          retryUntil: Math.min(performance.now() + this.opts.upstreamRetryMs, e.deadlineAt),
          onRetry: (f) => this.emit('event', { type: 'retrying', method: e.method, url: e.url, error: f.message, attempts: f.attempts }),
        },
      ));
    } catch (err) {
      this.freeBytes(e);
      e.state = 'done';
      const f = err instanceof ForwardError ? err : new ForwardError(String(err), 'upstream');
      if (f.kind === 'aborted') return;
      // A target that never accepted is still coming up: 503 tells the client to come back.
      const status = f.kind === 'connect' ? 503 : f.kind === 'timeout' ? 504 : 502;
      this.counters.upstreamErrors++;
      this.emit('event', { type: 'upstream-error', method: e.method, url: e.url, status, error: f.message, attempts: f.attempts });
      const headers: Record<string, string> = status === 503 ? { 'Retry-After': String(this.opts.retryAfterS) } : {};
      answer(e.res, status, `the migrated service did not answer: ${f.message}\n`, headers);
      return;
    }
    this.freeBytes(e);
    e.state = 'done';
    const status = up.statusCode ?? 502;
    this.counters.forwarded++;
    this.emit('event', { type: 'forwarded', method: e.method, url: e.url, status, attempts });
    if (e.res.destroyed) {
      up.destroy();
      return;
    }
    e.res.writeHead(status, up.statusMessage, clientResponseHeaders(up.rawHeaders));
    try {
      await pipeline(up, e.res);
    } catch {
      // Either side broke mid-body: the client sees a cut response, which is the truth.
      up.destroy();
      e.res.destroy();
    }
  }
}

/** Sends a short text answer unless one is already under way. */
function answer(res: ServerResponse, status: number, text: string, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}
