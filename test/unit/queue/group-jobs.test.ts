/**
 * A group's job through the queue, the worker and the chat relay, against a real Redis this test
 * starts (a random port, stopped at the end) and real BullMQ. Two stand-ins, for what cannot exist
 * here: the use case's hosts (runGroupMigration reads the members over SSH, so a stand-in plays it,
 * calling back exactly as the real one does: claim, steps, member events) and the chat platform (a
 * transport recording what the relay would have posted).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GroupRun } from '../../../src/app/group.ts';
import type { ChatTransport } from '../../../src/chat/ChatTransport.ts';
import { toConsoleText } from '../../../src/chat/core/console-render.ts';
import type { ChatMessage } from '../../../src/chat/core/render.ts';
import { ProgressRelay } from '../../../src/chat/ProgressRelay.ts';
import { loadConfig } from '../../../src/config.ts';
import { decodeError, ErrorCode, isFerryError } from '../../../src/errors.ts';
import { MigrationEvents } from '../../../src/migrate/events.ts';
import type { GroupReport, MigrationReport } from '../../../src/migrate/report.ts';
import type { MigrationRequest } from '../../../src/migrate/request.ts';
import { keys, type ContainerJobData, type GroupJobData, type JobResult } from '../../../src/queue/jobs.ts';
import { startLocalRedis, type LocalRedis } from '../../../src/queue/local-redis.ts';
import { MigrationQueue } from '../../../src/queue/MigrationQueue.ts';
import { createMigrationWorker } from '../../../src/queue/MigrationWorker.ts';
import { report } from '../chat/fixtures.ts';
import { redisMissing } from '../helpers/redis.ts';

const why = redisMissing();
if (why) console.warn(`SKIPPED group jobs through BullMQ and Redis: ${why}`);

const KEY = Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef');
const MEMBERS = ['blog-db', 'blog-web'];

let seq = 0;
const nextId = () => `m-20261201080000-${String(++seq).padStart(6, '0')}`;

function groupJob(over: Partial<GroupJobData> = {}): GroupJobData {
  return { id: nextId(), group: 'blog', from: 'lab-1', to: 'lab-2', method: 'page-server', dryRun: false, requestedBy: 'UALICE', approvedBy: 'UBOB', requestedAt: '2026-12-01T08:00:00.000Z', thread: { channel: 'COPS', statusTs: '1.0' }, ...over };
}

function containerJob(over: Partial<ContainerJobData> = {}): ContainerJobData {
  return { id: nextId(), container: 'web1', from: 'lab-1', to: 'lab-2', method: 'auto', dryRun: false, requestedBy: 'UALICE', approvedBy: 'UBOB', requestedAt: '2026-12-01T08:00:00.000Z', ...over };
}

function memberReport(container: string, over: Partial<MigrationReport> = {}): MigrationReport {
  return report({ id: `m-member-${container}`, container, from: 'lab-1', to: 'lab-2', method: 'page-server', reason: 'requested explicitly', runsOn: 'lab-2', rounds: [], precopyStop: undefined, times: { preDump: null, preCopy: null, preMigration: null, checkpoint: 0.5, transfer: 0.4, restore: 0.6, downtime: 1.5, total: 4 }, ...over });
}

function groupReport(over: Partial<GroupReport> = {}): GroupReport {
  return { group: 'blog', outcome: 'migrated', from: 'lab-1', to: 'lab-2', members: MEMBERS.map((m) => memberReport(m)), times: { downtime: 2.1, total: 6 }, ...over };
}

/** The chat platform's stand-in: every message the relay sends, as console text. */
class RecordingTransport implements ChatTransport {
  sent: { kind: 'post' | 'update'; channel: string; thread?: string; text: string }[] = [];
  async post(channel: string, msg: ChatMessage, thread?: string): Promise<string> {
    this.sent.push({ kind: 'post', channel, thread, text: toConsoleText(msg) });
    return `${this.sent.length}.0`;
  }
  async update(channel: string, _ts: string, msg: ChatMessage): Promise<void> {
    this.sent.push({ kind: 'update', channel, text: toConsoleText(msg) });
  }
  async ephemeral(): Promise<void> {}
  async upload(): Promise<void> {}
  async groupsOf(): Promise<string[]> {
    return [];
  }
}

