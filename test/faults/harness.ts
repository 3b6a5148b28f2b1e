/**
 * The fault matrix of issue 11, for one lab: methods × phases × faults, each cell a real migration
 * through a real worker process, real Redis and the real chat relay, with a real fault injected at
 * its phase. After every cell: the container runs on exactly one host with its state, the job's
 * end reached the chat, nothing is left behind, and the same migration runs again. A monitor
 * sampling both hosts every 100 ms fails the cell if the container ever runs on two hosts at once.
 *
 * faults.test.ts runs it in the namespace lab (normal, page-server, lazy), faults-precopy.test.ts
 * in the qemu lab (pc-ps: pre-copy needs soft-dirty tracking, which the namespace lab's kernel lacks).
 */
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleChat } from '../../src/chat/console/ConsoleChat.ts';
import type { ChatTransport } from '../../src/chat/ChatTransport.ts';
import { note } from '../../src/chat/core/render.ts';
import { ProgressRelay } from '../../src/chat/ProgressRelay.ts';
import { logger } from '../../src/log.ts';
import { newMigrationId } from '../../src/migrate/request.ts';
import { keys, QUEUE_NAME, type JobProgress } from '../../src/queue/jobs.ts';
import { MigrationQueue } from '../../src/queue/MigrationQueue.ts';
import path from 'node:path';
import { clearLab, config, debris, deploy, ferry, httpText, onHost, provision } from '../helpers/lab.ts';
import { armDiskFull, cutLink, disarmDiskFull, dropSsh, fillDisk, killPageServer, linkOf, linkUp, RestartableRedis, testJobKey, WorkerProcess } from './inject.ts';
import { cellName, diskFullBytes, firesAt, type Cell, type Fault } from './matrix.ts';
import { Monitor, type See } from './monitor.ts';

export const HOSTS = ['lab-1', 'lab-2'];
export const NAME = 'web1';
const PORT = 8080;

/** What differs between the labs a matrix runs in. */
export interface FaultLab {
  kind: 'namespace' | 'qemu';
  /** Brings this lab up from whatever the previous suite left (one lab at a time). */
  up(): Promise<void>;
  /** Takes it down at the end (the qemu lab: the next suite wants the namespace lab). */
  down?(): Promise<void>;
  /** web1's memory and how fast it dirties it (pre-copy converges only when the link outruns it). */
  ballastMib: number;
  dirtyMibPerS: number;
  /** The tmpfs on the target's image directory for a disk that must hold the pre-copy rounds, filled at the checkpoint (matrix.ts: diskFullBytes). */
  roomyDiskBytes?: number;
  /** How the monitor reads web1's state on a host. */
  see: See;
  /** Takes web1's port on the target, so `runc restore` fails there (the restore cells). */
  squatPort?(target: string, port: number): () => void;
}

export interface MatrixOptions {
  title: string;
  /** The lab cannot run here (the reason was printed by skipNote). */
  skip: boolean;
  cells: readonly Cell[];
  /** Each cell is run this many times (FERRY_FAULTS_REPEAT). */
  repeat: number;
  /** More tests in the same lab, with its worker running (they run after the cells). */
  more?(): void;
}

interface Row {
  cell: string;
  pass: number;
  runs: number;
  outcomes: string[];
  nowhereMs: number[];
}

