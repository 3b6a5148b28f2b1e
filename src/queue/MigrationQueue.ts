import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadJobKey } from '../config.ts';
import { ErrorCode, FerryError } from '../errors.ts';
import { subjectText } from '../migrate/request.ts';
import { jobKeyFor, signJob } from './job-signature.ts';
import { claimKey, keys, QUEUE_NAME, type JobResult, type MigrationJobData } from './jobs.ts';

export type MigrationJob = Job<MigrationJobData, JobResult, string>;

/** Compare-and-delete: a claim is released only by the job that holds it (a newer job may hold it). */
const RELEASE_OWN = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Releases the claim `key` if `holder` still holds it; a claim a newer job took is left alone. */
export async function releaseOwnClaim(redis: Redis, key: string, holder: string): Promise<void> {
  await redis.eval(RELEASE_OWN, 1, key, holder);
}

/** How long a claim outlives a worker that died without releasing it. */
const CLAIM_TTL_S = 6 * 3600;

/**
 * The refusal {@link MigrationQueue.enqueue} throws when the container or group already has an active
 * migration: `AlreadyMigrating`, with `details.subject` (what, in words: `web1`, or `group blog`) and
 * `details.existingId` (the job that holds it).
 */
export function alreadyMigratingError(subject: string, existingId: string): FerryError {
  return new FerryError(ErrorCode.AlreadyMigrating, `${subject} is already migrating (job ${existingId})`, { details: { subject, existingId } });
}

export interface MigrationQueueOptions {
  /**
   * The key jobs are signed with; workers check it (see job-signature.ts).
   * @defaultValue FERRY_JOB_KEY_FILE / FERRY_JOB_KEY, else this process's random key
   */
  jobKey?: Buffer;
}

/** The `migrations` queue: at most one active job per container and per group, no automatic retries, every job signed. */
export class MigrationQueue {
  readonly queue: Queue<MigrationJobData, JobResult, string>;
  private readonly jobKey: Buffer;

  constructor(
    private readonly redis: Redis,
    opts: MigrationQueueOptions = {},
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: redis });
    // The connection's owner logs its errors (see connectRedis); without a listener BullMQ prints each
    // failed reconnect to stderr while Redis is down.
    this.queue.on('error', () => undefined);
    this.jobKey = jobKeyFor(opts.jobKey ?? loadJobKey(process.env));
  }

  /**
   * Enqueues unless the container (or the group) already has an active migration. The claim is an
   * atomic SET NX in Redis, so two bot replicas racing on one container cannot both win. A group's
   * members are claimed by the worker once it has found them ({@link claimMembers}).
   */
  async enqueue(data: MigrationJobData): Promise<MigrationJob> {
    const key = claimKey(data);
    if (!data.dryRun) {
      const claimed = await this.redis.set(key, data.id, 'EX', CLAIM_TTL_S, 'NX');
      if (claimed !== 'OK') {
        const existing = (await this.redis.get(key)) ?? 'unknown';
        throw alreadyMigratingError(subjectText(data), existing);
      }
    }
    try {
      // attempts: 1: once a container was frozen, the engine's rollback owns recovery, not a retry.
      return await this.queue.add('migrate', signJob('migrate', data, this.jobKey), { jobId: data.id, attempts: 1, removeOnComplete: { count: 500 }, removeOnFail: { count: 500 } });
    } catch (e) {
      if (!data.dryRun) await this.redis.del(key);
      throw e;
    }
  }

  async get(id: string): Promise<MigrationJob | undefined> {
    return (await this.queue.getJob(id)) ?? undefined;
  }

  async recent(limit = 10): Promise<MigrationJob[]> {
    const jobs = await this.queue.getJobs(['active', 'waiting', 'delayed', 'completed', 'failed'], 0, 200);
    return jobs.filter(Boolean).sort((a, b) => b.timestamp - a.timestamp).slice(0, limit);
  }

  /**
   * Cancels a job: a waiting one is removed; an active one is asked to stop, which the engine
   * honours until the freeze. Returns what happened, in words.
   */
  async cancel(id: string): Promise<{ ok: boolean; message: string }> {
    const job = await this.get(id);
    if (!job) return { ok: false, message: `no migration ${id}` };
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
      await job.remove();
      await this.releaseClaim(job.data);
      return { ok: true, message: `migration ${id} cancelled before it started; ${subjectText(job.data)} stays on ${job.data.from}` };
    }
    if (state === 'active') {
      if (await this.redis.get(keys.frozen(id))) {
        return { ok: false, message: `migration ${id} is past the freeze and cannot be cancelled: it will finish, or roll back to ${job.data.from}` };
      }
      await this.redis.set(keys.cancel(id), '1', 'EX', 3600);
      return { ok: true, message: `cancel requested for ${id}: it stops before the freeze, and ${subjectText(job.data)} stays on ${job.data.from}` };
    }
    return { ok: false, message: `migration ${id} is already ${state}` };
  }

  async releaseClaim(data: MigrationJobData): Promise<void> {
    // Only our own claim (a newer job may hold it), compared and deleted in one step.
    await releaseOwnClaim(this.redis, claimKey(data), data.id);
  }

  /**
   * Claims each member of a group for the group's job `id`, as a container's own migration would be
   * claimed: none of them may be moved by another job meanwhile. All or none: when one is held, the
   * ones taken are given back and this throws `AlreadyMigrating` naming it (nothing was touched).
   * Returns the members claimed, for {@link releaseMembers}.
   */
  async claimMembers(id: string, group: string, members: readonly string[]): Promise<string[]> {
    const taken: string[] = [];
    for (const m of members) {
      if ((await this.redis.set(keys.active(m), id, 'EX', CLAIM_TTL_S, 'NX')) === 'OK') {
        taken.push(m);
        continue;
      }
      const existing = (await this.redis.get(keys.active(m))) ?? 'unknown';
      await this.releaseMembers(id, taken);
      throw new FerryError(ErrorCode.AlreadyMigrating, `${m}, a member of group ${group}, is already migrating (job ${existing}); nothing of the group was touched`, { details: { container: m, existingId: existing } });
    }
    return taken;
  }

  /** Gives back the members {@link claimMembers} took for job `id` (only those it still holds). */
  async releaseMembers(id: string, members: readonly string[]): Promise<void> {
    for (const m of members) await releaseOwnClaim(this.redis, keys.active(m), id);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
