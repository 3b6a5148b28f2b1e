/**
 * CRIU's page traffic over TLS, for real and without Ferry's lab: two network namespaces of our
 * own (hx-sec-*), certificates from Ferry's PKI code (src/infra/pki.ts), the page server started
 * with Ferry's builder (criuPageServer) and a small process dumped to it.
 *
 * - pages arrive over TLS; a client whose certificate comes from another CA is refused by the
 *   server; a server whose certificate names another host is refused by the client; a client
 *   without TLS gets nothing through;
 * - the capture: a random canary in the dumped process's memory crosses the veth in the clear
 *   without TLS (so the check can fail) and never with it;
 * - the CRIU that runc drives reads its TLS options from CRIU_CONFIG_FILE (runc has no TLS flags):
 *   a page-server checkpoint and a lazy (post-copy) migration of a runc container over TLS.
 *
 * Root only, with CRIU >= 4.2 built with GnuTLS; skipped saying what is missing. Everything it
 * starts is killed and everything it creates removed (namespaces, containers, cgroups, files).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, open, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki, pkiHostFiles } from '../../src/infra/pki.ts';
import { criuLazyPages, criuPageServer, runcCheckpoint } from '../../src/migrate/commands.ts';
import { criuTlsConfig, criuTlsFlags, type CriuTls } from '../../src/migrate/tls.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { createPair, netnsUnavailable, vethIn, type NetnsPair } from './netns.ts';
import { tcpStreams } from './pcap.ts';

function criuWithoutTls(): string | null {
  try {
    const libs = execFileSync('ldd', [execFileSync('sh', ['-c', 'command -v criu'], { encoding: 'utf8' }).trim()], { encoding: 'utf8' });
    return /libgnutls/.test(libs) ? null : 'needs a CRIU built with GnuTLS (scripts/setup.sh builds one): this one lacks --tls';
  } catch {
    return null; // labUnavailable says what is missing
  }
}

const why = labUnavailable() ?? netnsUnavailable(['ip', 'nsenter', 'setsid', 'busybox', 'tcpdump', 'openssl', 'runc', 'pgrep']) ?? criuWithoutTls();
skipNote(why, 'CRIU page traffic over TLS');

const PORT = { plain: 27301, tls: 27302, rogue: 27303, wrongName: 27304, noTls: 27305, runc: 27306, lazy: 27307 };

describe.skipIf(why !== null)('CRIU page traffic over TLS, in network namespaces', () => {
  let pair: NetnsPair;
  let good: { src: CriuTls; dst: CriuTls };
  let rogue: { src: CriuTls };
  let serial = 0;

  beforeAll(async () => {
    pair = await createPair('tls');
    const pki = path.join(pair.dir, 'pki');
    const hosts = [
      { name: 'hx-src', addresses: [pair.peer] },
      { name: 'hx-dst', addresses: [pair.target] },
    ];
    await ensurePki(pki, hosts, { environment: 'hx-sec' });
    // Another environment's CA issuing certificates with the very same names and addresses.
    const other = path.join(pair.dir, 'pki-rogue');
    await ensurePki(other, hosts, { environment: 'rogue' });
    const files = (dir: string, host: string): CriuTls => ({ cacert: path.join(dir, 'ca.crt'), ...pkiHostFiles(dir, host) });
    good = { src: files(pki, 'hx-src'), dst: files(pki, 'hx-dst') };
    rogue = { src: files(other, 'hx-src') };
  });

  afterAll(async () => {
    await pair?.destroy();
  });

  /** A process on the source holding `canary` in its memory (its environment), stdio on /dev/null. */
  async function startProcess(canary: string): Promise<number> {
    const tag = String(90_000_000 + process.pid * 10 + ++serial);
    await execa('nsenter', [`--net=/var/run/netns/${pair.nsA}`, 'setsid', '-f', 'env', `CANARY=${canary}`, 'busybox', 'sleep', tag], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const r = await execa('pgrep', ['-f', `^busybox sleep ${tag}$`], { reject: false });
      if (r.exitCode === 0) return Number(r.stdout.trim().split('\n')[0]);
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error('the process to dump did not start');
  }

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  interface Run {
    dumpRc: number;
    dumpLog: string;
    serverLog: string;
    /** Files the page server wrote, with their content. */
    received: Buffer;
    pid: number;
  }

  /** Page server on the target (Ferry's builder), then `criu dump` of a fresh process to it. */
  async function dumpTo(port: number, canary: string, server: CriuTls | undefined, client: CriuTls | undefined): Promise<Run> {
    const dir = path.join(pair.dir, `run-${port}`);
    const psDir = path.join(dir, 'ps');
    const dumpDir = path.join(dir, 'dump');
    await mkdir(psDir, { recursive: true });
    await mkdir(dumpDir, { recursive: true });
    const pid = await startProcess(canary);
    const ps = criuPageServer({ imageDir: psDir, listen: { address: pair.target, port }, pidFile: path.join(dir, 'ps.pid'), logFile: path.join(dir, 'ps.log'), tls: server });
    const started = await pair.inNs(pair.nsB, ps, { timeoutMs: 60_000 });
    expect(started.exitCode, started.stderr).toBe(0);
    const dump = ['criu', 'dump', '-t', String(pid), '-D', dumpDir, '-o', path.join(dir, 'dump.log'), '-v4', '--page-server', '--address', pair.target, '--port', String(port), ...(client ? criuTlsFlags(client, 'client') : [])];
    const r = await pair.inNs(pair.nsA, dump, { timeoutMs: 120_000 });
    // The page server ends with its one connection; wait for it so its files are complete.
    const psPid = Number((await readFile(path.join(dir, 'ps.pid'), 'utf8')).trim());
    for (let i = 0; i < 200 && alive(psPid); i++) await new Promise((res) => setTimeout(res, 25));
    const pages = (await readdir(psDir)).filter((f) => f.startsWith('pages-'));
    const received = Buffer.concat(await Promise.all(pages.map((f) => readFile(path.join(psDir, f)))));
    return { dumpRc: r.exitCode, dumpLog: await readFile(path.join(dir, 'dump.log'), 'utf8').catch(() => ''), serverLog: await readFile(path.join(dir, 'ps.log'), 'utf8').catch(() => ''), received, pid };
  }

  const newCanary = () => `FERRY-CANARY-${randomBytes(16).toString('hex')}`;

  it('pages arrive at the page server over TLS, both certificates verified', async () => {
    const canary = newCanary();
    const r = await dumpTo(PORT.tls, canary, good.dst, good.src);
    expect(r.dumpRc, r.dumpLog.slice(-2000)).toBe(0);
    expect(r.dumpLog).toContain('TLS handshake completed');
    expect(r.serverLog).toContain('TLS handshake completed');
    expect(r.received.includes(canary)).toBe(true);
  });

  it('a client whose certificate comes from another CA is refused by the page server, and its process runs on', async () => {
    const canary = newCanary();
    // It trusts the right CA (so it accepts the server) but presents a certificate of another.
    const r = await dumpTo(PORT.rogue, canary, good.dst, { ...rogue.src, cacert: good.src.cacert });
    expect(r.dumpRc).not.toBe(0);
    expect(r.serverLog).toMatch(/The certificate is NOT trusted\. The certificate issuer is unknown/);
    expect(r.received.includes(canary)).toBe(false);
    expect(alive(r.pid)).toBe(true);
  });

  it('a page server whose certificate names another host is refused by the client', async () => {
    const canary = newCanary();
    // The right CA, but the source's own certificate: it does not name the target's address.
    const r = await dumpTo(PORT.wrongName, canary, good.src, good.src);
    expect(r.dumpRc).not.toBe(0);
    expect(r.dumpLog).toMatch(/The name in the certificate does not match/);
    expect(r.received.includes(canary)).toBe(false);
    expect(alive(r.pid)).toBe(true);
  });

  it('a client without TLS gets no page through to a TLS page server', async () => {
    const canary = newCanary();
    const r = await dumpTo(PORT.noTls, canary, good.dst, undefined);
    expect(r.dumpRc).not.toBe(0);
    expect(r.received.includes(canary)).toBe(false);
    expect(alive(r.pid)).toBe(true);
  });

  /** tcpdump on the target's veth around fn; the reassembled TCP streams to `port`. */
  async function capture(port: number, fn: () => Promise<void>): Promise<Buffer[]> {
    const file = path.join(pair.dir, `capture-${port}.pcap`);
    const iface = await vethIn(pair, pair.nsB);
    // -Z root: tcpdump would otherwise drop to its own user, who cannot write into our 0700 directory.
    const td = pair.spawn(pair.nsB, ['tcpdump', '-i', iface, '-w', file, '-U', '-s', '0', '-Z', 'root', 'tcp', 'port', String(port)]);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      td.stderr?.on('data', (c: Buffer) => {
        err += c.toString();
        if (err.includes('listening on')) resolve();
      });
      void td.then(() => reject(new Error(`tcpdump ended: ${err}`)));
    });
    try {
      await fn();
    } finally {
      td.kill('SIGINT');
      await td;
    }
    return tcpStreams(await readFile(file))
      .filter((s) => s.key.endsWith(`>${pair.target}:${port}`))
      .map((s) => s.payload);
  }

  it('the canary crosses the wire in the clear without TLS (so this check can fail)', async () => {
    const canary = newCanary();
    let r: Run | undefined;
    const streams = await capture(PORT.plain, async () => {
      r = await dumpTo(PORT.plain, canary, undefined, undefined);
    });
    expect(r!.dumpRc, r!.dumpLog.slice(-2000)).toBe(0);
    expect(r!.received.includes(canary)).toBe(true);
    expect(streams.some((s) => s.includes(canary))).toBe(true);
  });

  it('with TLS the canary never appears on the wire, though every page crossed it', async () => {
    const canary = newCanary();
    let r: Run | undefined;
    const streams = await capture(PORT.tls + 100, async () => {
      r = await dumpTo(PORT.tls + 100, canary, good.dst, good.src);
    });
    expect(r!.dumpRc, r!.dumpLog.slice(-2000)).toBe(0);
    expect(r!.received.includes(canary)).toBe(true);
    expect(streams).toHaveLength(1);
    const wire = streams[0]!;
    expect(wire[0]).toBe(0x16); // a TLS handshake record opens the stream
    expect(wire.length).toBeGreaterThan(r!.received.length);
    expect(wire.includes(canary)).toBe(false);
    expect(wire.includes(Buffer.from(canary.slice(13)))).toBe(false);
  });

  describe('the CRIU runc drives, given its TLS options through CRIU_CONFIG_FILE', () => {
    const id = `hx-sec-${process.pid}`;
    const canary = newCanary();
    let root: { a: string; b: string };
    let bundle: string;
    /** The lazy checkpoint: killed first at the end, so it never holds a frozen container. */
    let lazyDump: ReturnType<typeof spawn> | undefined;

    /** Ferry's runc argv, pointed at this test's own runc root (never the lab's /run/ferry/runc). */
    const ownRoot = (argv: string[], rootDir: string) => argv.map((a, i) => (argv[i - 1] === '--root' ? rootDir : a));

    beforeAll(async () => {
      root = { a: path.join(pair.dir, 'runc-a'), b: path.join(pair.dir, 'runc-b') };
      bundle = path.join(pair.dir, 'bundle');
      await mkdir(path.join(bundle, 'rootfs', 'bin'), { recursive: true });
      await cp(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), path.join(bundle, 'rootfs', 'bin', 'busybox'));
      await execa('runc', ['spec'], { cwd: bundle });
      const config = JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8'));
      config.process.terminal = false;
      // CRIU's restore makes a temporary directory in the container's root.
      config.root.readonly = false;
      config.process.args = ['/bin/busybox', 'sleep', '1000000'];
      config.process.env.push(`CANARY=${canary}`);
      // The host's network namespace (ours), a cgroup path of our own (one kernel, as in the lab).
      config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
      config.linux.cgroupsPath = `/${id}/a`;
      await writeFile(path.join(bundle, 'config.json'), JSON.stringify(config, null, 1));
    });

    afterAll(async () => {
      // SIGKILL of the dumping side releases its tasks intact (ENVIRONMENT.md); then runc can remove them.
      if (lazyDump && lazyDump.exitCode === null) lazyDump.kill('SIGKILL');
      for (const r of [root.a, root.b]) {
        await execa('runc', ['--root', r, 'kill', 'c1', 'KILL'], { reject: false });
        await execa('runc', ['--root', r, 'delete', '-f', 'c1'], { reject: false });
      }
      for (const ctl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
        // cgroupfs directories go with rmdir, innermost first (runc removes its own; these are what it leaves).
        for (const sub of ['a', 'b', '']) await rmdir(path.join('/sys/fs/cgroup', ctl, id, sub)).catch(() => undefined);
      }
    });

    async function runContainer(): Promise<void> {
      await execa('nsenter', [`--net=/var/run/netns/${pair.nsA}`, 'runc', '--root', root.a, 'run', '-d', '--bundle', bundle, 'c1'], { stdio: 'ignore' });
    }

    it('a page-server checkpoint reaches a TLS page server', async () => {
      await runContainer();
      const dir = path.join(pair.dir, 'runc-ps');
      await mkdir(path.join(dir, 'ps'), { recursive: true });
      await mkdir(path.join(dir, 'img'), { recursive: true });
      const conf = path.join(dir, 'criu-tls.conf');
      await writeFile(conf, criuTlsConfig(good.src, 'client'));
      const ps = criuPageServer({ imageDir: path.join(dir, 'ps'), listen: { address: pair.target, port: PORT.runc }, pidFile: path.join(dir, 'ps.pid'), logFile: path.join(dir, 'ps.log'), tls: good.dst });
      expect((await pair.inNs(pair.nsB, ps)).exitCode).toBe(0);
      const argv = ownRoot(runcCheckpoint({ name: 'c1', imageDir: path.join(dir, 'img'), workDir: dir, pageServer: { address: pair.target, port: PORT.runc }, criuConfig: conf }), root.a);
      const r = await pair.inNs(pair.nsA, argv, { timeoutMs: 120_000 });
      const log = await readFile(path.join(dir, 'dump.log'), 'utf8');
      expect(r.exitCode, `${r.stderr}\n${log.slice(-2000)}`).toBe(0);
      expect(log).toContain(`Parsing config file ${conf}`);
      expect(log).toContain('TLS handshake completed');
      const pages = (await readdir(path.join(dir, 'ps'))).filter((f) => f.startsWith('pages-'));
      const received = Buffer.concat(await Promise.all(pages.map((f) => readFile(path.join(dir, 'ps', f)))));
      expect(received.includes(canary)).toBe(true);
    });

    it('a lazy migration: the source serves pages over TLS, the target pulls them and the container runs there', async () => {
      await execa('runc', ['--root', root.a, 'delete', '-f', 'c1'], { reject: false });
      await runContainer();
      const src = path.join(pair.dir, 'lazy-src');
      const dst = path.join(pair.dir, 'lazy-dst');
      await mkdir(path.join(src, 'img'), { recursive: true });
      const conf = path.join(src, 'criu-tls.conf');
      await writeFile(conf, criuTlsConfig(good.src, 'server'));
      const argv = ownRoot(runcCheckpoint({ name: 'c1', imageDir: path.join(src, 'img'), workDir: src, lazyPages: { address: pair.peer, port: PORT.lazy }, statusFd: 1, criuConfig: conf }), root.a);
      // As Ferry's job helper does, the status fd is a file (runc refuses a socket for it).
      const status = path.join(src, 'status');
      const statusFile = await open(status, 'w');
      const dump = spawn('nsenter', [`--net=/var/run/netns/${pair.nsA}`, ...argv], { stdio: ['ignore', statusFile.fd, 'pipe'] });
      await statusFile.close();
      lazyDump = dump;
      let dumpErr = '';
      dump.stderr!.on('data', (c: Buffer) => (dumpErr += c.toString()));
      const dumped = new Promise<number>((resolve) => dump.once('exit', (code, sig) => resolve(code ?? 128 + (sig ? 9 : 0))));
      try {
        // CRIU writes one byte to the status fd once its lazy page server listens.
        for (let i = 0; ; i++) {
          if ((await readFile(status).catch(() => Buffer.alloc(0))).length > 0) break;
          if (dump.exitCode !== null || i > 1200) throw new Error(`the lazy checkpoint did not get ready: ${dumpErr}\n${(await readFile(path.join(src, 'dump.log'), 'utf8').catch(() => '')).slice(-3000)}`);
          await new Promise((res) => setTimeout(res, 50));
        }
      } catch (e) {
        dump.kill('SIGKILL');
        throw e;
      }
      await cp(path.join(src, 'img'), path.join(dst, 'img'), { recursive: true });
      const b = path.join(pair.dir, 'bundle-b');
      await cp(bundle, b, { recursive: true });
      const config = JSON.parse(await readFile(path.join(b, 'config.json'), 'utf8'));
      config.linux.cgroupsPath = `/${id}/b`;
      await writeFile(path.join(b, 'config.json'), JSON.stringify(config, null, 1));
      const lazy = criuLazyPages({ imageDir: path.join(dst, 'img'), workDir: dst, source: { address: pair.peer, port: PORT.lazy }, pidFile: path.join(dst, 'lazy.pid'), logFile: path.join(dst, 'lazy.log'), tls: good.dst });
      expect((await pair.inNs(pair.nsB, lazy)).exitCode).toBe(0);
      const restore = await execa('nsenter', [`--net=/var/run/netns/${pair.nsB}`, 'runc', '--root', root.b, 'restore', '-d', '--lazy-pages', '--image-path', path.join(dst, 'img'), '--work-path', dst, '--bundle', b, 'c1'], { reject: false, stdin: 'ignore', stdout: 'ignore' });
      expect(restore.exitCode, restore.stderr).toBe(0);
      const rc = await dumped;
      const dumpLog = await readFile(path.join(src, 'dump.log'), 'utf8');
      expect(rc, `${dumpErr}\n${dumpLog.slice(-2000)}`).toBe(0);
      expect(dumpLog).toContain('TLS handshake completed');
      expect(dumpLog).toContain('Lazy pages transfer finished successfully');
      expect(await readFile(path.join(dst, 'lazy.log'), 'utf8')).toContain('TLS handshake completed');
      const state = JSON.parse((await execa('runc', ['--root', root.b, 'state', 'c1'])).stdout) as { pid: number; status: string };
      expect(state.status).toBe('running');
      // Its memory came over the wire: the canary is back in the restored process's environment.
      expect(await readFile(`/proc/${state.pid}/environ`, 'latin1')).toContain(`CANARY=${canary}`);
    });
  });
});
