/**
 * The two-cloud lab's WAN relay (terraform/lib/wan-relay.mjs) on loopback: two UDP sockets stand
 * where the gateways' WireGuard endpoints are in the lab. No root, no namespaces.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../src/config.ts';

const RELAY = path.join(REPO_ROOT, 'terraform', 'lib', 'wan-relay.mjs');

async function bound(port = 0): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(port, '127.0.0.1', resolve));
  return s;
}

async function freePort(): Promise<number> {
  const s = await bound();
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(resolve));
  return port;
}

interface Setup {
  relay: ChildProcess;
  gwA: dgram.Socket;
  gwB: dgram.Socket;
  relayA: number;
  relayB: number;
  stderr: () => string;
}

const running: Setup[] = [];

async function start(extra: string[]): Promise<Setup> {
  const [gwA, gwB] = [await bound(), await bound()];
  const [relayA, relayB] = [await freePort(), await freePort()];
  const relay = spawn(
    process.execPath,
    [RELAY, '--a', `127.0.0.1:${relayA}`, '--a-peer', `127.0.0.1:${gwA.address().port}`, '--b', `127.0.0.1:${relayB}`, '--b-peer', `127.0.0.1:${gwB.address().port}`, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  relay.stderr!.on('data', (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    relay.stdout!.once('data', (d) => (String(d).startsWith('relay ready') ? resolve() : reject(new Error(`relay said: ${d}`))));
    relay.once('exit', (code) => reject(new Error(`relay exited ${code}: ${err}`)));
  });
  const s = { relay, gwA, gwB, relayA, relayB, stderr: () => err };
  running.push(s);
  return s;
}

afterEach(async () => {
  for (const s of running.splice(0)) {
    s.relay.kill('SIGTERM');
    s.gwA.close();
    s.gwB.close();
  }
});

function next(sock: dgram.Socket): Promise<{ msg: Buffer; from: dgram.RemoteInfo; at: number }> {
  return new Promise((resolve) => sock.once('message', (msg, from) => resolve({ msg, from, at: performance.now() })));
}

describe('wan-relay.mjs', () => {
  it('carries datagrams between the two gateways, each way no sooner than the delay', async () => {
    const s = await start(['--delay-ms', '40']);
    const sent = performance.now();
    const atB = next(s.gwB);
    s.gwA.send('ping', s.relayA, '127.0.0.1');
    const there = await atB;
    expect(there.msg.toString()).toBe('ping');
    // It leaves by side b: the gateway there sees the relay, as a gateway sees the internet.
    expect(there.from.port).toBe(s.relayB);
    const atA = next(s.gwA);
    s.gwB.send('pong', s.relayB, '127.0.0.1');
    const back = await atA;
    expect(back.msg.toString()).toBe('pong');
    expect(back.from.port).toBe(s.relayA);
    console.log(`relay round trip at 40 ms each way: ${(back.at - sent).toFixed(1)} ms`);
    expect(there.at - sent).toBeGreaterThanOrEqual(40);
    expect(back.at - sent).toBeGreaterThanOrEqual(80);
  });

  it('keeps the order of a burst', async () => {
    const s = await start(['--delay-ms', '5']);
    const got: string[] = [];
    const all = new Promise<void>((resolve) =>
      s.gwB.on('message', (m) => {
        got.push(m.toString());
        if (got.length === 200) resolve();
      }),
    );
    for (let i = 0; i < 200; i++) s.gwA.send(String(i), s.relayA, '127.0.0.1');
    await all;
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });

  it('drops datagrams from anyone but the gateway of that side', async () => {
    const s = await start([]);
    const stranger = await bound();
    let seen = 0;
    s.gwB.on('message', () => seen++);
    stranger.send('intruder', s.relayA, '127.0.0.1');
    // The gateway on side b answers through the relay: that reply must arrive, the intruder's must not.
    const atA = next(s.gwA);
    s.gwB.send('from-b', s.relayB, '127.0.0.1');
    expect((await atA).msg.toString()).toBe('from-b');
    const marker = next(s.gwB);
    s.gwA.send('marker', s.relayA, '127.0.0.1');
    expect((await marker).msg.toString()).toBe('marker');
    expect(seen).toBe(1);
    stranger.close();
  });

  it('loses about the share of datagrams it is told to', async () => {
    const s = await start(['--loss-pct', '50']);
    let seen = 0;
    s.gwB.on('message', (m) => {
      if (m.toString() !== 'end') seen++;
    });
    for (let i = 0; i < 400; i++) {
      await new Promise<void>((resolve) => s.gwA.send(`d${i}`, s.relayA, '127.0.0.1', () => resolve()));
    }
    // A datagram that gets through marks the end (a lost one is just sent again).
    let ended = false;
    s.gwB.on('message', (m) => {
      if (m.toString() === 'end') ended = true;
    });
    while (!ended) {
      s.gwA.send('end', s.relayA, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 20));
    }
    // Binomial(400, 0.5): 200 ± 10 (one standard deviation); outside 120-280 is a broken relay.
    expect(seen).toBeGreaterThan(120);
    expect(seen).toBeLessThan(280);
  });

  it('refuses bad arguments with the usage', async () => {
    const r = spawn(process.execPath, [RELAY, '--a', 'nowhere', '--a-peer', '127.0.0.1:1', '--b', '127.0.0.1:2', '--b-peer', '127.0.0.1:3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    r.stderr.on('data', (d) => (err += d));
    const code = await new Promise((resolve) => r.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/--a must be IPV4:PORT \(got 'nowhere'\)/);
    expect(err).toMatch(/usage: wan-relay.mjs/);
  });
});
