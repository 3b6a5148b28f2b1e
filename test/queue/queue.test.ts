import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jobStatus } from '../../src/chat/ChatService.ts';
import { loadConfig } from '../../src/config.ts';
import { ErrorCode, isFerryError } from '../../src/errors.ts';
import { parseHostsFile } from '../../src/hosts/inventory.ts';
import type { MigrationReport } from '../../src/migrate/report.ts';
import { keys, QUEUE_NAME, type ContainerJobData, type JobResult } from '../../src/queue/jobs.ts';
import { startLocalRedis, type LocalRedis } from '../../src/queue/local-redis.ts';
import { MigrationQueue } from '../../src/queue/MigrationQueue.ts';
import { createMigrationWorker } from '../../src/queue/MigrationWorker.ts';

let local: LocalRedis;
let redis: Redis;
let queue: MigrationQueue;
let tmp: string;

/** Closers for what a test opened, run last-in first-out after it. */
let cleanups: Array<() => Promise<unknown>> = [];
const onCleanup = (fn: () => Promise<unknown>) => void cleanups.push(fn);

beforeAll(async () => {
  local = await startLocalRedis();
  redis = new Redis(local.url, { maxRetriesPerRequest: null });
  tmp = await mkdtemp(path.join(tmpdir(), 'ferry-queue-test-'));
});

