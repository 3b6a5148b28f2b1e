import { mkdtemp, rm } from 'node:fs/promises';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { redisCheck, workerCheck } from '../../../src/queue/health.ts';
import { startLocalRedis, type LocalRedis } from '../../../src/queue/local-redis.ts';
import { FerryMetrics } from '../../../src/queue/metrics.ts';
import { MigrationQueue } from '../../../src/queue/MigrationQueue.ts';
import { createMigrationWorker } from '../../../src/queue/MigrationWorker.ts';
import { opsServer } from '../../../src/queue/ops-http.ts';
import { report } from '../chat/fixtures.ts';
import { redisMissing } from '../helpers/redis.ts';

/**
 * /healthz and /metrics against a real Redis this test starts and stops, and a real BullMQ worker.
 * No stand-in: the one job the worker runs fails at once, because the hosts file it names does not exist
 * (nothing is contacted), which is what the failure counter is checked with.
 */

const why = redisMissing();
if (why) console.warn(`SKIPPED /healthz and /metrics against Redis: ${why}`);

async function get(server: http.Server, p: string): Promise<{ status: number; text: string; type: string | null }> {
  const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${p}`);
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type') };
}

function listening(s: http.Server): Promise<http.Server> {
  return new Promise((resolve) => (s.listening ? resolve(s) : s.once('listening', () => resolve(s))));
}

/** Polls until `pred` holds: a stopped Redis is noticed when its socket closes, a moment after the process exits. */
async function eventually<T>(fn: () => Promise<T>, pred: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await fn();
    if (pred(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(why !== null)('/healthz and /metrics', () => {
  let server: LocalRedis;
  let redis: Redis;
  let queue: MigrationQueue;
  let dir: string;

  beforeAll(async () => {
    server = await startLocalRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    queue = new MigrationQueue(redis);
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-ops-'));
  });

  afterAll(async () => {
    await queue?.close().catch(() => undefined);
    redis?.disconnect();
    await server?.stop().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows migration counters and histograms once the metrics are fed a report, and the queue\'s counts', async () => {
    const metrics = new FerryMetrics({ processMetrics: false });
    metrics.recordResult({ dryRun: false, report: report({ method: 'page-server' }) });
    metrics.recordResult({ dryRun: false, report: report({ method: 'page-server', outcome: 'rolled-back', runsOn: 'aws-1' }) });
    metrics.recordResult({ dryRun: true, method: 'page-server', reason: 'r', plan: 'p', provisionCheck: {}, blockers: [] });
    const s = await listening(opsServer(0, { checks: [], metrics, queue: queue.queue }, '127.0.0.1'));
    try {
      const m = await get(s, '/metrics');
      expect(m.status).toBe(200);
      expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(m.text).toContain('ferry_migrations_total{method="page-server",outcome="migrated"} 1');
      expect(m.text).toContain('ferry_migrations_total{method="page-server",outcome="rolled-back"} 1');
      expect(m.text).toContain('ferry_migrations_total{method="page-server",outcome="dry-run"} 1');
      // Only the migration that moved is observed: downtime 1.4249 s falls in the 2 s bucket, not the 1 s one.
      expect(m.text).toContain('ferry_migration_downtime_seconds_bucket{le="1",method="page-server"} 0');
      expect(m.text).toContain('ferry_migration_downtime_seconds_bucket{le="2",method="page-server"} 1');
      expect(m.text).toContain('ferry_migration_downtime_seconds_count{method="page-server"} 1');
      for (const phase of ['pre_dump', 'pre_copy', 'pre_migration', 'checkpoint', 'transfer', 'restore', 'downtime', 'total']) {
        expect(m.text).toContain(`ferry_migration_phase_seconds_count{method="page-server",phase="${phase}"} 1`);
      }
      expect(m.text).toContain('ferry_migration_phase_seconds_sum{method="page-server",phase="total"} 9.87');
      expect(m.text).toMatch(/^bullmq_job_count\{queue="migrations", state="waiting"\} 0$/m);
    } finally {
      s.close();
    }
  });

  it('counts a group\'s move as one migration per member (the group\'s own window is no metric)', async () => {
    const metrics = new FerryMetrics({ processMetrics: false });
    const member = (container: string, outcome: 'migrated' | 'rolled-back') => report({ container, method: 'normal', outcome });
    metrics.recordResult({ dryRun: false, group: { group: 'blog', outcome: 'rolled-back', from: 'aws-1', to: 'gcp-1', members: [member('blog-db', 'migrated'), member('blog-web', 'rolled-back')], times: { downtime: null, total: 5 } } });
    const text = await metrics.render();
    expect(text).toContain('ferry_migrations_total{method="normal",outcome="migrated"} 1');
    expect(text).toContain('ferry_migrations_total{method="normal",outcome="rolled-back"} 1');
    expect(text).toContain('ferry_migration_downtime_seconds_count{method="normal"} 1');
  });

  it('counts a job the worker failed, by the method asked for', async () => {
    const metrics = new FerryMetrics({ processMetrics: false });
    const config = loadConfig({ REDIS_URL: server.url, FERRY_LAB_DIR: dir, FERRY_HOSTS_FILE: path.join(dir, 'no-hosts.json') });
    const worker = createMigrationWorker(redis, config, { concurrency: 1, provision: false, metrics });
    const failed = new Promise<void>((r) => worker.once('failed', () => r()));
    await queue.enqueue({ id: 'm-20260301120000-a1b2c3', container: 'web1', from: 'lab-1', to: 'lab-2', method: 'lazy', dryRun: false, requestedBy: 'UALICE', requestedAt: new Date().toISOString() });
    await failed;
    const s = await listening(opsServer(0, { checks: [workerCheck(worker)], metrics, queue: queue.queue }, '127.0.0.1'));
    try {
      expect((await get(s, '/metrics')).text).toContain('ferry_migrations_total{method="lazy",outcome="failed"} 1');
      expect(await get(s, '/healthz')).toMatchObject({ status: 200, text: 'worker: running\n' });
      await worker.close();
      expect(await get(s, '/healthz')).toMatchObject({ status: 503, text: 'worker: closing\n' });
    } finally {
      s.close();
    }
  });

  it('answers /healthz ok while Redis answers, and 503 once Redis is stopped', async () => {
    const check = redisCheck(redis);
    const s = await listening(opsServer(0, { checks: [check], metrics: new FerryMetrics({ processMetrics: false }), queue: queue.queue }, '127.0.0.1'));
    try {
      expect(await get(s, '/healthz')).toMatchObject({ status: 200, text: 'redis: ok\n' });
      expect((await get(s, '/nope')).status).toBe(404);
      await server.stop();
      const down = await eventually(() => get(s, '/healthz'), (r) => r.status !== 200);
      expect(down.status).toBe(503);
      expect(down.text).toMatch(/^redis: /);
      expect(down.text).not.toBe('redis: ok\n');
      // /metrics needs Redis for the queue's counts: it says so rather than hanging.
      const m = await get(s, '/metrics');
      expect(m.status).toBe(503);
      expect(m.text).toMatch(/^metrics unavailable: /);
    } finally {
      check.close();
      s.close();
    }
  });
});