/** Defines the matrix's suite: one test a cell, then `more`, then the matrix printed. */
export function faultMatrix(lab: FaultLab, opts: MatrixOptions): void {
  const rows = new Map<string, Row>();
  const link = (host: string) => linkOf(host, lab.kind);

  /** Puts HAProxy on lab-1 back to sending traffic to the container there. */
  async function resetFront(): Promise<void> {
    for (const c of [`set server be_${NAME}/src state ready`, `set server be_${NAME}/dst state maint`, `set server be_${NAME}/hold state maint`]) {
      await onHost('lab-1', ['socat', 'stdio', `unix-connect:/run/ferry/haproxy-${NAME}.sock`], { allowFail: true, stdin: `${c}\n` });
    }
  }

  /** Each server of the front's backend: maint or ready (HAProxy's `show stat` status column). */
  async function haproxyStates(): Promise<Record<string, string>> {
    const csv = await onHost('lab-1', ['socat', 'stdio', `unix-connect:/run/ferry/haproxy-${NAME}.sock`], { allowFail: true, stdin: 'show stat\n' });
    const lines = csv.split('\n').filter(Boolean);
    const header = (lines[0] ?? '').replace(/^#\s*/, '').split(',');
    const [px, sv, status] = ['pxname', 'svname', 'status'].map((k) => header.indexOf(k));
    const states: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const f = l.split(',');
      if (f[px!] === `be_${NAME}` && f[sv!] !== 'BACKEND') states[f[sv!]!] = /MAINT/.test(f[status!] ?? '') ? 'maint' : 'ready';
    }
    return states;
  }

  /** The hosts where web1 really runs (as the monitor sees it: not a copy CRIU holds frozen). */
  async function where(): Promise<string[]> {
    const on: string[] = [];
    for (const h of HOSTS) if ((await lab.see(h, NAME)) === 'running') on.push(h);
    return on;
  }

  async function linksUp(): Promise<void> {
    for (const h of HOSTS) await linkUp(link(h));
  }

  /** Each cell starts with web1 on lab-1 behind its HAProxy, whatever the previous cell left. */
  async function web1OnLab1(): Promise<void> {
    await linksUp();
    await disarmDiskFull('lab-2');
    const on = await where();
    if (on.length === 1 && on[0] === 'lab-2') {
      const r = await ferry(['migrate', NAME, '--from', 'lab-2', '--to', 'lab-1', '--method', 'page-server', '--quiet', '--json']);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(await where()).toEqual(['lab-1']);
    await resetFront();
  }

  /** A claim a failed cell left (that cell failed for it) must not fail every cell after it. */
  async function noStaleClaim(client: Redis, queue: MigrationQueue): Promise<void> {
    const holder = await client.get(keys.active(NAME));
    if (!holder) return;
    const state = await (await queue.get(holder).catch(() => undefined))?.getState().catch(() => undefined);
    if (state !== 'active' && state !== 'waiting') await client.del(keys.active(NAME));
  }

  describe.skipIf(opts.skip)(opts.title, () => {
    const redis = new RestartableRedis();
    let client: Redis;
    let queue: MigrationQueue;
    let events: QueueEvents;
    let relay: ProgressRelay;
    let worker: WorkerProcess;
    const posts: { thread?: string; text: string }[] = [];

    beforeAll(async () => {
      await lab.up();
      await provision();
      await clearLab();
      await deploy('lab-1', { workload: 'web', name: NAME, ballast_mib: lab.ballastMib, dirty_mib_per_s: lab.dirtyMibPerS, port: PORT });
      const front = await ferry(['front', NAME, '--on', 'lab-1']);
      expect(front.code, front.stderr).toBe(0);
      const url = await redis.start();
      client = new Redis(url, { maxRetriesPerRequest: null });
      client.on('error', () => undefined);
      queue = new MigrationQueue(client, { jobKey: testJobKey() });
      events = new QueueEvents(QUEUE_NAME, { connection: client.duplicate({ maxRetriesPerRequest: null }) });
      events.on('error', () => undefined);
      await events.waitUntilReady();
      // The console adapter is the chat here (Slack's servers cannot exist in a test); its posts are kept.
      const chat = new ConsoleChat(() => undefined, path.join(config.labDir, 'uploads'));
      const transport: ChatTransport = {
        ...chat.transport,
        post: async (channel, msg, threadTs) => {
          posts.push({ thread: threadTs, text: msg.text });
          return chat.transport.post(channel, msg, threadTs);
        },
      };
      relay = new ProgressRelay(client, queue, transport, logger().child({ part: 'relay' }));
      await relay.start();
      worker = new WorkerProcess(url).start();
    }, 900_000); // the qemu lab boots VMs under emulation (on a fresh machine it also installs QEMU)

    afterAll(async () => {
      await worker?.stop();
      await relay?.stop().catch(() => undefined);
      await events?.close().catch(() => undefined);
      await queue?.close().catch(() => undefined);
      client?.disconnect();
      await redis.stop();
      await linksUp();
      await disarmDiskFull('lab-2').catch(() => undefined);
      await lab.down?.();
      console.log(renderMatrix(opts.title, rows));
    });

    /** Runs one migration through the queue and a worker process, firing the fault at the phase. */
    async function runCell(c: Cell): Promise<{ outcome: string; nowhereMs: number }> {
      if (c.fault === 'restore-fails' && !lab.squatPort) throw new Error(`${cellName(c)}: this lab cannot take a port on the target`);
      await web1OnLab1();
      await noStaleClaim(client, queue);
      const instance = await httpText('lab-1', PORT, '/instance');
      const before = Number(await httpText('lab-1', PORT, '/counter'));
      if (c.fault === 'target-disk-full') await armDiskFull('lab-2', diskFullBytes(c, lab.roomyDiskBytes));
      const monitor = new Monitor(HOSTS, NAME, lab.see).start();
      const id = newMigrationId();
      const statusTs = await relayTransportPost(posts, `fault cell ${cellName(c)} (${id})`);
      let fired = false;
      let unsquat: (() => void) | undefined;
      const inject = async (fault: Fault) => {
        switch (fault) {
          case 'page-server-killed':
            return killPageServer('lab-1', 'lab-2', c.method === 'lazy');
          case 'link-cut-5s':
            // The switch talks to the source's HAProxy; everything else crosses the target's link.
            return cutLink(link(c.phase === 'switch' ? 'lab-1' : 'lab-2'), 5);
          case 'ssh-drop-source':
            return dropSsh('lab-1');
          case 'ssh-drop-target':
            return dropSsh('lab-2');
          case 'worker-killed':
            worker.kill9();
            worker = new WorkerProcess(redis.url).start();
            return;
          case 'redis-restarted':
            return redis.restart();
          case 'target-disk-full':
            return fillDisk('lab-2');
          case 'restore-fails':
            return; // armed at the freeze, below
        }
      };
      const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
        if (jobId !== id) return;
        const p = data as JobProgress;
        if (!('event' in p)) return;
        const e = p.event;
        if (c.fault === 'restore-fails' && e.type === 'frozen') unsquat = lab.squatPort!('lab-2', PORT);
        if (!fired && firesAt(c, e)) {
          fired = true;
          void inject(c.fault);
        }
      };
      events.on('progress', onProgress);
      const t0 = Date.now();
      try {
        await queue.enqueue({ id, container: NAME, from: 'lab-1', to: 'lab-2', method: c.method, dryRun: false, requestedBy: 'fault-matrix', approvedBy: 'fault-matrix', requestedAt: new Date().toISOString(), thread: { channel: 'console', statusTs } });
        await waitForEnd(id, c.fault === 'redis-restarted', () => fired);
        // A killed worker's job is failed by BullMQ's stall check, which may come before the new
        // worker's recovery has finished the migration and released its claim (on a loaded machine it
        // did, twice in one full run): the migration is over once its recovery is.
        if (c.fault === 'worker-killed') await waitForClaimReleased(id);
      } finally {
        events.off('progress', onProgress);
        unsquat?.();
        await linksUp();
      }
      expect(fired, `the fault of ${cellName(c)} never fired: its phase did not come`).toBe(true);
      const seen = await monitor.stop();
      expect(seen.twice, `${NAME} ran on two hosts at once; worker log:\n${worker.log.slice(-6000)}`).toEqual([]);
      expect(seen.longestNowhereMs, 'ran nowhere for longer than the whole job').toBeLessThanOrEqual(Date.now() - t0);
      // Exactly one host, the same process, its state intact.
      const on = await where();
      expect(on, `${NAME} must run on exactly one host`).toHaveLength(1);
      const host = on[0]!;
      expect(await httpText(host, PORT, '/instance')).toBe(instance);
      expect(Number(await httpText(host, PORT, '/counter'))).toBeGreaterThanOrEqual(before);
      // The job's end reached the chat (unless Redis, and the job with it, were wiped).
      if (c.fault !== 'redis-restarted') {
        await relay.idle();
        const ends = posts.filter((p) => p.thread === statusTs && /moved|NOT moved|rolled back|failed|recovery/i.test(p.text));
        expect(ends.length, `no end of ${id} in the chat thread: ${JSON.stringify(posts.filter((p) => p.thread === statusTs))}`).toBeGreaterThan(0);
        expect(await client.get(keys.active(NAME))).toBeNull();
      }
      // Nothing left: debris, journals, HAProxy on a hold server.
      await disarmDiskFull('lab-2');
      for (const h of HOSTS) {
        expect(await debris(h), `debris on ${h}`).toEqual([]);
        expect((await onHost(h, ['ls', '-A', '/var/lib/ferry/journal'], { allowFail: true })).trim(), `open journal on ${h}`).toBe('');
      }
      const hp = await haproxyStates();
      expect(hp.hold, 'HAProxy still sends to the hold server').toBe('maint');
      expect(hp[host === 'lab-1' ? 'src' : 'dst'], `HAProxy does not serve ${host}`).toBe('ready');
      // The same migration runs again.
      const again = await ferry(['migrate', NAME, '--from', host, '--to', host === 'lab-1' ? 'lab-2' : 'lab-1', '--method', 'page-server', '--quiet', '--json']);
      expect(again.code, again.stderr).toBe(0);
      return { outcome: host === 'lab-2' ? 'migrated' : 'rolled back', nowhereMs: seen.longestNowhereMs };
    }

    /** Until the job completes or fails (a killed worker's job is failed by the next one; a wiped Redis loses it: then the hosts say when), at most 10 minutes. */
    async function waitForEnd(id: string, redisWiped: boolean, fired: () => boolean): Promise<void> {
      // Every wait of a migration is bounded (a restore by 300 s, then the rollback): 10 minutes.
      const deadline = Date.now() + 10 * 60_000;
      while (Date.now() < deadline) {
        if (worker.exited) throw new Error(`the worker exited while migration ${id} ran:\n${worker.log.slice(-3000)}`);
        if (redisWiped) {
          // The job went with Redis: the hosts say when the migration is over (it was under way
          // when Redis restarted; its journal on the source is removed at its very end).
          if (fired() && !(await migrationOpen(id))) return;
        } else {
          const job = await queue.get(id).catch(() => undefined);
          const state = await job?.getState().catch(() => undefined);
          if (state === 'completed' || state === 'failed') return;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`migration ${id} did not end within 10 minutes; worker log:\n${worker.log.slice(-3000)}`);
    }

    /** Until the container's queue claim no longer names the migration (its recovery released it), within the same 10 minutes. */
    async function waitForClaimReleased(id: string): Promise<void> {
      const deadline = Date.now() + 10 * 60_000;
      while (Date.now() < deadline) {
        if ((await client.get(keys.active(NAME))) !== id) return;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`the claim of ${id} was never released (recovery did not end); worker log:\n${worker.log.slice(-3000)}`);
    }

    /** Whether anything of a migration is still on a host: its journal or its directory. */
    async function migrationOpen(id: string): Promise<boolean> {
      for (const h of HOSTS) {
        const left = await onHost(h, ['ls', '-A', '/var/lib/ferry/journal', '/var/lib/ferry/images'], { allowFail: true });
        if (left.includes(id)) return true;
      }
      return false;
    }

    for (const c of opts.cells) {
      // Longer than waitForEnd's own limit, so a stuck migration fails with its worker's log.
      it(cellName(c), { timeout: 15 * 60_000 }, async () => {
        const row = rows.get(cellName(c)) ?? { cell: cellName(c), pass: 0, runs: 0, outcomes: [], nowhereMs: [] };
        rows.set(row.cell, row);
        for (let i = 0; i < opts.repeat; i++) {
          row.runs++;
          const r = await runCell(c);
          row.pass++;
          row.outcomes.push(r.outcome);
          row.nowhereMs.push(r.nowhereMs);
        }
      });
    }

    opts.more?.();
  });
}

/** A status message to hang the job's thread on (what the approval message is in real chat). */
async function relayTransportPost(posts: { thread?: string; text: string }[], text: string): Promise<string> {
  const ts = `fault-${Date.now()}-${posts.length}`;
  posts.push({ text: note(text).text });
  return ts;
}

function renderMatrix(title: string, rows: Map<string, Row>): string {
  const lines = ['', `${title}, passes per cell:`, ''];
  lines.push('| cell | passed | outcome(s) | longest time running nowhere (ms) |', '|---|---|---|---|');
  for (const r of rows.values()) lines.push(`| ${r.cell} | ${r.pass}/${r.runs} | ${[...new Set(r.outcomes)].join(', ')} | ${r.nowhereMs.map((n) => Math.round(n)).join(', ')} |`);
  return lines.join('\n');
}
