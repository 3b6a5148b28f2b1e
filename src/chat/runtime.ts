import http from 'node:http';
import { Redis } from 'ioredis';
import type { Worker } from 'bullmq';
import type { FerryConfig } from '../config.ts';
import { loadHosts } from '../app/hosts.ts';
import { logger } from '../log.ts';
import { MigrationQueue } from '../queue/MigrationQueue.ts';
import { createMigrationWorker } from '../queue/MigrationWorker.ts';
import { startRecovery } from '../queue/recovery.ts';
import { startLocalRedis, type LocalRedis } from '../queue/local-redis.ts';
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
    idle,
    close: async () => {
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

/** A /healthz endpoint for the worker process (compose health checks). */
export function healthServer(port: number, ok: () => boolean): http.Server {
  return http.createServer((req, res) => {
    if (req.url === '/healthz') res.writeHead(ok() ? 200 : 503).end(ok() ? 'ok' : 'not ready');
    else res.writeHead(404).end();
  }).listen(port);
}
