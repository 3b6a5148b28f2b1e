import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isFerryError } from '../../src/errors.ts';
import { HoldServer, type HoldEvent, type HoldServerOptions } from '../../src/traffic/HoldServer.ts';
import { Closer, closeServer, echoServer, freePort, listenOn, nextEvents, send, sha256, startEcho, tracked, type Echo } from './helpers.ts';

let closer: Closer;
let agent: http.Agent;

beforeEach(() => {
  closer = new Closer();
  agent = new http.Agent({ keepAlive: true });
  closer.add(() => agent.destroy());
});

afterEach(async () => {
  await closer.closeAll();
});

async function startHold(opts: HoldServerOptions = {}): Promise<{ hs: HoldServer; port: number }> {
  const hs = new HoldServer(opts);
  closer.add(() => hs.close());
  const { port } = await hs.listen(0, '127.0.0.1');
  return { hs, port };
}

function echoOf(body: Buffer): Echo {
  return JSON.parse(body.toString('utf8')) as Echo;
}

describe('HoldServer: hold then release', () => {
  it('answers nothing while holding, then replays every method with its body intact', async () => {
    let released = false;
    let reachedEarly = 0;
    const up = await startEcho(closer, () => {
      if (!released) reachedEarly++;
    });
    const { hs, port } = await startHold();
    const big = randomBytes(100 * 1024);
    const put = randomBytes(20_000);
    const held = nextEvents(hs, 'held', 3);
    const calls = [
      { method: 'GET', path: '/a?x=1&y=2', body: undefined as Buffer | undefined, sent: Buffer.alloc(0) },
      { method: 'POST', path: '/b', body: big, sent: big },
      { method: 'PUT', path: '/c/d?z', body: put, sent: put, chunked: 4096 },
    ].map((c) => ({
      ...c,
      reply: tracked(send(port, { method: c.method, path: c.path, body: c.body, chunked: c.chunked, agent, headers: { 'X-Ferry-Test': c.method } })),
    }));
    await held;

    expect(calls.every((c) => !c.reply.settled())).toBe(true);
    expect(up.seen).toHaveLength(0);
    expect(hs.stats()).toMatchObject({ held: 3, heldBytes: big.length + put.length, forwarded: 0 });

    released = true;
    hs.release({ host: '127.0.0.1', port: up.port });
    for (const c of calls) {
      const r = await c.reply.promise;
      expect(r.status).toBe(200);
      const e = echoOf(r.body);
      expect(e).toMatchObject({ method: c.method, url: c.path, sha256: sha256(c.sent), length: c.sent.length });
      expect(e.headers['x-ferry-test']).toBe(c.method);
      expect(r.headers['x-upstream']).toBe('yes');
      expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    }
    expect(reachedEarly).toBe(0);
    expect(hs.stats()).toMatchObject({ held: 0, heldBytes: 0, forwarded: 3, expired: 0, rejected: 0, upstreamErrors: 0, maxHeldSeen: 3 });
  });

  it('forwards at once after release, and holds again after hold()', async () => {
    const up = await startEcho(closer);
    const { hs, port } = await startHold();
    hs.release({ host: '127.0.0.1', port: up.port });
    const direct = await send(port, { method: 'DELETE', path: '/now', agent });
    expect(direct.status).toBe(200);
    expect(echoOf(direct.body).method).toBe('DELETE');

    hs.hold();
    expect(hs.releasedTo).toBeNull();
    const held = nextEvents(hs, 'held');
    const later = tracked(send(port, { path: '/later', agent }));
    await held;
    expect(later.settled()).toBe(false);
    expect(up.seen.map((e) => e.url)).toEqual(['/now']);
    hs.release({ host: '127.0.0.1', port: up.port });
    expect((await later.promise).status).toBe(200);
  });

  it('drops hop-by-hop headers, including those named in Connection', async () => {
    const up = await startEcho(closer);
    const { hs, port } = await startHold();
    hs.release({ host: '127.0.0.1', port: up.port });
    const r = await send(port, { path: '/h', agent, headers: { Connection: 'keep-alive, X-Hop', 'X-Hop': '1', 'Proxy-Authorization': 'x', 'X-End': 'kept' } });
    const h = echoOf(r.body).headers;
    expect(h['x-hop']).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
    expect(h['x-end']).toBe('kept');
    expect(h.host).toBe(`127.0.0.1:${port}`);
  });
});

describe('HoldServer: deadline', () => {
  it('answers 503 with Retry-After once a request has been held for deadlineMs', async () => {
    const { hs, port } = await startHold({ deadlineMs: 200, retryAfterS: 3 });
    const expired = nextEvents(hs, 'expired', 2);
    const replies = await Promise.all([send(port, { path: '/x', agent }), send(port, { method: 'POST', path: '/y', body: randomBytes(5000), agent })]);
    await expired;
    for (const r of replies) {
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('3');
      expect(r.body.toString()).toMatch(/being migrated/);
    }
    expect(hs.stats()).toMatchObject({ expired: 2, held: 0, heldBytes: 0, forwarded: 0 });
  });
});

