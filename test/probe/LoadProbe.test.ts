import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import { HoldServer } from '../../src/traffic/HoldServer.ts';
import { LoadProbe, summarize } from '../../src/probe/LoadProbe.ts';
import { Closer, closeServer, listenOn, nextEvents, startEcho } from '../traffic/helpers.ts';

let closer: Closer;

beforeEach(() => {
  closer = new Closer();
});

afterEach(async () => {
  await closer.closeAll();
});

async function serve(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  const port = await listenOn(server);
  closer.add(() => closeServer(server));
  return { server, url: `http://127.0.0.1:${port}/probe` };
}

describe('LoadProbe', () => {
  it('makes exactly maxRequests requests from N clients and records each', async () => {
    let served = 0;
    const { url } = await serve((_req, res) => {
      served++;
      res.end('ok');
    });
    const probe = new LoadProbe({ url, concurrency: 4, maxRequests: 40 });
    const samples = await probe.run();
    expect(samples).toHaveLength(40);
    expect(served).toBe(40);
    expect(samples.map((s) => s.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(new Set(samples.map((s) => s.client))).toEqual(new Set([0, 1, 2, 3]));
    expect(samples.every((s) => s.status === 200 && s.error === undefined && s.latencyMs >= 0)).toBe(true);
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.startMs).toBeGreaterThanOrEqual(samples[i - 1]!.startMs);
    expect(summarize(samples)).toMatchObject({ requests: 40, failures: 0 });
    await expect(probe.run()).rejects.toMatchObject({ code: ErrorCode.Internal, message: 'a LoadProbe runs once: create a new one' });
  });

  it('records HTTP statuses and counts non-2xx/3xx as failures', async () => {
    let n = 0;
    const { url } = await serve((_req, res) => {
      n++;
      res.statusCode = n % 4 === 0 ? 503 : n % 4 === 1 ? 302 : 200;
      res.end();
    });
    const samples = await new LoadProbe({ url, concurrency: 1, maxRequests: 12 }).run();
    expect(samples.map((s) => s.status)).toEqual([302, 200, 200, 503, 302, 200, 200, 503, 302, 200, 200, 503]);
    expect(summarize(samples).failures).toBe(3);
  });

  it('POSTs the generated body for each request', async () => {
    const bodies: string[] = [];
    const { url } = await serve((req, res) => {
      let b = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (b += c));
      req.on('end', () => {
        bodies.push(`${req.method} ${b}`);
        res.end();
      });
    });
    const samples = await new LoadProbe({ url, concurrency: 1, maxRequests: 3, body: (seq) => `body-${seq}` }).run();
    expect(samples).toHaveLength(3);
    expect(bodies).toEqual(['POST body-0', 'POST body-1', 'POST body-2']);
  });

  it('records connection errors as status 0 when the server goes away mid-run', async () => {
    let served = 0;
    const box: { server?: http.Server } = {};
    const { server, url } = await serve((_req, res) => {
      served++;
      res.end('ok', () => {
        if (served === 20) void closeServer(box.server!);
      });
    });
    box.server = server;
    const samples = await new LoadProbe({ url, concurrency: 3, maxRequests: 60 }).run();
    expect(samples).toHaveLength(60);
    const failed = samples.filter((s) => s.status === 0);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((s) => typeof s.error === 'string' && s.error.length > 0)).toBe(true);
    expect(failed.some((s) => s.error === 'ECONNREFUSED')).toBe(true);
    expect(samples.filter((s) => s.status === 200).length).toBeGreaterThanOrEqual(20);
    expect(summarize(samples).failures).toBe(samples.filter((s) => s.status !== 200).length);
  });

  it('stops issuing requests when stop() is called; in-flight ones still finish', async () => {
    let served = 0;
    const probeBox: { probe?: LoadProbe } = {};
    const { url } = await serve((_req, res) => {
      served++;
      if (served === 10) probeBox.probe!.stop();
      res.end();
    });
    const probe = new LoadProbe({ url, concurrency: 3, maxRequests: 100_000 });
    probeBox.probe = probe;
    const samples = await probe.run();
    expect(samples.length).toBeGreaterThanOrEqual(10);
    expect(samples.length).toBeLessThanOrEqual(10 + 3);
    expect(samples.length).toBe(served);
    expect(samples.every((s) => s.status === 200)).toBe(true);
  });

  it('ends at durationMs', async () => {
    const { url } = await serve((_req, res) => res.end());
    const samples = await new LoadProbe({ url, concurrency: 2, durationMs: 50, maxRequests: 10_000_000 }).run();
    expect(samples.length).toBeGreaterThan(0);
  });

  it('gives up on a request after timeoutMs', async () => {
    const { url } = await serve(() => undefined);
    const samples = await new LoadProbe({ url, concurrency: 1, maxRequests: 2, timeoutMs: 50 }).run();
    expect(samples.map((s) => s.status)).toEqual([0, 0]);
    expect(samples.every((s) => s.error?.startsWith('timeout'))).toBe(true);
  });

  it('rejects bad options', () => {
    expect(() => new LoadProbe({ url: 'https://example.com/' })).toThrow(expect.objectContaining({ code: ErrorCode.TrafficInvalidOption, details: { option: 'url' } }));
    expect(() => new LoadProbe({ url: 'http://127.0.0.1/', concurrency: 0 })).toThrow(expect.objectContaining({ code: ErrorCode.TrafficInvalidOption }));
  });

  it('through a HoldServer: requests held mid-run all succeed once released', async () => {
    const hs = new HoldServer();
    closer.add(() => hs.close());
    const { port } = await hs.listen();
    let upstreamSeen = 0;
    const held = nextEvents(hs, 'held', 3);
    const up = await startEcho(closer, () => {
      upstreamSeen++;
      if (upstreamSeen === 10) hs.hold(); // the freeze
    });
    hs.release({ host: '127.0.0.1', port: up.port });
    const run = new LoadProbe({ url: `http://127.0.0.1:${port}/`, concurrency: 3, maxRequests: 30 }).run();
    await held; // every client is now blocked on a held request
    expect(hs.stats().held).toBe(3);
    hs.release({ host: '127.0.0.1', port: up.port });
    const samples = await run;
    expect(samples).toHaveLength(30);
    expect(summarize(samples).failures).toBe(0);
    expect(hs.stats()).toMatchObject({ forwarded: 30, held: 0, maxHeldSeen: 3 });
  });
});
