/**
 * The two-cloud lab (issue 12): two bridges and /24s, joined only by WireGuard (wireguard-go)
 * between a gateway per cloud, over a WAN shaped as `wan` (30 ms round trip by the UDP relay,
 * 200 Mbit/s by HTB). Migrations from the CLI, the chat and through HAProxy's hold server cross
 * it; a canary in the container's memory is looked for on the decrypted tunnel interface.
 * The public clouds cannot exist here: the two "clouds" are namespaces on this machine.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIperfJson, measureLink } from '../../src/bench/iperf.ts';
import { ConsoleChat, defaultConsolePolicy } from '../../src/chat/console/ConsoleChat.ts';
import { startRuntime } from '../../src/chat/runtime.ts';
import { findHost } from '../../src/hosts/inventory.ts';
import { RemoteHost } from '../../src/hosts/RemoteHost.ts';
import { WAN } from '../../src/infra/link/profile.ts';
import { gatewayNames, labLayout, WAN_NAMESPACE, type GatewayNames } from '../../src/infra/providers/topology.ts';
import type { MigrationReport } from '../../src/migrate/report.ts';
import { FULL_SCOPE, skipNote, twoCloudsUnavailable } from '../helpers/env.ts';
import { clearLab, config, debris, deploy, ferry, hostsFile, httpText, labDown, labLeftovers, labUp, provision, runcState } from '../helpers/lab.ts';

const pexec = promisify(execFile);

const why = twoCloudsUnavailable();
skipNote(why, 'the two-cloud lab (WireGuard over a shaped WAN)');

/** Runs `fn` with CRIU's TLS off for the `ferry` commands it starts (FERRY_CRIU_TLS=0; it is on by default). */
async function withoutTls<T>(fn: () => Promise<T>): Promise<T> {
  const was = process.env.FERRY_CRIU_TLS;
  process.env.FERRY_CRIU_TLS = '0';
  try {
    return await fn();
  } finally {
    if (was === undefined) delete process.env.FERRY_CRIU_TLS;
    else process.env.FERRY_CRIU_TLS = was;
  }
}

// 32 MiB: the canary and the tunnel need no more, and each of the suite's six crossings copies it
// through user-space WireGuard at ~6 MB/s (CI's time budget).
const MIB = 32;
const CANARY = `ferry-canary-${randomBytes(12).toString('hex')}`;

async function layout() {
  const file = await hostsFile();
  return labLayout({ hosts: file.hosts.map((h) => h.name), topology: 'two-clouds' }, 'local', config);
}

async function gateways(): Promise<[GatewayNames, GatewayNames]> {
  const l = await layout();
  return [gatewayNames(0, l.sites[0]!), gatewayNames(1, l.sites[1]!)];
}

