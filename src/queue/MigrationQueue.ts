import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadJobKey } from '../config.ts';
import { jobKeyFor, signJob } from './job-signature.ts';
import { keys, QUEUE_NAME, type JobResult, type MigrationJobData } from './jobs.ts';

export type MigrationJob = Job<MigrationJobData, JobResult, string>;

export class AlreadyMigratingError extends Error {
  readonly code = 'ferry_already_migrating';
  constructor(
    readonly container: string,
    readonly existingId: string,
  ) {
    super(`${container} is already migrating (job ${existingId})`);
    this.name = 'AlreadyMigratingError';
  }
}

export interface MigrationQueueOptions {
  /**
   * The key jobs are signed with; workers check it (see job-signature.ts).
   * @defaultValue FERRY_JOB_KEY_FILE / FERRY_JOB_KEY, else this process's random key
   */
  jobKey?: Buffer;
}

/** The `migrations` queue: at most one active job per container, no automatic retries, every job signed. */
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
   * Enqueues unless the container already has an active migration. The claim is an atomic
   * SET NX in Redis, so two bot replicas racing on one container cannot both win.
   */
  async enqueue(data: MigrationJobData): Promise<MigrationJob> {
    if (!data.dryRun) {
      const claimed = await this.redis.set(keys.active(data.container), data.id, 'EX', 6 * 3600, 'NX');
      if (claimed !== 'OK') {
        const existing = (await this.redis.get(keys.active(data.container))) ?? 'unknown';
        throw new AlreadyMigratingError(data.container, existing);
      }
    }
    try {
      // attempts: 1: once a container was frozen, the engine's rollback owns recovery, not a retry.
      return await this.queue.add('migrate', signJob('migrate', data, this.jobKey), { jobId: data.id, attempts: 1, removeOnComplete: { count: 500 }, removeOnFail: { count: 500 } });
    } catch (e) {
      if (!data.dryRun) await this.redis.del(keys.active(data.container));
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
      return { ok: true, message: `migration ${id} cancelled before it started; ${job.data.container} stays on ${job.data.from}` };
    }
    if (state === 'active') {
      if (await this.redis.get(keys.frozen(id))) {
        return { ok: false, message: `migration ${id} is past the freeze and cannot be cancelled: it will finish, or roll back to ${job.data.from}` };
      }
      await this.redis.set(keys.cancel(id), '1', 'EX', 3600);
      return { ok: true, message: `cancel requested for ${id}: it stops before the freeze, and ${job.data.container} stays on ${job.data.from}` };
    }
    return { ok: false, message: `migration ${id} is already ${state}` };
  }

  async releaseClaim(data: MigrationJobData): Promise<void> {
    // Only our own claim (a newer job may hold it), compared and deleted in one step.
    await this.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, keys.active(data.container), data.id);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
