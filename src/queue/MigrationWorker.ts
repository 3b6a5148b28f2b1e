import { Worker, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { findHost, loadHostsFile } from '../hosts/inventory.ts';
import { probeHost } from '../hosts/probe.ts';
import { withHosts } from '../hosts/session.ts';
import { runPlaybook } from '../infra/ansible.ts';
import { Lab } from '../infra/lab.ts';
import { logger } from '../log.ts';
import { MigrationEvents } from '../migrate/events.ts';
import { MigrationEngine } from '../migrate/MigrationEngine.ts';
import { chooseMethod, methodBlocker, METHODS } from '../migrate/methods.ts';
import { trafficFor } from '../traffic/detect.ts';
import { keys, QUEUE_NAME, type JobProgress, type JobResult, type MigrationJobData } from './jobs.ts';
import { MigrationQueue } from './MigrationQueue.ts';

export interface WorkerOptions {
  /** Migrations run at once by this worker. @defaultValue 2 (FERRY_WORKER_CONCURRENCY) */
  concurrency?: number;
  /** Run the provision playbook on both hosts before migrating. @defaultValue true */
  provision?: boolean;
}

/**
 * Runs queued migrations: provision, migrate, report. A job never starts twice: BullMQ's
 * stalled-job recovery is off (maxStalledCount 0, maxStartedAttempts 1), and a Redis marker set
 * at the start refuses a second run of the same id whatever happens.
 */
export function createMigrationWorker(redis: Redis, config: FerryConfig, opts: WorkerOptions = {}): Worker<MigrationJobData, JobResult> {
  const queue = new MigrationQueue(redis);
  const log = logger().child({ part: 'worker' });
  // BullMQ does not close a connection it was given: this one is ours to close.
  const connection = redis.duplicate({ maxRetriesPerRequest: null });
  connection.on('error', (e) => log.debug({ err: e.message }, 'worker redis'));
  const worker = new Worker<MigrationJobData, JobResult>(
    QUEUE_NAME,
    async (job, _token, signal) => {
      let seq = 0;
      const progress = (p: Omit<JobProgress, 'seq'>) => job.updateProgress({ seq: ++seq, ...p } as JobProgress).catch(() => undefined);
      const first = await redis.set(keys.started(job.data.id), new Date().toISOString(), 'EX', 7 * 24 * 3600, 'NX');
      if (first !== 'OK') {
        // The first run may still be going: its claim on the container is deliberately kept.
        throw new UnrecoverableError(`migration ${job.data.id} was already started once; it is never run twice (check where ${job.data.container} runs with /migrate hosts; the container stays claimed until the first run's claim expires)`);
      }
      const abort = new AbortController();
      signal?.addEventListener('abort', () => abort.abort());
      const poll = setInterval(() => {
        void redis.get(keys.cancel(job.data.id)).then((v) => v && abort.abort());
      }, 300);
      try {
        return await runJob(job, config, opts, abort.signal, progress, redis);
      } catch (e) {
        // No retry, ever: the engine has already rolled back whatever needed it.
        throw new UnrecoverableError(errorMessage(e));
      } finally {
        clearInterval(poll);
        await queue.releaseClaim(job.data);
        await redis.del(keys.cancel(job.data.id), keys.frozen(job.data.id));
      }
    },
    { connection, concurrency: opts.concurrency ?? 2, maxStalledCount: 0, maxStartedAttempts: 1, lockDuration: 60_000 },
  );
  worker.on('failed', (job, err) => log.warn({ job: job?.id, err: err.message }, 'migration job failed'));
  worker.on('closed', () => {
    void queue.close().finally(() => connection.disconnect());
  });
  return worker;
}

async function runJob(
  job: Job<MigrationJobData, JobResult>,
  config: FerryConfig,
  opts: WorkerOptions,
  signal: AbortSignal,
  progress: (p: Omit<JobProgress, 'seq'>) => Promise<unknown>,
  redis: Redis,
): Promise<JobResult> {
  const d = job.data;
  const hostsFile = await loadHostsFile(config.hostsFile);
  findHost(hostsFile, d.from);
  findHost(hostsFile, d.to);

  if (d.dryRun) {
    await progress({ step: 'provision', state: 'start', detail: 'ansible-playbook --check' });
    const check = await runPlaybook('provision.yml', hostsFile.inventoryFile, { limit: `${d.from},${d.to}`, check: true });
    await progress({ step: 'provision', state: 'end' });
    // Terraform's view of the environment (the lab's module here; a cloud module likewise).
    const plan = hostsFile.environment === 'local' ? await new Lab(config).plan() : { changes: false, text: `no Terraform module for environment ${hostsFile.environment}` };
    const caps = await withHosts([d.from, d.to], (hs) => Promise.all(hs.map((h) => probeHost(h))));
    const blockers = METHODS.map((m) => methodBlocker(m, caps[0]!, caps[1]!)).filter((b): b is string => b !== null);
    const choice = chooseMethod(d.method, caps[0]!, caps[1]!);
    return { dryRun: true, method: choice.method, reason: choice.reason, plan: `move ${d.container} from ${d.from} to ${d.to} with ${choice.method}; terraform plan: ${plan.changes ? 'changes pending' : 'no changes'}`, provisionCheck: check.recap, blockers };
  }

  if (opts.provision !== false) {
    await progress({ step: 'provision', state: 'start' });
    if (signal.aborted) throw new FerryError(ErrorCode.Cancelled, `migration ${d.id} cancelled before it started`);
    const r = await runPlaybook('provision.yml', hostsFile.inventoryFile, { limit: `${d.from},${d.to}`, cancelSignal: signal });
    const changed = Object.values(r.recap).reduce((n, h) => n + h.changed, 0);
    await progress({ step: 'provision', state: 'end', detail: changed ? `${changed} changes` : 'no changes' });
  }
  await progress({ step: 'migrate', state: 'start' });
  const events = new MigrationEvents();
  events.on('event', (event) => {
    if (event.type === 'frozen') void redis.set(keys.frozen(d.id), '1', 'EX', 3600);
    void progress({ event });
  });
  const engine = new MigrationEngine(hostsFile, config);
  // Where HAProxy fronts the container, clients are held through the freeze (on by default).
  const traffic = await trafficFor(hostsFile, d.container, d.from, 'auto');
  let report;
  try {
    report = await engine.migrate({ id: d.id, container: d.container, from: d.from, to: d.to, method: d.method, signal, traffic: traffic?.sw }, events);
  } finally {
    traffic?.front.dispose();
  }
  await progress({ step: 'migrate', state: 'end', detail: report.outcome });
  return { dryRun: false, report };
}
