/**
 * Signed jobs: the pure check, then through BullMQ and a real Redis this test starts itself
 * (startLocalRedis): the queue signs, the worker refuses an unsigned job and a job altered in
 * Redis before running anything, and lets a signed job through (it then fails downstream for want
 * of hosts, with its own code: the signature was not the problem).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { decodeError, ErrorCode, FerryError } from '../../../src/errors.ts';
import { JOB_SIGNATURE_MAX_AGE_S, jobKeyFor, signJob, verifyJob } from '../../../src/queue/job-signature.ts';
import { keys, QUEUE_NAME, type ContainerJobData, type GroupJobData } from '../../../src/queue/jobs.ts';
import { startLocalRedis, type LocalRedis } from '../../../src/queue/local-redis.ts';
import { MigrationQueue } from '../../../src/queue/MigrationQueue.ts';
import { createMigrationWorker } from '../../../src/queue/MigrationWorker.ts';
import { skipNote } from '../../helpers/env.ts';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef');
const OTHER = Buffer.from('fedcba9876543210fedcba9876543210fedcba9876543210');
const data = (over: Partial<ContainerJobData> = {}): ContainerJobData => ({
  id: `m-20261201080000-${Math.random().toString(16).slice(2, 8).padEnd(6, '0')}`,
  container: 'web1',
  from: 'lab-1',
  to: 'lab-2',
  method: 'page-server',
  dryRun: true,
  requestedBy: 'U012ALICE',
  requestedAt: '2026-12-01T08:00:00.000Z',
  approvedBy: 'U034BOB',
  thread: { channel: 'C1', statusTs: '1.2' },
  ...over,
});

/** A group's job: `group` set, `container` absent (what the bot enqueues for /migrate group blog …). */
const groupData = (over: Partial<GroupJobData> = {}): GroupJobData => {
  const { container: _c, ...rest } = data();
  return { ...rest, group: 'blog', dryRun: false, ...over };
};

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FerryError);
    expect((e as FerryError).code).toBe(ErrorCode.JobSignatureInvalid);
    return (e as FerryError).message;
  }
  throw new Error('expected the job to be refused');
}

describe('signJob / verifyJob', () => {
  const now = new Date('2026-12-01T08:00:00Z');

  it('a signed job passes and comes back without its signature', () => {
    const d = data();
    expect(verifyJob('migrate', signJob('migrate', d, KEY, now), KEY, now)).toEqual(d);
  });

  it('does not depend on key order or on fields JSON drops (what Redis gives back)', () => {
    const signed = signJob('migrate', { ...data(), dryRun: undefined as unknown as boolean }, KEY, now);
    const reordered = Object.fromEntries(Object.entries(JSON.parse(JSON.stringify(signed))).reverse());
    expect(() => verifyJob('migrate', reordered, KEY, now)).not.toThrow();
  });

  it('refuses an altered field, a nested one, an added one and a removed one', () => {
    const signed = signJob('migrate', data(), KEY, now);
    expect(refusal(() => verifyJob('migrate', { ...signed, to: 'evil-1' }, KEY, now))).toMatch(/altered, or signed with another key/);
    expect(refusal(() => verifyJob('migrate', { ...signed, thread: { channel: 'C666', statusTs: '1.2' } }, KEY, now))).toMatch(/altered/);
    expect(refusal(() => verifyJob('migrate', { ...signed, method: 'lazy', extra: 1 }, KEY, now))).toMatch(/altered/);
    const { approvedBy: _a, ...fewer } = signed;
    expect(refusal(() => verifyJob('migrate', fewer, KEY, now))).toMatch(/altered/);
  });

  it('signs a group job: its group is covered like every other field', () => {
    const g = groupData();
    expect(g).not.toHaveProperty('container');
    const signed = signJob('migrate', g, KEY, now);
    expect(verifyJob('migrate', signed, KEY, now)).toEqual(g);
    // Another group, a container in its place, a container beside it, or the group taken away: each refused.
    expect(refusal(() => verifyJob('migrate', { ...signed, group: 'shop' }, KEY, now))).toMatch(/altered/);
    const { group: _g, ...withoutGroup } = signed;
    expect(refusal(() => verifyJob('migrate', { ...withoutGroup, container: 'blog' }, KEY, now))).toMatch(/altered/);
    expect(refusal(() => verifyJob('migrate', { ...signed, container: 'blog-db' }, KEY, now))).toMatch(/altered/);
    expect(refusal(() => verifyJob('migrate', withoutGroup, KEY, now))).toMatch(/altered/);
    // Nor can a container's genuine job be turned into a group's.
    const single = signJob('migrate', data({ container: 'blog' }), KEY, now);
    const { container: _c, ...noContainer } = single;
    expect(refusal(() => verifyJob('migrate', { ...noContainer, group: 'blog' }, KEY, now))).toMatch(/altered/);
  });

  it('signs a target group as given: the worker picks the member, nobody can name one in Redis', () => {
    const d = data({ to: 'group:cloud-b' });
    const signed = signJob('migrate', d, KEY, now);
    expect(verifyJob('migrate', signed, KEY, now)).toEqual(d);
    // A member (or any host) put in its place, or another group: refused.
    expect(refusal(() => verifyJob('migrate', { ...signed, to: 'lab-3' }, KEY, now))).toMatch(/altered/);
    expect(refusal(() => verifyJob('migrate', { ...signed, to: 'group:cloud-a' }, KEY, now))).toMatch(/altered/);
    // Nor can a job to a host be turned into one to a group.
    const toHost = signJob('migrate', data({ to: 'lab-2' }), KEY, now);
    expect(refusal(() => verifyJob('migrate', { ...toHost, to: 'group:cloud-b' }, KEY, now))).toMatch(/altered/);
  });

  it('refuses a job signed under another name or with another key', () => {
    const signed = signJob('migrate', data(), KEY, now);
    expect(refusal(() => verifyJob('other', signed, KEY, now))).toMatch(/altered/);
    expect(refusal(() => verifyJob('migrate', signed, OTHER, now))).toMatch(/another key/);
  });

  it('refuses an unsigned job and a malformed signature, saying so', () => {
    expect(refusal(() => verifyJob('migrate', data(), KEY, now))).toMatch(/it is not signed/);
    for (const signature of [null, 'x', { v: 'v2', at: now.toISOString(), mac: 'a'.repeat(64) }, { v: 'v1', at: now.toISOString(), mac: 'zz' }]) {
      expect(refusal(() => verifyJob('migrate', { ...data(), signature }, KEY, now))).toMatch(/malformed/);
    }
    expect(refusal(() => verifyJob('migrate', { ...data(), signature: { v: 'v1', at: 'yesterday', mac: 'a'.repeat(64) } }, KEY, now))).toMatch(/no valid time/);
    expect(refusal(() => verifyJob('migrate', 'text', KEY, now))).toMatch(/not an object/);
  });

  it('refuses a signature that is too old, or from the future beyond clock skew', () => {
    const signed = signJob('migrate', data(), KEY, now);
    const later = new Date(now.getTime() + (JOB_SIGNATURE_MAX_AGE_S + 60) * 1000);
    expect(refusal(() => verifyJob('migrate', signed, KEY, later))).toMatch(/signed 24 h ago/);
    const earlier = new Date(now.getTime() - 3600 * 1000);
    expect(refusal(() => verifyJob('migrate', signed, KEY, earlier))).toMatch(/in the future/);
    expect(() => verifyJob('migrate', signed, KEY, new Date(now.getTime() - 60 * 1000))).not.toThrow();
  });

  it('uses the configured key, else one random key per process', () => {
    expect(jobKeyFor(KEY)).toBe(KEY);
    expect(jobKeyFor(undefined)).toBe(jobKeyFor(undefined));
    expect(jobKeyFor(undefined).length).toBe(32);
    expect(() => jobKeyFor(Buffer.from('short'))).toThrow(/at least 32 bytes/);
  });
});

