import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HoldEvent, HoldServer } from '../../src/traffic/HoldServer.ts';
export { freePort } from '../../src/util/free-port.ts';

/** Everything a test opened, closed in afterEach in reverse order. */
export class Closer {
  private readonly fns: (() => Promise<void> | void)[] = [];

  add(fn: () => Promise<void> | void): void {
    this.fns.push(fn);
  }

  async closeAll(): Promise<void> {
    while (this.fns.length > 0) await this.fns.pop()!();
  }
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** What the echo upstream answers: enough to prove the request crossed intact. */
export interface Echo {
  method: string;
  url: string;
  sha256: string;
  length: number;
  headers: Record<string, string | string[] | undefined>;
}

export interface Upstream {
  server: http.Server;
  port: number;
  /** Requests seen, in arrival order. */
  seen: Echo[];
  close(): Promise<void>;
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function listenOn(server: http.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** An HTTP server that echoes method, url, body hash and headers as JSON (plus two test headers). */
export function echoServer(onRequest?: (e: Echo) => void): { server: http.Server; seen: Echo[] } {
  const seen: Echo[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const e: Echo = { method: req.method!, url: req.url!, sha256: sha256(body), length: body.length, headers: req.headers };
      seen.push(e);
      onRequest?.(e);
      const out = JSON.stringify(e);
      res.writeHead(200, ['Content-Type', 'application/json', 'X-Upstream', 'yes', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
      res.end(out);
    });
  });
  return { server, seen };
}

export async function startEcho(closer: Closer, onRequest?: (e: Echo) => void): Promise<Upstream> {
  const { server, seen } = echoServer(onRequest);
  const port = await listenOn(server);
  const close = () => closeServer(server);
  closer.add(close);
  return { server, port, seen, close };
}

/** A port nothing listens on (bound, then released). */

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  error?: string;
}

export interface SendOptions {
  method?: string;
  path?: string;
  body?: Buffer | string;
  /** Send the body in pieces without Content-Length (chunked transfer encoding). */
  chunked?: number;
  headers?: Record<string, string>;
  agent: http.Agent;
}

/** One request; never rejects: a transport failure comes back as status 0 with `error`. */
export function send(port: number, o: SendOptions): Promise<Reply> {
  return new Promise((resolve) => {
    let done = false;
    const settle = (r: Reply): void => {
      if (!done) {
        done = true;
        resolve(r);
      }
    };
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.body !== undefined && !o.chunked) headers['Content-Length'] = Buffer.byteLength(o.body);
    const req = http.request({ host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path ?? '/', headers, agent: o.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => settle({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', (e: NodeJS.ErrnoException) => settle({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.alloc(0), error: e.code ?? e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => settle({ status: 0, headers: {}, rawHeaders: [], body: Buffer.alloc(0), error: e.code ?? e.message }));
    if (o.body !== undefined && o.chunked) {
      const b = Buffer.from(o.body);
      for (let off = 0; off < b.length; off += o.chunked) req.write(b.subarray(off, off + o.chunked));
      req.end();
    } else {
      req.end(o.body);
    }
  });
}

/** Resolves once `count` events of `type` have been emitted from now on. */
export function nextEvents<T extends HoldEvent['type']>(hs: HoldServer, type: T, count = 1): Promise<Extract<HoldEvent, { type: T }>[]> {
  return new Promise((resolve) => {
    const got: Extract<HoldEvent, { type: T }>[] = [];
    const on = (e: HoldEvent): void => {
      if (e.type !== type) return;
      got.push(e as Extract<HoldEvent, { type: T }>);
      if (got.length === count) {
        hs.off('event', on);
        resolve(got);
      }
    };
    hs.on('event', on);
  });
}

/** A promise plus a flag saying whether it has settled yet, for ordering assertions. */
export function tracked<T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  const promise = p.then((v) => {
    settled = true;
    return v;
  });
  return { promise, settled: () => settled };
}
