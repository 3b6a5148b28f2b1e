import { Redis } from 'ioredis';
import type { Worker } from 'bullmq';
import type { FerryConfig } from '../config.ts';
import { loadHosts } from '../app/hosts.ts';
import { logger } from '../log.ts';
import { MigrationQueue } from '../queue/MigrationQueue.ts';
import { createMigrationWorker } from '../queue/MigrationWorker.ts';
import { startRecovery } from '../queue/recovery.ts';
import { startLocalRedis, type LocalRedis } from '../queue/local-redis.ts';
import { redisCheck, workerCheck, type HealthCheck } from '../queue/health.ts';
import { ferryMetrics } from '../queue/metrics.ts';
import type { OpsEndpoints } from '../queue/ops-http.ts';
import { ChatService } from './ChatService.ts';
import type { ChatTransport } from './ChatTransport.ts';
import type { Policy } from './core/policy.ts';
import { ProgressRelay } from './ProgressRelay.ts';

/** Redis, queue, relay and chat service wired together; optionally a worker in the same process. */
export interface Runtime {
  redis: Redis;
  queue: MigrationQueue;
  relay: ProgressRelay;
  service: ChatService;
  worker?: Worker;
  /** What /healthz (Redis, and the worker when there is one) and /metrics answer from. */
  ops: OpsEndpoints;
  /** Waits until no migration is queued or running and every result has reached the chat. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function connectRedis(config: FerryConfig): Promise<{ redis: Redis; local?: LocalRedis }> {
  const local = config.redisUrl ? undefined : await startLocalRedis();
  const redis = new Redis(config.redisUrl ?? local!.url, { maxRetriesPerRequest: null });
  redis.on('error', (e) => logger().warn({ err: e.message }, 'redis'));
  await redis.ping();
  return { redis, local };
}

export async function startRuntime(config: FerryConfig, transport: ChatTransport, policy: Policy, opts: { worker: boolean }): Promise<Runtime> {
  const log = logger();
  const { redis, local } = await connectRedis(config);
  const queue = new MigrationQueue(redis);
  const relay = new ProgressRelay(redis, queue, transport, log.child({ part: 'relay' }));
  await relay.start();
  const service = new ChatService({ redis, queue, policy, transport, hosts: () => loadHosts(config), log: log.child({ part: 'chat' }) });
  // Approval requests that run out get their message marked expired (whichever replica sweeps first).
  const sweep = service.startExpirySweep();
  const worker = opts.worker ? createMigrationWorker(redis, config, { concurrency: config.workerConcurrency, provision: config.provisionBeforeMigrate }) : undefined;
  // A worker first finishes or undoes what dead processes left (see queue/recovery.ts).
  const recovery = opts.worker ? startRecovery(redis, config) : undefined;
  const redisHealth = redisCheck(redis);
  const checks: HealthCheck[] = [redisHealth, ...(worker ? [workerCheck(worker)] : [])];
  const ops: OpsEndpoints = { checks, metrics: ferryMetrics(), queue: queue.queue };
  const idle = async () => {
    for (;;) {
      const counts = await queue.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
      const busy = Object.values(counts).reduce((a, b) => a + b, 0);
      const done = await queue.queue.getJobs(['completed', 'failed'], 0, 50);
      const unrelayed = (await Promise.all(done.map((j) => redis.exists(`ferry:relay:${j.id}:end`)))).filter((x) => x === 0).length;
      if (busy === 0 && unrelayed === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await relay.idle();
  };
  return {
    redis,
    queue,
    relay,
    service,
    worker,
    ops,
    idle,
    close: async () => {
      redisHealth.close();
      sweep.stop();
      recovery?.stop();
      await worker?.close();
      await relay.stop();
      await queue.close();
      redis.disconnect();
      await local?.stop();
    },
  };
}