describe('HoldServer: bounds', () => {
  it('refuses the request past maxHeldRequests at once while the others stay held', async () => {
    const up = await startEcho(closer);
    const { hs, port } = await startHold({ maxHeldRequests: 5 });
    const held = nextEvents(hs, 'held', 5);
    const five = Array.from({ length: 5 }, (_, i) => tracked(send(port, { path: `/r${i}`, agent })));
    await held;

    const sixth = await send(port, { path: '/r5', agent });
    expect(sixth.status).toBe(503);
    expect(sixth.headers['retry-after']).toBe('2');
    expect(five.every((r) => !r.settled())).toBe(true);
    expect(hs.stats()).toMatchObject({ held: 5, rejected: 1, maxHeldSeen: 5 });

    hs.release({ host: '127.0.0.1', port: up.port });
    const statuses = await Promise.all(five.map(async (r) => (await r.promise).status));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(hs.stats()).toMatchObject({ held: 0, forwarded: 5, rejected: 1, maxHeldSeen: 5 });
  });

  it('keeps held body bytes under maxHeldBytes: 413 for a body that can never fit, 503 when full', async () => {
    const up = await startEcho(closer);
    const max = 64 * 1024;
    const { hs, port } = await startHold({ maxHeldBytes: max });
    const overshoot: number[] = [];
    hs.on('event', (_e: HoldEvent) => {
      if (hs.stats().heldBytes > max) overshoot.push(hs.stats().heldBytes);
    });

    // Chunked, so the server only learns the size while reading: it stops keeping bytes at the bound.
    const chunked = await send(port, { method: 'POST', path: '/chunked', body: randomBytes(200 * 1024), chunked: 16 * 1024, agent });
    expect(chunked.status).toBe(413);
    expect(hs.stats()).toMatchObject({ heldBytes: 0, held: 0, rejected: 1 });

    const first = randomBytes(40 * 1024);
    const held = nextEvents(hs, 'held');
    const kept = tracked(send(port, { method: 'POST', path: '/kept', body: first, agent }));
    await held;
    expect(hs.stats().heldBytes).toBe(first.length);

    const full = await send(port, { method: 'POST', path: '/full', body: randomBytes(40 * 1024), agent });
    expect(full.status).toBe(503);
    expect(full.headers['retry-after']).toBe('2');

    const tooBig = await send(port, { method: 'POST', path: '/big', body: randomBytes(512 * 1024), agent });
    expect(tooBig.status).toBe(413);
    expect(kept.settled()).toBe(false);
    expect(hs.stats()).toMatchObject({ held: 1, heldBytes: first.length, rejected: 3 });

    hs.release({ host: '127.0.0.1', port: up.port });
    const r = await kept.promise;
    expect(r.status).toBe(200);
    expect(echoOf(r.body).sha256).toBe(sha256(first));
    expect(up.seen.map((e) => e.url)).toEqual(['/kept']);
    expect(overshoot).toEqual([]);
    expect(hs.stats().heldBytes).toBe(0);
  });

  it('refuses an oversized body before the client sends it (Expect: 100-continue)', async () => {
    const { hs, port } = await startHold({ maxHeldBytes: 1024 });
    const result = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent, headers: { Expect: '100-continue', 'Content-Length': 10 * 1024 * 1024 } });
      req.on('continue', () => {
        continued = true;
        req.end(Buffer.alloc(10 * 1024 * 1024));
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, continued });
          req.destroy();
        });
      });
      req.on('error', (e) => (continued ? reject(e) : undefined));
      req.flushHeaders();
    });
    expect(result).toEqual({ status: 413, continued: false });
    expect(hs.stats()).toMatchObject({ rejected: 1, heldBytes: 0 });
  });
});

describe('HoldServer: releaseWhenHealthy', () => {
  it('polls the probe and releases on its first success, after the target starts listening', async () => {
    const port0 = await freePort();
    const { server, seen } = echoServer();
    closer.add(() => closeServer(server));
    const { hs, port } = await startHold();
    const held = nextEvents(hs, 'held');
    const reply = tracked(send(port, { method: 'POST', path: '/w', body: 'hello', agent }));
    await held;

    const answers: boolean[] = [];
    const probe = async (): Promise<boolean> => {
      const ok = server.listening;
      answers.push(ok);
      // Two failed polls first, so the loop is shown to keep polling.
      if (answers.length === 2) await listenOn(server, port0);
      return ok;
    };
    const releasedP = hs.releaseWhenHealthy({ host: '127.0.0.1', port: port0 }, probe, 10);
    expect(await releasedP).toBe(true);
    expect(answers).toEqual([false, false, true]);
    const r = await reply.promise;
    expect(r.status).toBe(200);
    expect(echoOf(r.body)).toMatchObject({ method: 'POST', sha256: sha256('hello') });
    expect(seen).toHaveLength(1);
  });

  it('stops polling when hold() comes first, and treats a throwing probe as not healthy', async () => {
    const { hs } = await startHold();
    let calls = 0;
    const probe = async (): Promise<boolean> => {
      calls++;
      if (calls === 2) hs.hold();
      throw new Error('not yet');
    };
    expect(await hs.releaseWhenHealthy({ host: '127.0.0.1', port: 1 }, probe, 5)).toBe(false);
    expect(calls).toBe(2);
    expect(hs.releasedTo).toBeNull();
  });
});