describe.skipIf(why !== null)('a group job through the queue, the worker and the relay', () => {
  let server: LocalRedis;
  let redis: Redis;
  let queue: MigrationQueue;
  let labDir: string;
  let t: RecordingTransport;
  let relay: ProgressRelay;
  let cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    server = await startLocalRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    queue = new MigrationQueue(redis, { jobKey: KEY });
    labDir = await mkdtemp(path.join(tmpdir(), 'ferry-groupjobs-'));
  });

  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await server?.stop();
    if (labDir) await rm(labDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await redis.flushall();
    t = new RecordingTransport();
    relay = new ProgressRelay(redis, queue, t, pino({ level: 'silent' }));
    await relay.start();
    cleanups.push(() => relay.stop());
  });

  afterEach(async () => {
    for (const fn of cleanups.reverse()) await fn();
    cleanups = [];
  });

  /** What the stand-in use cases were asked to do. */
  interface Calls {
    group: { group: string; from: string; to: string; run: GroupRun; claimedDuringRun: (string | null)[] }[];
    request: number;
  }

  /**
   * The real worker, its use cases played by stand-ins: runGroupMigration as the real one calls back
   * (claim with the members' requests, the provision step, each member's events), then `outcome`.
   */
  function worker(outcome: (run: GroupRun) => Promise<GroupReport> = async () => groupReport()): Calls {
    const calls: Calls = { group: [], request: 0 };
    const config = { ...loadConfig({ FERRY_LAB_DIR: labDir }), jobKey: KEY };
    const w = createMigrationWorker(redis, config, {
      concurrency: 1,
      provision: true,
      useCases: {
        executeRequest: async () => {
          calls.request++;
          throw new Error('a group job must not run as a container request');
        },
        runGroupMigration: async (group, from, to, run) => {
          const reqs: MigrationRequest[] = MEMBERS.map((c, i) => ({ id: `m-member-${i}`, container: c, from, to, method: run.method }));
          await run.claim?.(reqs);
          const claimedDuringRun = await Promise.all(MEMBERS.map((m) => redis.get(keys.active(m))));
          calls.group.push({ group, from, to, run, claimedDuringRun });
          run.onStep?.({ step: 'provision', state: 'start' });
          run.onStep?.({ step: 'provision', state: 'end', detail: 'no changes' });
          for (const m of MEMBERS) {
            const events = new MigrationEvents();
            run.onMember?.(m, events);
            events.emitEvent({ type: 'method', method: 'page-server', reason: 'requested explicitly' });
            events.emitEvent({ type: 'frozen' });
            events.emitEvent({ type: 'phase-end', phase: 'checkpoint', seconds: 0.5 });
          }
          // Progress is sent without waiting (as the engine's events are): let it reach Redis first.
          await new Promise((r) => setTimeout(r, 100));
          return outcome(run);
        },
      },
    });
    cleanups.push(() => w.close());
    return calls;
  }

  /** Waits until the relay has posted the job's end. */
  async function relayed(id: string): Promise<void> {
    for (let i = 0; i < 200 && !(await redis.exists(`ferry:relay:${id}:end`)); i++) await new Promise((r) => setTimeout(r, 50));
    await relay.idle();
  }

  async function finished(id: string): Promise<{ state: string; result: JobResult | undefined; error: ReturnType<typeof decodeError> | undefined }> {
    await relayed(id);
    const job = (await queue.get(id))!;
    const state = await job.getState();
    return { state, result: job.returnvalue ?? undefined, error: job.failedReason ? decodeError(job.failedReason) : undefined };
  }

  describe('the queue', () => {
    it('claims the group, not a container: a second job of the group is refused, a container of the same name is not', async () => {
      const first = groupJob();
      await queue.enqueue(first);
      expect(await redis.get(keys.activeGroup('blog'))).toBe(first.id);
      expect(await redis.get(keys.active('blog'))).toBeNull();

      const refused = await queue.enqueue(groupJob()).catch((e: unknown) => e);
      expect(isFerryError(refused, ErrorCode.AlreadyMigrating)).toBe(true);
      expect(refused).toMatchObject({ code: 'ferry_already_migrating', details: { subject: 'group blog', existingId: first.id } });
      expect((refused as Error).message).toBe(`group blog is already migrating (job ${first.id})`);

      // Group names and container names are apart: a container called blog is another thing.
      await expect(queue.enqueue(containerJob({ container: 'blog' }))).resolves.toBeDefined();
    });

    it('cancelling a waiting group job frees the group and says the group stays', async () => {
      const job = groupJob();
      await queue.enqueue(job);
      const r = await queue.cancel(job.id);
      expect(r).toEqual({ ok: true, message: `migration ${job.id} cancelled before it started; group blog stays on lab-1` });
      expect(await redis.get(keys.activeGroup('blog'))).toBeNull();
    });

    it('claims members all or none, and gives back only its own', async () => {
      await redis.set(keys.active('blog-web'), 'm-other');
      const e = await queue.claimMembers('m-group', 'blog', MEMBERS).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: ErrorCode.AlreadyMigrating, message: 'blog-web, a member of group blog, is already migrating (job m-other); nothing of the group was touched' });
      expect(await redis.get(keys.active('blog-db'))).toBeNull();
      expect(await redis.get(keys.active('blog-web'))).toBe('m-other');

      await redis.del(keys.active('blog-web'));
      expect(await queue.claimMembers('m-group', 'blog', MEMBERS)).toEqual(MEMBERS);
      await redis.set(keys.active('blog-web'), 'm-newer');
      await queue.releaseMembers('m-group', MEMBERS);
      expect(await redis.get(keys.active('blog-db'))).toBeNull();
      expect(await redis.get(keys.active('blog-web'))).toBe('m-newer');
    });
  });

  describe('the worker and the relay', () => {
    it('runs a group job through runGroupMigration, members claimed while it runs; the thread gets member progress and the group summary', async () => {
      const calls = worker();
      const data = groupJob();
      await queue.enqueue(data);
      const end = await finished(data.id);

      expect(end.state).toBe('completed');
      expect(end.result).toEqual({ dryRun: false, group: groupReport() });
      expect(calls.request).toBe(0);
      expect(calls.group).toHaveLength(1);
      const call = calls.group[0]!;
      expect(call).toMatchObject({ group: 'blog', from: 'lab-1', to: 'lab-2', run: { method: 'page-server', provision: true } });
      expect(call.run.signal).toBeInstanceOf(AbortSignal);
      expect(call.run.journalStores).toHaveLength(1);
      // Journaled with each member, so that recovery after a dead worker gives this job's claims back.
      expect(call.run.job).toBe(data.id);
      // Both members were held by this job while it ran; the group and the members are free again after it.
      expect(call.claimedDuringRun).toEqual([data.id, data.id]);
      expect(await redis.mget(keys.activeGroup('blog'), ...MEMBERS.map((m) => keys.active(m)))).toEqual([null, null, null]);

      const thread = t.sent.filter((x) => x.kind === 'post' && x.thread === '1.0').map((x) => x.text);
      expect(thread).toContain('Provisioned lab-1 and lab-2: no changes');
      expect(thread).toContain('blog-db: Method page-server (Page Server): requested explicitly');
      expect(thread).toContain('blog-web: ❄ Container frozen: downtime starts now');
      expect(thread).toContain('blog-web: ✔ Checkpoint done in 0.50 s');
      const summary = thread.at(-1)!;
      expect(summary).toContain('✔ group blog moved from lab-1 to lab-2: 2 containers (blog-db, blog-web)');
      expect(summary).toMatch(/blog-db\s+migrated\s+0\.50\s+0\.40\s+0\.60\s+1\.50\s+4\.00/);
      expect(summary).toMatch(/group blog\s+migrated\s+2\.10\s+6\.00/);
      expect(summary).toContain(`migration ${data.id}`);

      const status = t.sent.filter((x) => x.kind === 'update').at(-1)!.text;
      expect(status).toContain('✔ group blog moved from lab-1 to lab-2 in 6.00 s (downtime 2.10 s)');
      expect(status).toContain('blog-db: Checkpoint: 0.50 s');
      expect(status).toContain('blog-web: Checkpoint: 0.50 s');
    });

    it('fails a group job whose member another job holds, as a FerryError the relay shows; nothing ran, and that job keeps its claim', async () => {
      let ran = 0;
      worker(async () => {
        ran++;
        return groupReport();
      });
      // Another job's claim on a member, as a queued container job holds it (see the queue's enqueue).
      const other = { id: 'm-20261201075900-0a0b0c' };
      await redis.set(keys.active('blog-web'), other.id);
      const data = groupJob();
      await queue.enqueue(data);
      const end = await finished(data.id);
      expect(end.state).toBe('failed');
      expect(end.error?.code).toBe(ErrorCode.AlreadyMigrating);
      expect(end.error?.message).toBe(`blog-web, a member of group blog, is already migrating (job ${other.id}); nothing of the group was touched`);
      expect(ran).toBe(0);
      expect(await redis.get(keys.active('blog-web'))).toBe(other.id);
      expect(await redis.get(keys.active('blog-db'))).toBeNull();
      expect(await redis.get(keys.activeGroup('blog'))).toBeNull();
      const failure = t.sent.filter((x) => x.kind === 'post' && x.thread === '1.0').at(-1)!.text;
      expect(failure).toContain(`✘ Migration of group blog from lab-1 to lab-2 failed: blog-web, a member of group blog, is already migrating (job ${other.id})`);
      expect(failure).toContain('group blog runs on wherever it ran before (nothing was frozen).');
    });

    it('posts a rolled-back group with where each member runs', async () => {
      const back = groupReport({ outcome: 'rolled-back', error: 'blog-web: restore failed', members: MEMBERS.map((m) => memberReport(m, { outcome: 'rolled-back', runsOn: 'lab-1', error: 'restore failed' })) });
      worker(async () => back);
      const data = groupJob();
      await queue.enqueue(data);
      const end = await finished(data.id);
      expect(end.state).toBe('completed');
      const summary = t.sent.filter((x) => x.kind === 'post' && x.thread === '1.0').at(-1)!.text;
      expect(summary).toContain('↩ group blog was NOT moved: rolled back');
      expect(summary).toContain('Failure: blog-web: restore failed');
      expect(summary).toContain('blog-db runs on lab-1. blog-web runs on lab-1.');
      const status = t.sent.filter((x) => x.kind === 'update').at(-1)!.text;
      expect(status).toContain('group blog was not moved: rolled back (blog-web: restore failed)');
      expect(status).toContain('group blog runs on lab-1.');
    });

    it('refuses a group job that asks for a dry run, running nothing', async () => {
      const calls = worker();
      const data = groupJob({ dryRun: true });
      await queue.enqueue(data);
      const end = await finished(data.id);
      expect(end.state).toBe('failed');
      expect(end.error).toMatchObject({ code: ErrorCode.UsageError, message: 'group blog: a group has no dry run, so nothing was done' });
      expect(calls.group).toHaveLength(0);
      expect(calls.request).toBe(0);
    });
  });
});