/** argv in a namespace of the lab on this machine (a gateway, the WAN). */
async function inNs(ns: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await pexec('nsenter', [`--net=/run/netns/${ns}`, ...argv], { maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** argv on a lab host over SSH, with its exit code. */
async function onHostRun(host: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const h = new RemoteHost(findHost(await hostsFile(), host));
  try {
    return await h.exec(argv, { timeoutS: 60 });
  } finally {
    h.dispose();
  }
}

const addressOf = async (host: string) => findHost(await hostsFile(), host).address;

/** `ping -q` from a host: the round trip's min and avg in ms, or null when nothing came back. */
async function ping(from: string, to: string, count = 10): Promise<{ min: number; avg: number } | null> {
  const r = await onHostRun(from, ['ping', '-q', '-n', '-c', String(count), '-i', '0.2', '-W', '1', to]);
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(r.stdout);
  return r.code === 0 && m ? { min: Number(m[1]), avg: Number(m[2]) } : null;
}

async function migrateCli(from: string, to: string, method: string, extra: string[] = []): Promise<MigrationReport> {
  const r = await ferry(['migrate', 'web1', '--from', from, '--to', to, '--method', method, '--json', ...extra]);
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
  return JSON.parse(r.stdout) as MigrationReport;
}

/** Where web1 runs now. */
async function web1Host(): Promise<string> {
  for (const h of ['a-1', 'b-1']) if ((await runcState(h, 'web1')) === 'running') return h;
  throw new Error('web1 runs on neither a-1 nor b-1');
}

/** Moves web1 from one cloud to the other and checks it is the same process, its counter continuing. */
async function crossing(method: string, extra: string[] = []): Promise<{ report: MigrationReport; from: string; to: string }> {
  const from = await web1Host();
  const to = from === 'a-1' ? 'b-1' : 'a-1';
  const instance = await httpText(from, 8080, '/instance');
  const before = Number(await httpText(from, 8080, '/counter'));
  const report = await migrateCli(from, to, method, extra);
  expect(report).toMatchObject({ outcome: 'migrated', method, runsOn: to });
  expect(await httpText(to, 8080, '/instance')).toBe(instance);
  expect(Number(await httpText(to, 8080, '/counter'))).toBeGreaterThanOrEqual(before);
  expect(await runcState(from, 'web1')).toBeNull();
  expect(await debris(from)).toEqual([]);
  expect(await debris(to)).toEqual([]);
  return { report, from, to };
}

/** Bytes WireGuard received and sent on a gateway (its control socket is on the shared filesystem). */
async function wgTransfer(g: GatewayNames): Promise<number> {
  const { stdout } = await pexec('wg', ['show', g.wg, 'transfer']);
  const [, rx, tx] = stdout.trim().split(/\s+/);
  return Number(rx) + Number(tx);
}

/**
 * tcpdump on a gateway's WireGuard interface: the traffic between the clouds as WireGuard
 * delivers it, decrypted. stop() returns the capture file's bytes.
 */
async function capture(g: GatewayNames): Promise<{ stop: () => Promise<Buffer> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-capture-'));
  const file = path.join(dir, 'tunnel.pcap');
  const p = spawn('nsenter', [`--net=/run/netns/${g.namespace}`, 'tcpdump', '-i', g.wg, '-n', '-s', '0', '-U', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    p.stderr.on('data', (d) => {
      err += d;
      if (err.includes('listening on')) resolve();
    });
    p.once('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
  });
  return {
    stop: async () => {
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGINT');
      await exited;
      const bytes = await readFile(file);
      await rm(dir, { recursive: true, force: true });
      return bytes;
    },
  };
}

/** Copies of the canary in a capture. */
function canaries(pcap: Buffer): number {
  let n = 0;
  for (let at = pcap.indexOf(CANARY); at !== -1; at = pcap.indexOf(CANARY, at + 1)) n++;
  return n;
}

describe.skipIf(why !== null)('two clouds joined by WireGuard over the wan profile (local provider)', () => {
  beforeAll(async () => {
    await labUp(2, 'local', 'two-clouds', WAN);
    await provision();
    await clearLab();
    await deploy('a-1', { workload: 'web', name: 'web1', ballast_mib: MIB, port: 8080, canary: CANARY });
  });
  afterAll(async () => {
    await labDown();
  });

  it('lab status shows both clouds, their gateways and the link; ferry hosts shows each host\'s cloud', async () => {
    const st = await ferry(['lab', 'status', '--json']);
    expect(st.code, st.stdout + st.stderr).toBe(0);
    const s = JSON.parse(st.stdout);
    expect(s).toMatchObject({
      topology: 'two-clouds',
      hosts: [
        { name: 'a-1', cloud: 'cloud-a', whole: true, ssh: true },
        { name: 'b-1', cloud: 'cloud-b', whole: true, ssh: true },
      ],
      wan: { link: WAN, relay: { whole: true }, gateways: [{ cloud: 'cloud-a', whole: true }, { cloud: 'cloud-b', whole: true }] },
    });
    const text = await ferry(['lab', 'status']);
    expect(text.stdout).toMatch(/link: wan: 30 ms round trip, 200 Mbit\/s \(HTB/);
    const hosts = await ferry(['hosts', '--json']);
    expect(hosts.code, hosts.stderr).toBe(0);
    expect((JSON.parse(hosts.stdout) as { host: string; cloud: string }[]).map((h) => [h.host, h.cloud])).toEqual([
      ['a-1', 'cloud-a'],
      ['b-1', 'cloud-b'],
    ]);
    const file = await hostsFile();
    // The hold server of a front in cloud-b must listen where cloud-b reaches the controller.
    expect(file.hosts.map((h) => [h.address, h.controllerAddress])).toEqual([
      ['10.247.1.11', '10.247.1.1'],
      ['10.247.2.11', '10.247.2.1'],
    ]);
  });

  it('crosses with the relay\'s round trip, and only through the tunnel: with it down no path is left, and lab up repairs it', async () => {
    const b = await addressOf('b-1');
    const rtt = await ping('a-1', b);
    expect(rtt, 'a-1 cannot ping b-1 through the tunnel').not.toBeNull();
    console.log(`round trip a-1 -> b-1 through the tunnel (wan: relay 15 ms each way): min ${rtt!.min.toFixed(1)} ms, avg ${rtt!.avg.toFixed(1)} ms`);
    // The delay is the relay's, a property of the lab, not a speed figure.
    expect(rtt!.min).toBeGreaterThanOrEqual(25);

    // a-1's only way to cloud-b is its gateway; it has no default route.
    const routes = (await onHostRun('a-1', ['ip', '-4', 'route', 'show'])).stdout;
    expect(routes).toMatch(/^10\.247\.2\.0\/24 via 10\.247\.1\.254 dev eth0 .*mtu 1420/m);
    expect(routes).not.toMatch(/^default/m);

    const [gwA] = await gateways();
    const instance = await httpText('a-1', 8080, '/instance');
    expect((await inNs(gwA.namespace, ['ip', 'link', 'set', gwA.wg, 'down'])).code).toBe(0);
    try {
      expect(await ping('a-1', b, 2)).toBeNull();
      // (timeout's own 124 is read as the SSH command timing out: the exit status comes back as text.)
      const tcp = await onHostRun('a-1', ['bash', '-c', 'timeout 3 bash -c "exec 3<>/dev/tcp/$1/22"; echo "rc=$?"', 'probe', b]);
      expect(tcp.stdout).toMatch(/rc=[1-9]/);
      // Not through the gateway either way: it has no other route to cloud-b…
      expect((await inNs(gwA.namespace, ['ip', 'route', 'get', b])).code).not.toBe(0);
      // …nor through the controller, which is on both bridges but forwards nothing for the lab.
      expect((await onHostRun('a-1', ['ip', 'route', 'add', `${b}/32`, 'via', '10.247.1.1'])).code).toBe(0);
      expect(await ping('a-1', b, 2)).toBeNull();
      await onHostRun('a-1', ['ip', 'route', 'del', `${b}/32`]);
      const broken = await ferry(['lab', 'status']);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(/cloud-a .*broken: gateway cloud-a: fwg-cloud-a is down/);
    } finally {
      // lab up sees the broken WAN and rebuilds it; the hosts and their containers stay.
      await labUp(2, 'local', 'two-clouds', WAN);
    }
    // The rebuilt tunnel needs its first handshake, and the gateway left standing its own retry to
    // reach the new one: tries for up to 3 minutes, printing how long it took.
    const t0 = Date.now();
    let back: Awaited<ReturnType<typeof ping>> = null;
    while (back === null && Date.now() - t0 < 180_000) {
      back = await ping('a-1', b, 3);
      if (back === null) await new Promise((r) => setTimeout(r, 2000));
    }
    console.log(`path a-1 -> b-1 back ${((Date.now() - t0) / 1000).toFixed(0)} s after lab up repaired the tunnel`);
    expect(back, 'no path a-1 -> b-1 within 3 minutes of lab up repairing the tunnel').not.toBeNull();
    expect(await httpText('a-1', 8080, '/instance')).toBe(instance);
  });

  // The canary tests below move web1 both ways with page-server and lazy, with TLS and without, and
  // see the pages in the tunnel: in the CI subset they stand for this one (npm run test:full runs it).
  it.runIf(FULL_SCOPE)('moves web1 from cloud-a to cloud-b with page-server and back with lazy through the tunnel, its counter continuing', async () => {
    const [gwA] = await gateways();
    const before = await wgTransfer(gwA);
    const there = await crossing('page-server');
    expect(there).toMatchObject({ from: 'a-1', to: 'b-1' });
    expect(there.report.bytes.pages).toBeGreaterThan(MIB * 1024 * 1024);
    // The pages went through the tunnel: WireGuard carried at least the container's memory.
    expect((await wgTransfer(gwA)) - before).toBeGreaterThan(MIB * 1024 * 1024);
    console.log(`page-server a-1 -> b-1 across the wan: downtime ${there.report.times.downtime!.toFixed(2)} s, total ${there.report.times.total!.toFixed(2)} s`);
    const back = await crossing('lazy');
    expect(back).toMatchObject({ from: 'b-1', to: 'a-1' });
    console.log(`lazy b-1 -> a-1 across the wan: downtime ${back.report.times.downtime!.toFixed(2)} s, total ${back.report.times.total!.toFixed(2)} s`);
  });

  it('without TLS the canary in web1\'s memory crosses the tunnel in the clear (page-server and lazy): the capture works', async () => {
    const [, gwB] = await gateways();
    for (const method of ['page-server', 'lazy']) {
      const cap = await capture(gwB);
      let pcap: Buffer;
      try {
        await withoutTls(() => crossing(method));
      } finally {
        pcap = await cap.stop();
      }
      console.log(`${method} without TLS: ${(pcap.length / 1048576).toFixed(1)} MiB captured on ${gwB.wg}, ${canaries(pcap)} copies of the canary`);
      expect(pcap.length).toBeGreaterThan(MIB * 1024 * 1024);
      expect(canaries(pcap)).toBeGreaterThan(0);
    }
  });

  // TLS on (the default): the same capture finds nothing.
  it('with TLS the canary never appears on the tunnel (page-server and lazy)', async () => {
    const prov = await ferry(['provision']); // the environment's certificates, on both hosts
    expect(prov.code, prov.stderr).toBe(0);
    const [, gwB] = await gateways();
    for (const method of ['page-server', 'lazy']) {
      const cap = await capture(gwB);
      let pcap: Buffer;
      try {
        await crossing(method);
      } finally {
        pcap = await cap.stop();
      }
      console.log(`${method} with TLS: ${(pcap.length / 1048576).toFixed(1)} MiB captured on ${gwB.wg}, ${canaries(pcap)} copies of the canary`);
      expect(pcap.length).toBeGreaterThan(MIB * 1024 * 1024);
      expect(canaries(pcap)).toBe(0);
    }
  });

  it('moves web1 across the clouds from the chat (console transport, request and approval)', async () => {
    const from = await web1Host();
    const to = from === 'a-1' ? 'b-1' : 'a-1';
    const instance = await httpText(from, 8080, '/instance');
    const out: string[] = [];
    const chat = new ConsoleChat((s) => out.push(s), path.join(config.labDir, 'uploads'));
    const file = await hostsFile();
    const policy = defaultConsolePolicy([...new Set(file.hosts.map((h) => h.environment))]);
    // Its own Redis (no REDIS_URL), the hosts provisioned in beforeAll.
    const rt = await startRuntime({ ...config, redisUrl: undefined, provisionBeforeMigrate: false }, chat.transport, policy, { worker: true });
    try {
      const script = [`/migrate web1 from ${from} to ${to} method page-server`, '/as bob', '/approve', '/wait', ''].join('\n');
      await chat.run(rt.service, Readable.from([script]), () => rt.idle(), false);
    } finally {
      await rt.close();
    }
    const text = out.join('\n');
    expect(text).toMatch(new RegExp(`asks to move web1 from ${from} to ${to}`));
    expect(text, text).toMatch(new RegExp(`web1 moved from ${from} to ${to}`));
    expect(await runcState(to, 'web1')).toBe('running');
    expect(await httpText(to, 8080, '/instance')).toBe(instance);
  });

  it('switches HAProxy through the hold server across the clouds with no failed request', async () => {
    if ((await web1Host()) !== 'b-1') await crossing('page-server');
    // The front in cloud-b: the hold server must listen on the controller's cloud-b address.
    const front = await ferry(['front', 'web1', '--on', 'b-1']);
    expect(front.code, front.stderr).toBe(0);
    const instance = await httpText('b-1', 8080, '/instance');
    const report = await migrateCli('b-1', 'a-1', 'page-server', ['--hold', '--probe', '20']);
    expect(report.outcome).toBe('migrated');
    expect(report.traffic).toMatch(/hold server/);
    console.log(`hold across the clouds: ${report.probe!.requests} requests, ${report.probe!.failures} failed, p99 ${report.probe!.p99Ms.toFixed(0)} ms; ${report.traffic}`);
    expect(report.probe!.requests).toBeGreaterThan(20);
    expect(report.probe!.failures).toBe(0);
    // HAProxy in cloud-b now sends its clients to web1 in cloud-a, through the tunnel.
    const r = await fetch(`http://${await addressOf('b-1')}:80/instance`, { signal: AbortSignal.timeout(5000) });
    expect((await r.text()).trim()).toBe(instance);
  });

  it('measures the shaped WAN link and the WireGuard tunnel (iperf3, printed for the README)', async () => {
    const [gwA] = await gateways();
    // The raw shaped link: from gateway A's WAN leg to the relay's side of the WAN namespace (HTB, no relay, no tunnel).
    const pid = path.join(os.tmpdir(), `ferry-iperf-wan-${process.pid}.pid`);
    const srv = await inNs(WAN_NAMESPACE, ['iperf3', '-s', '-1', '-D', '-B', gwA.relay, '-p', '15999', '--pidfile', pid]);
    expect(srv.code, srv.stderr).toBe(0);
    for (let i = 0; i < 50 && !(await inNs(WAN_NAMESPACE, ['ss', '-Hltn', 'sport = :15999'])).stdout.trim(); i++) await new Promise((r) => setTimeout(r, 100));
    const raw = await inNs(gwA.namespace, ['iperf3', '-c', gwA.relay, '-B', gwA.public, '-p', '15999', '-t', '5', '-J']);
    const link = parseIperfJson(raw.stdout || raw.stderr);
    const file = await hostsFile();
    const [a, b] = ['a-1', 'b-1'].map((n) => new RemoteHost(findHost(file, n)));
    let tunnel;
    try {
      tunnel = await measureLink(a!, b!, { seconds: 5 });
    } finally {
      a!.dispose();
      b!.dispose();
    }
    const mbit = (bps: number) => (bps / 1e6).toFixed(0);
    console.log(
      `throughput on ${new Date().toISOString().slice(0, 10)} (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}): ` +
        `shaped WAN link (HTB 200 Mbit/s, gateway to WAN) ${mbit(link.bitsPerSecond)} Mbit/s; ` +
        `WireGuard tunnel a-1 -> b-1 (wireguard-go, relay 30 ms round trip, HTB) ${mbit(tunnel.bitsPerSecond)} Mbit/s (${tunnel.retransmits ?? '?'} retransmits)`,
    );
    expect(link.bitsPerSecond).toBeGreaterThan(0);
    expect(tunnel.bitsPerSecond).toBeGreaterThan(0);
  });

  it('ferry lab down leaves nothing: namespaces, gateways, relay, WAN, bridges, routes, WireGuard sockets, keys', async () => {
    const r = await ferry(['lab', 'down']);
    expect(r.code, r.stderr).toBe(0);
    expect(labLeftovers()).toEqual([]);
  });
});
