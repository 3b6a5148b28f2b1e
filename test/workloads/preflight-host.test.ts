/**
 * The CRIU preflight against this machine's own /proc: real process trees (test/workloads/memtree.c)
 * read by src/workloads/preflight-read.ts through a local runner of the same argument arrays, and
 * the size estimate checked against what CRIU itself writes when it dumps the same tree.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.ts';
import { diskNeeded, estimateDump, findDumpBlockers } from '../../src/workloads/preflight.ts';
import { readProcessTree } from '../../src/workloads/preflight-read.ts';
import { runLocal } from '../../src/util/run-local.ts';
import { criuVersion, localHost, missing } from './helpers.ts';
import { freePort } from '../../src/util/free-port.ts';

const MiB = 1024 * 1024;
const why = missing(['gcc', 'find', 'grep', 'nsenter', 'ss'], false);

interface Tree {
  proc: ChildProcess;
  pid: number;
  pids: number[];
  /** memtree's report of each extra: uring=ok, mptcp=errno:97, ... */
  results: Record<string, string>;
}

describe.skipIf(why !== null)('preflight of real process trees', () => {
  let dir = '';
  let memtree = '';
  const trees: Tree[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hx-images-preflight-'));
    memtree = join(dir, 'memtree');
    await runLocal('gcc', ['-O2', '-static', '-Wall', '-Werror', '-o', memtree, new URL('./memtree.c', import.meta.url).pathname]);
  });

  afterAll(async () => {
    await Promise.all(trees.map((t) => stop(t)));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function start(heapMiB: number, children: number, extras: string[]): Promise<Tree> {
    const ready = join(dir, `ready-${trees.length}`);
    // Detached and with stdio on /dev/null: its own session, nothing CRIU would call external.
    const proc = spawn(memtree, [ready, String(heapMiB), String(children), ...extras], { detached: true, stdio: 'ignore' });
    const exited = new Promise<never>((_r, reject) => proc.once('exit', (code) => reject(new Error(`memtree exited with ${code} before it was ready`))));
    const line = await Promise.race([waitForFile(ready), exited]);
    const [, pid, ...rest] = line.trim().split(' ');
    const kids = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean).map(Number);
    const tree = { proc, pid: Number(pid), pids: [Number(pid), ...kids], results: Object.fromEntries(rest.map((r) => r.split('=') as [string, string])) };
    trees.push(tree);
    return tree;
  }

  it("sizes issue 13's tree: a 128 MiB heap shared copy-on-write by two children is written three times", async () => {
    const t = await start(128, 2, ['shm=16']);
    const snap = await readProcessTree(localHost, t.pids);
    expect(snap.processes.map((p) => p.pid)).toEqual(t.pids);
    expect(snap.processes.every((p) => p.name === 'memtree')).toBe(true);
    expect(snap.processes.slice(1).every((p) => p.ppid === t.pid)).toBe(true);

    const est = estimateDump(snap.processes);
    // Each process maps the whole heap: 3 × 128 MiB, plus a few pages of stack and data each.
    expect(est.privateBytes).toBeGreaterThanOrEqual(3 * 128 * MiB);
    expect(est.privateBytes).toBeLessThan(3 * 128 * MiB + 4 * MiB);
    // Counted once, the heap is 128 MiB: the repeat is the two children's copies.
    expect(est.copyOnWriteRepeatBytes).toBeGreaterThan(2 * 127 * MiB);
    expect(est.copyOnWriteRepeatBytes).toBeLessThan(2 * 129 * MiB);
    // The shared mapping is counted once.
    expect(est.sharedMemoryBytes).toBeGreaterThanOrEqual(16 * MiB);
    expect(est.sharedMemoryBytes).toBeLessThan(17 * MiB);
    expect(est.pageBytes).toBe(est.privateBytes + est.sharedMemoryBytes);
    expect(diskNeeded(est)).toBeGreaterThan(1.2 * 400 * MiB);
    expect(findDumpBlockers(snap)).toEqual([]);
  });

  it('matches the pages CRIU writes for the same tree', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('criu dump needs root');
    if (criuVersion() < 402) return ctx.skip('needs CRIU >= 4.2 on PATH (scripts/setup.sh builds it); older ones fail or hang on this kernel');
    const t = await start(128, 2, ['shm=16']);
    const est = estimateDump((await readProcessTree(localHost, t.pids)).processes);
    const images = join(dir, 'images');
    await mkdir(images);
    await runLocal('criu', ['dump', '-t', String(t.pid), '-D', images, '--leave-running', '-o', 'dump.log', '-v2'], { timeoutMs: 120_000 }).catch(async (e) => {
      throw new Error(`criu dump failed: ${(e as Error).message}\n${await readFile(join(images, 'dump.log'), 'utf8').catch(() => '')}`);
    });
    let written = 0;
    for (const f of await readdir(images)) if (/^pages-\d+\.img$/.test(f)) written += (await stat(join(images, f))).size;
    const mib = (b: number) => (b / MiB).toFixed(1);
    console.info(`128 MiB heap, 2 children, 16 MiB shared: estimate ${mib(est.pageBytes)} MiB (copy-on-write repeats ${mib(est.copyOnWriteRepeatBytes)} MiB), CRIU wrote ${mib(written)} MiB of pages; Σ Rss ${mib(est.rssBytes)} MiB`);
    // The estimate is within a few pages of CRIU's own page images.
    expect(Math.abs(written - est.pageBytes) / written).toBeLessThan(0.02);
    expect(written).toBeGreaterThan(3 * 128 * MiB);
    await rm(images, { recursive: true, force: true });
  });

  it('names each thing CRIU cannot dump, and nothing it can', async (ctx) => {
    const name = `hx-images-${process.pid}-${Date.now()}`;
    const accepted: net.Socket[] = [];
    const outside = net.createServer((s) => {
      accepted.push(s.on('error', () => undefined));
    });
    await new Promise<void>((resolve) => outside.listen(`\0${name}`, resolve));
    const port = await freePort();
    try {
      const t = await start(1, 0, ['uring', 'kmsg', 'mptcp', `connect=${name}`, 'pair', 'eventfd', `listen=${port}`]);
      const snap = await readProcessTree(localHost, t.pids);
      const blockers = findDumpBlockers(snap);
      const byCode = (c: ErrorCode) => blockers.filter((b) => b.code === c).map((b) => b.reason);

      expect(byCode(ErrorCode.RefusedDevice)).toEqual([expect.stringContaining('/dev/kmsg')]);
      // The accepted end of the connection is held by this test, outside the tree.
      if (snap.sockets.unixPeers === null) return ctx.skip('ss in the tree\'s network namespace (nsenter) needs root: the unix peers were not read');
      expect(byCode(ErrorCode.RefusedSocket).filter((r) => r.includes('unix socket'))).toEqual([expect.stringContaining(`connected to process ${process.pid} outside the container`)]);
      if (t.results.mptcp === 'ok') {
        expect(byCode(ErrorCode.RefusedSocket).filter((r) => r.includes('none of the unix'))).toHaveLength(1);
      }
      if (t.results.uring === 'ok') {
        expect(byCode(ErrorCode.RefusedIoUring)).toEqual([expect.stringMatching(/process \d+ \(memtree\) uses io_uring \(fd \d+\)/)]);
      }
      // The socketpair, the eventfd and the TCP listener are dumpable: no other blocker.
      const expected = 2 + (t.results.mptcp === 'ok' ? 1 : 0) + (t.results.uring === 'ok' ? 1 : 0);
      expect(blockers).toHaveLength(expected);
      if (t.results.uring !== 'ok') ctx.skip(`io_uring_setup failed here (${t.results.uring}: kernel.io_uring_disabled or no CONFIG_IO_URING), so its refusal was not checked`);
      if (t.results.mptcp !== 'ok') ctx.skip(`this kernel has no MPTCP (${t.results.mptcp}), so the unknown-protocol refusal was not checked`);
    } finally {
      // close() waits for open connections: end the one memtree holds.
      for (const s of accepted) s.destroy();
      await new Promise((r) => outside.close(r));
    }
  });
});

if (why) console.warn(`SKIPPED preflight of real process trees: ${why}`);

async function waitForFile(file: string): Promise<string> {
  for (let i = 0; i < 600; i++) {
    if (existsSync(file)) return readFile(file, 'utf8');
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file} did not appear`);
}

async function stop(t: Tree): Promise<void> {
  if (t.proc.exitCode !== null || t.proc.signalCode !== null) return;
  const exited = new Promise((r) => t.proc.once('exit', r));
  t.proc.kill('SIGTERM');
  await exited;
}

