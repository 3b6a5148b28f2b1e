import { readFile } from 'node:fs/promises';
import { MetricsTime, Worker, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import { executeRequest } from '../app/execute.ts';
import { runGroupMigration } from '../app/group.ts';
import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, decodeError, encodeError } from '../errors.ts';
import { logger } from '../log.ts';
import { MigrationEvents, type MigrationEvent } from '../migrate/events.ts';
import { subjectOf, subjectText } from '../migrate/request.ts';
import type { HookOutput } from '../app/hooks.ts';
import type { StepEvent } from '../app/migrate.ts';
import { jobKeyFor, verifyJob } from './job-signature.ts';
import { keys, QUEUE_NAME, type GroupJobData, type JobProgress, type JobResult, type MigrationJobData } from './jobs.ts';
import { ferryMetrics, type FerryMetrics } from './metrics.ts';
import { MigrationQueue } from './MigrationQueue.ts';
import { RedisJournalStore } from './RedisJournalStore.ts';

type ProgressBody = { event: MigrationEvent; member?: string } | StepEvent | HookOutput;

export interface WorkerOptions {
  /** Migrations run at once by this worker. @defaultValue 2 (FERRY_WORKER_CONCURRENCY) */
  concurrency?: number;
  /** Run the provision playbook on both hosts before migrating. @defaultValue true */
  provision?: boolean;
  /** Where finished jobs are counted (migrations by method and outcome, downtime, phases). @defaultValue this process's {@link ferryMetrics} */
  metrics?: FerryMetrics;
  /**
   * The use cases a job runs: a container's request, a group's move. Unit tests give stand-ins (they
   * have no hosts). @defaultValue executeRequest (app/execute.ts) and runGroupMigration (app/group.ts)
   */
  useCases?: { executeRequest?: typeof executeRequest; runGroupMigration?: typeof runGroupMigration };
}

/**
 * Runs queued migrations: provision, migrate, report; a container's through executeRequest, a
 * group's through runGroupMigration (its members claimed while it runs). A job never starts twice:
 * BullMQ's stalled-job recovery is off (maxStalledCount 0, maxStartedAttempts 1), and a Redis
 * marker set at the start refuses a second run of the same id whatever happens.
 */
export function createMigrationWorker(redis: Redis, config: FerryConfig, opts: WorkerOptions = {}): Worker<MigrationJobData, JobResult> {
  const queue = new MigrationQueue(redis);
  const journal = new RedisJournalStore(redis);
  const log = logger().child({ part: 'worker' });
  // BullMQ does not close a connection it was given: this one is ours to close.
  const connection = redis.duplicate({ maxRetriesPerRequest: null });
  connection.on('error', (e) => log.debug({ err: e.message }, 'worker redis'));
  const jobKey = jobKeyFor(config.jobKey);
  const execute = opts.useCases?.executeRequest ?? executeRequest;
  const moveGroup = opts.useCases?.runGroupMigration ?? runGroupMigration;
  const worker = new Worker<MigrationJobData, JobResult>(
    QUEUE_NAME,
    async (job, _token, signal) => {
      // Before anything else: only a job the bot signed, unaltered, is run (no claim, no marker touched).
      try {
        verifyJob<MigrationJobData>(job.name, job.data, jobKey);
      } catch (e) {
        throw new UnrecoverableError(encodeError(e));
      }
      let seq = 0;
      const progress = (p: ProgressBody) => job.updateProgress({ seq: ++seq, ...p } as JobProgress).catch(() => undefined);
      const first = await redis.set(keys.started(job.data.id), new Date().toISOString(), 'EX', 7 * 24 * 3600, 'NX');
      if (first !== 'OK') {
        // The first run may still be going: its claim on the container is deliberately kept.
        throw new UnrecoverableError(
          encodeError(
            new FerryError(
              ErrorCode.AlreadyStarted,
              `migration ${job.data.id} was already started once; it is never run twice (check where ${subjectText(job.data)} runs with /migrate hosts; ${job.data.group !== undefined ? 'the group stays' : 'the container stays'} claimed until the first run's claim expires)`,
            ),
          ),
        );
      }
      const abort = new AbortController();
      signal?.addEventListener('abort', () => abort.abort());
      const poll = setInterval(() => {
        void redis.get(keys.cancel(job.data.id)).then((v) => v && abort.abort());
      }, 300);
      // A group's members, once claimed, to give back at the end.
      let members: string[] = [];
      try {
        // Data that names both a container and a group, or neither, is refused before any host is contacted.
        subjectOf(job.data);
        const watch = (events: MigrationEvents, member?: string) =>
          events.on('event', (event) => {
            if (event.type === 'frozen') void redis.set(keys.frozen(job.data.id), '1', 'EX', 3600);
            void progress(member === undefined ? { event } : { event, member });
          });
        const onStep = (s: StepEvent) => void progress(s);
        if (job.data.group !== undefined) {
          const data: GroupJobData = job.data;
          // The parser never asks for one; a job that does is refused rather than run as a move.
          if (data.dryRun) throw new FerryError(ErrorCode.UsageError, `group ${data.group}: a group has no dry run, so nothing was done`);
          const report = await moveGroup(data.group, data.from, data.to, {
            config,
            method: data.method,
            provision: opts.provision ?? config.provisionBeforeMigrate,
            signal: abort.signal,
            onStep,
            journalStores: [journal],
            job: data.id,
            onMember: (name, events) => void watch(events, name),
            claim: async (reqs) => {
              members = await queue.claimMembers(data.id, data.group, reqs.map((r) => r.container));
            },
          });
          return { dryRun: false, group: report };
        }
        const events = new MigrationEvents();
        watch(events);
        const result = await execute(job.data, { config, provision: opts.provision, signal: abort.signal, events, onStep, journalStores: [journal], probe: 'auto', onHookOutput: (o) => void progress(o) });
        // The response-time plot goes to the chat through Redis: the bot may run on another machine.
        if (!result.dryRun && result.report.probe?.png) {
          const png = await readFile(result.report.probe.png).catch(() => null);
          if (png) await redis.set(keys.plot(job.data.id), png.toString('base64'), 'EX', 7 * 24 * 3600);
        }
        return result;
      } catch (e) {
        // No retry, ever: the engine has already rolled back whatever needed it. The code travels
        // with the job (failedReason), so chat renders it without reading the text.
        throw new UnrecoverableError(encodeError(e));
      } finally {
        clearInterval(poll);
        await queue.releaseMembers(job.data.id, members);
        await queue.releaseClaim(job.data);
        await redis.del(keys.cancel(job.data.id), keys.frozen(job.data.id));
      }
    },
    // A dead worker's job is failed (never retried) within about lockDuration; its migration is
    // finished or undone by recovery (recovery.ts) from the journal.
    // metrics: BullMQ's per-minute completed/failed counts, which its Prometheus exporter reports (a week kept).
    { connection, concurrency: opts.concurrency ?? 2, maxStalledCount: 0, maxStartedAttempts: 1, lockDuration: 30_000, stalledInterval: 15_000, metrics: { maxDataPoints: MetricsTime.ONE_WEEK } },
  );
  const metrics = opts.metrics ?? ferryMetrics();
  worker.on('completed', (_job, result) => metrics.recordResult(result));
  worker.on('failed', (job, err) => {
    log.warn({ job: job?.id, err: decodeError(err.message).toJSON() }, 'migration job failed');
    if (job) metrics.recordFailure(job.data, err.message);
  });
  worker.on('closed', () => {
    void queue.close().finally(() => connection.disconnect());
  });
  return worker;
}