describe('HoldServer: upstream failures', () => {
  it('retries a target that refuses connections, then answers 503 and counts upstreamErrors', async () => {
    const dead = await freePort();
    const { hs, port } = await startHold({ upstreamRetryMs: 1000 });
    const held = nextEvents(hs, 'held', 2);
    const replies = [send(port, { path: '/g', agent }), send(port, { method: 'POST', path: '/p', body: 'x', agent })];
    await held;
    const errors = nextEvents(hs, 'upstream-error', 2);
    hs.release({ host: '127.0.0.1', port: dead });
    for (const r of await Promise.all(replies)) {
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('2');
    }
    for (const e of await errors) expect(e.attempts).toBeGreaterThan(1);
    expect(hs.stats()).toMatchObject({ upstreamErrors: 2, forwarded: 0, held: 0, heldBytes: 0 });
  });

  it('delivers once a target that refused at release starts listening within the retry window', async () => {
    const target = await freePort();
    const { server, seen } = echoServer();
    closer.add(() => closeServer(server));
    const { hs, port } = await startHold({ upstreamRetryMs: 10_000 });
    const held = nextEvents(hs, 'held');
    const reply = send(port, { method: 'PUT', path: '/late', body: 'payload', agent });
    await held;
    const retrying = nextEvents(hs, 'retrying');
    hs.release({ host: '127.0.0.1', port: target });
    await retrying;
    await listenOn(server, target);
    const r = await reply;
    expect(r.status).toBe(200);
    expect(echoOf(r.body)).toMatchObject({ method: 'PUT', sha256: sha256('payload') });
    expect(seen).toHaveLength(1);
    expect(hs.stats()).toMatchObject({ forwarded: 1, upstreamErrors: 0 });
  });

  it('answers 502 without retrying when the target drops the connection after accepting it', async () => {
    let hits = 0;
    const rude = http.createServer((req) => {
      hits++;
      req.socket.destroy();
    });
    const upPort = await listenOn(rude);
    closer.add(() => closeServer(rude));
    const { hs, port } = await startHold();
    hs.release({ host: '127.0.0.1', port: upPort });
    const r = await send(port, { method: 'POST', path: '/once', body: 'do-not-repeat', agent });
    expect(r.status).toBe(502);
    expect(hits).toBe(1);
    expect(hs.stats()).toMatchObject({ upstreamErrors: 1, forwarded: 0 });
  });

  it('answers 504 when the target accepts but does not answer within upstreamTimeoutMs', async () => {
    const silent = http.createServer(() => undefined);
    const upPort = await listenOn(silent);
    closer.add(() => closeServer(silent));
    const { hs, port } = await startHold({ upstreamTimeoutMs: 100 });
    hs.release({ host: '127.0.0.1', port: upPort });
    const r = await send(port, { path: '/slow', agent });
    expect(r.status).toBe(504);
    expect(hs.stats().upstreamErrors).toBe(1);
  });
});

describe('HoldServer: lifecycle', () => {
  it('forgets a held request whose client goes away', async () => {
    const { hs, port } = await startHold();
    const held = nextEvents(hs, 'held');
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/gone', agent, headers: { 'Content-Length': 3 } });
    req.on('error', () => undefined);
    req.end('abc');
    await held;
    const abandoned = nextEvents(hs, 'abandoned');
    req.destroy();
    await abandoned;
    expect(hs.stats()).toMatchObject({ held: 0, heldBytes: 0, abandoned: 1 });
  });

  it('close() answers held requests 503 and resolves', async () => {
    const hs = new HoldServer();
    closer.add(() => hs.close());
    const { port } = await hs.listen();
    const held = nextEvents(hs, 'held', 2);
    const replies = [send(port, { path: '/1', agent }), send(port, { method: 'POST', path: '/2', body: 'b', agent })];
    await held;
    await hs.close();
    for (const r of await Promise.all(replies)) expect(r.status).toBe(503);
    expect(() => hs.release({ host: '127.0.0.1', port: 1 })).toThrow(expect.objectContaining({ code: ErrorCode.Internal, message: 'hold server is closed' }));
  });

  it('rejects bad options and targets with stable codes', async () => {
    expect(() => new HoldServer({ deadlineMs: 0 })).toThrow(expect.objectContaining({ code: ErrorCode.TrafficInvalidOption, details: { option: 'deadlineMs', value: 0 } }));
    expect(() => new HoldServer({ maxHeldBytes: 1.5 })).toThrow(expect.objectContaining({ code: ErrorCode.TrafficInvalidOption }));
    const { hs } = await startHold();
    let err: unknown;
    try {
      hs.release({ host: '', port: 70000 });
    } catch (e) {
      err = e;
    }
    expect(isFerryError(err, ErrorCode.TrafficInvalidTarget)).toBe(true);
    await expect(hs.listen()).rejects.toMatchObject({ code: ErrorCode.Internal, message: 'hold server is already listening' });
  });
});