function redisMissing(): string | null {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'needs redis-server on PATH (apt-get install redis-server; scripts/setup.sh installs it)';
  }
}
const why = redisMissing();
skipNote(why, 'signed jobs through BullMQ and Redis');

describe.skipIf(why !== null)('signed jobs through BullMQ and a real Redis', () => {
  let local: LocalRedis;
  let redis: Redis;
  let labDir: string;
  let queue: MigrationQueue;
  let events: QueueEvents;
  let eventsConnection: Redis;

  beforeAll(async () => {
    local = await startLocalRedis();
    redis = new Redis(local.url, { maxRetriesPerRequest: null });
    labDir = await mkdtemp(path.join(tmpdir(), 'ferry-jobsig-'));
    queue = new MigrationQueue(redis, { jobKey: KEY });
    eventsConnection = redis.duplicate();
    eventsConnection.on('error', () => undefined); // refused once this test stops its Redis
    events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await events?.close();
    eventsConnection?.disconnect();
    await queue?.close();
    redis?.disconnect();
    await local?.stop();
    await rm(labDir, { recursive: true, force: true });
  });

  it('the queue signs what it enqueues, and what Redis gives back verifies', async () => {
    const d = data();
    await queue.enqueue(d);
    const stored = (await queue.get(d.id))!;
    expect(stored.data.signature?.v).toBe('v1');
    expect(verifyJob('migrate', stored.data, KEY)).toEqual(d);
    await stored.remove();
  });

  /** Runs one worker until `jobs` have failed; returns each job's failure as a FerryError. */
  async function work(jobs: Job[]): Promise<FerryError[]> {
    // No hosts file in an empty lab directory: a job that gets past the signature fails on that.
    const config = { ...loadConfig({ FERRY_LAB_DIR: labDir }), jobKey: KEY };
    const worker = createMigrationWorker(redis, config, { provision: false, concurrency: 1 });
    try {
      return await Promise.all(
        jobs.map(async (job) => {
          await job.waitUntilFinished(events, 60_000).catch(() => undefined);
          const done = (await queue.queue.getJob(job.id!))!;
          return decodeError(done.failedReason);
        }),
      );
    } finally {
      await worker.close();
    }
  }

  it('the worker refuses an unsigned job and a job altered in Redis, and runs nothing for them', async () => {
    const unsigned = await queue.queue.add('migrate', data(), { jobId: data().id });
    const genuine = data();
    const altered = await queue.enqueue(genuine);
    // Someone with access to Redis rewrites the job: another target host.
    await redis.hset(`bull:${QUEUE_NAME}:${altered.id}`, 'data', JSON.stringify({ ...altered.data, to: 'evil-1' }));
    const [u, a] = await work([unsigned, altered]);
    expect(u!.code).toBe(ErrorCode.JobSignatureInvalid);
    expect(u!.message).toMatch(/it is not signed/);
    expect(a!.code).toBe(ErrorCode.JobSignatureInvalid);
    expect(a!.message).toMatch(/altered, or signed with another key/);
    // Refused before the worker's first step: no started marker was set for either.
    expect(await redis.exists(keys.started(unsigned.id!), keys.started(altered.id!))).toBe(0);
  });

  it('a signed job gets past the check (and fails later, for want of hosts, with its own code)', async () => {
    const job = await queue.enqueue(data());
    const [f] = await work([job]);
    expect(f!.code).not.toBe(ErrorCode.JobSignatureInvalid);
    expect(f!.code).toBe(ErrorCode.LabNotUp);
    expect(await redis.exists(keys.started(job.id!))).toBe(1);
  });
});