afterAll(async () => {
  await redis?.quit();
  await local?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

beforeEach(async () => {
  await redis.flushall();
  queue = new MigrationQueue(redis);
  onCleanup(() => queue.close());
});

afterEach(async () => {
  const fns = cleanups.reverse();
  cleanups = [];
  for (const fn of fns) await fn();
});

let seq = 0;
function jobData(over: Partial<ContainerJobData> = {}): ContainerJobData {
  seq++;
  return {
    id: `m-test-${seq}`,
    container: 'web',
    from: 'lab-1',
    to: 'lab-2',
    method: 'auto',
    dryRun: false,
    requestedBy: 'U-REQ',
    approvedBy: 'U-APP',
    requestedAt: new Date(0).toISOString(),
    ...over,
  };
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A BullMQ connection of the test's own, quit after the test. */
function bullConnection(): Redis {
  const c = new Redis(local.url, { maxRetriesPerRequest: null });
  onCleanup(() => c.quit());
  return c;
}

/** QueueEvents on the migrations queue, to await a job's end. */
async function queueEvents(): Promise<QueueEvents> {
  const events = new QueueEvents(QUEUE_NAME, { connection: bullConnection() });
  onCleanup(() => events.close());
  await events.waitUntilReady();
  return events;
}

/**
 * A stand-in worker on the migrations queue whose job stays active until the test ends, so a job
 * can be "active" without running a migration. Resolves with the id of the job it took.
 */
function holdNextJobActive(): Promise<string> {
  const gate = deferred();
  const taken = deferred<string>();
  const worker = new Worker(
    QUEUE_NAME,
    async (job) => {
      taken.resolve(job.id!);
      await gate.promise;
    },
    { connection: bullConnection() },
  );
  onCleanup(async () => {
    gate.resolve();
    await worker.close();
  });
  return taken.promise;
}

/** The real worker, with a config whose lab dir is a temp dir. */
function realWorker(hostsFile: string): void {
  const config = loadConfig({ FERRY_HOSTS_FILE: hostsFile, FERRY_LAB_DIR: tmp });
  const worker = createMigrationWorker(redis, config, { provision: false, concurrency: 1 });
  onCleanup(() => worker.close());
}

const claimHolder = (container = 'web') => redis.get(keys.active(container));

describe('MigrationQueue.enqueue', () => {
  it('claims the container: a second migration is refused, a dry run is not, releaseClaim frees only its own claim', async () => {
    const first = jobData();
    await queue.enqueue(first);
    expect(await claimHolder()).toBe(first.id);

    const refused = await queue.enqueue(jobData()).catch((e: unknown) => e);
    expect(isFerryError(refused, ErrorCode.AlreadyMigrating)).toBe(true);
    expect(refused).toMatchObject({ code: 'ferry_already_migrating', details: { subject: 'web', existingId: first.id } });

    const dry = jobData({ dryRun: true });
    await expect(queue.enqueue(dry)).resolves.toMatchObject({ id: dry.id });
    expect(await claimHolder()).toBe(first.id);

    await queue.releaseClaim(first);
    expect(await claimHolder()).toBeNull();

    const third = jobData();
    await expect(queue.enqueue(third)).resolves.toMatchObject({ id: third.id });
    expect(await claimHolder()).toBe(third.id);

    // `first` no longer holds the claim: releasing it again must leave `third`'s alone.
    await queue.releaseClaim(first);
    expect(await claimHolder()).toBe(third.id);
  });

  it('lets exactly one of two racing enqueues for one container win', async () => {
    const a = jobData();
    const b = jobData();
    const results = await Promise.allSettled([queue.enqueue(a), queue.enqueue(b)]);

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(isFerryError(lost[0]!.reason, ErrorCode.AlreadyMigrating)).toBe(true);

    const winner = won[0]!.value;
    expect(await claimHolder()).toBe(winner.id);
    expect(await queue.queue.getWaitingCount()).toBe(1);
  });

  it('adds the job with attempts 1 and jobId = data.id', async () => {
    const data = jobData();
    const job = await queue.enqueue(data);
    expect(job.id).toBe(data.id);
    expect(job.opts.attempts).toBe(1);

    const stored = await queue.get(data.id);
    expect(stored?.id).toBe(data.id);
    expect(stored?.opts.attempts).toBe(1);
    // Stored as given plus its signature, which the worker checks (job-signature.ts).
    expect(stored?.data).toEqual({ ...data, signature: expect.objectContaining({ v: 'v1', mac: expect.stringMatching(/^[0-9a-f]{64}$/) }) });
  });
});

describe('MigrationQueue.cancel', () => {
  it('removes a waiting job and releases its claim', async () => {
    const data = jobData();
    await queue.enqueue(data);
    expect(await (await queue.get(data.id))!.getState()).toBe('waiting');

    const r = await queue.cancel(data.id);
    expect(r.ok).toBe(true);
    expect(r.message).toContain(`${data.container} stays on ${data.from}`);
    expect(await queue.get(data.id)).toBeUndefined();
    expect(await claimHolder()).toBeNull();
  });

  it('answers ok false for an unknown id', async () => {
    const r = await queue.cancel('m-nope');
    expect(r.ok).toBe(false);
    expect(r.message).toContain('no migration');
  });

  it('asks an active job to stop by setting its cancel key', async () => {
    const data = jobData();
    await queue.enqueue(data);
    expect(await holdNextJobActive()).toBe(data.id);
    expect(await (await queue.get(data.id))!.getState()).toBe('active');

    const r = await queue.cancel(data.id);
    expect(r.ok).toBe(true);
    expect(await redis.get(keys.cancel(data.id))).not.toBeNull();
  });

  it('refuses to cancel an active job past the freeze', async () => {
    const data = jobData();
    await queue.enqueue(data);
    expect(await holdNextJobActive()).toBe(data.id);
    await redis.set(keys.frozen(data.id), '1');

    const r = await queue.cancel(data.id);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('past the freeze');
    expect(await redis.get(keys.cancel(data.id))).toBeNull();
  });
});

describe('createMigrationWorker', () => {
  it('never runs a job twice: a job already marked started fails at once and keeps the container claimed', async () => {
    const events = await queueEvents();
    realWorker(path.join(tmp, 'no-such-hosts.json'));
    const data = jobData();
    await redis.set(keys.started(data.id), 'earlier run');

    const job = await queue.enqueue(data);
    await expect(job.waitUntilFinished(events)).rejects.toThrow('already started once');

    const done = (await queue.get(data.id))!;
    expect(await done.getState()).toBe('failed');
    expect(done.failedReason).toContain('already started once');
    expect(done.attemptsMade).toBe(1);
    // Nothing else happened: no progress, the marker is untouched (and the hosts file, which does not exist, was never read).
    expect(done.progress).toBe(0);
    expect(await redis.get(keys.started(data.id))).toBe('earlier run');
    // A second start means the first run may still be going (a stalled job whose worker lost its
    // lock): the claim stays, so no other migration of this container starts until it expires.
    expect(await claimHolder()).toBe(data.id);
  });

  it('fails a job for an unknown host, naming it, without a retry', async () => {
    const hostsFile = path.join(tmp, 'hosts.json');
    const host = (name: string, address: string) => ({
      name,
      address,
      port: 22,
      user: 'root',
      privateKeyFile: path.join(tmp, 'id_ed25519'),
      hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFerryTestHostKey',
    });
    const text = JSON.stringify({ environment: 'local', hosts: [host('lab-1', '10.0.0.1'), host('lab-2', '10.0.0.2')] });
    expect(parseHostsFile(text).hosts.map((h) => h.name)).toEqual(['lab-1', 'lab-2']);
    await writeFile(hostsFile, text);

    const events = await queueEvents();
    realWorker(hostsFile);
    const data = jobData({ from: 'nope-1' });
    const job = await queue.enqueue(data);
    await expect(job.waitUntilFinished(events)).rejects.toThrow("unknown host 'nope-1'");

    const done = (await queue.get(data.id))!;
    expect(await done.getState()).toBe('failed');
    expect(done.failedReason).toContain("unknown host 'nope-1'");
    expect(done.attemptsMade).toBe(1);
    expect(await claimHolder()).toBeNull();
  });
});

describe('jobStatus', () => {
  const migrated = (outcome: MigrationReport['outcome']): JobResult => ({ dryRun: false, report: { outcome } as MigrationReport });
  const dryRun: JobResult = { dryRun: true, method: 'normal', reason: 'r', plan: 'p', provisionCheck: {}, blockers: [] };

  it.each([
    ['waiting', undefined, 'queued'],
    ['delayed', undefined, 'queued'],
    ['prioritized', undefined, 'queued'],
    ['waiting-children', undefined, 'queued'],
    ['active', undefined, 'running'],
    ['completed', migrated('migrated'), 'done'],
    ['completed', migrated('rolled-back'), 'rolled-back'],
    ['completed', dryRun, 'done'],
    ['completed', null, 'done'],
    ['failed', undefined, 'failed'],
  ] as const)('maps %s (%j) to %s', (state, result, status) => {
    expect(jobStatus(state, result)).toBe(status);
  });
});
