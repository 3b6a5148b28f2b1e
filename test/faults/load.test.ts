/**
 * Load (issue 11): 20 migrations queued across 4 lab hosts and 4 containers, two worker
 * processes. Claims hold (a second request for a container that is moving is refused), every
 * migration completes, and a monitor reading each host's own namespaces never sees a container
 * on two hosts at once.
 */
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isFerryError } from '../../src/errors.ts';
import { newMigrationId } from '../../src/migrate/request.ts';
import { QUEUE_NAME } from '../../src/queue/jobs.ts';
import { MigrationQueue } from '../../src/queue/MigrationQueue.ts';
import { FULL_SCOPE, labUnavailable, skipNote } from '../helpers/env.ts';
import { clearLab, deploy, httpText, labUp, provision, runcState } from '../helpers/lab.ts';
import { RestartableRedis, testJobKey, WorkerProcess } from './inject.ts';
import { Monitor, seeOnLabHost } from './monitor.ts';

const why = labUnavailable();
skipNote(why, 'the load test (4 hosts, 2 workers)');

const HOSTS = ['lab-1', 'lab-2', 'lab-3', 'lab-4'];
const CONTAINERS = ['ld1', 'ld2', 'ld3', 'ld4'];
// CI: 8 migrations (every container moves twice, both workers busy); the full run: 20.
const TOTAL = FULL_SCOPE ? 20 : 8;

describe.skipIf(why !== null)(`${TOTAL} migrations, 4 hosts, 4 containers, 2 workers`, () => {
  const redis = new RestartableRedis();
  let client: Redis;
  let queue: MigrationQueue;
  let events: QueueEvents;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    await labUp(4);
    await provision();
    await clearLab();
    // Container i starts on host i; each answers on its own port.
    for (const [i, name] of CONTAINERS.entries()) await deploy(HOSTS[i]!, { workload: 'web', name, ballast_mib: 16, dirty_mib_per_s: 1, port: 8180 + i });
    const url = await redis.start();
    client = new Redis(url, { maxRetriesPerRequest: null });
    queue = new MigrationQueue(client, { jobKey: testJobKey() });
    events = new QueueEvents(QUEUE_NAME, { connection: client.duplicate({ maxRetriesPerRequest: null }) });
    await events.waitUntilReady();
    workers.push(new WorkerProcess(url).start(), new WorkerProcess(url).start());
  });

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await events?.close();
    await queue?.close();
    client?.disconnect();
    await redis.stop();
    await clearLab(CONTAINERS);
  });

  it('all complete, claims hold, and no container ever runs twice', { timeout: 20 * 60_000 }, async () => {
    const monitors = CONTAINERS.map((c) => new Monitor(HOSTS, c, seeOnLabHost, 200).start());
    const where = new Map(CONTAINERS.map((c, i) => [c, HOSTS[i]!]));
    const instances = new Map<string, string>();
    for (const [i, c] of CONTAINERS.entries()) instances.set(c, await httpText(HOSTS[i]!, 8180 + i, '/instance'));
    let queued = 0;
    let refused = 0;
    const done: { id: string; container: string; outcome: string }[] = [];
    const finished = new Map<string, (v: { ok: boolean; why: string }) => void>();
    events.on('completed', ({ jobId, returnvalue }) => finished.get(jobId)?.({ ok: true, why: JSON.stringify(returnvalue).slice(0, 200) }));
    events.on('failed', ({ jobId, failedReason }) => finished.get(jobId)?.({ ok: false, why: failedReason }));

    // Fails the waits below when every worker has exited (one that cannot start says why in its log).
    let watch: NodeJS.Timeout | undefined;
    const gone = new Promise<never>((_, reject) => {
      watch = setInterval(() => {
        if (workers.every((w) => w.exited)) reject(new Error(`every worker exited:\n${workers.map((w) => w.log.slice(-1500)).join('\n---\n')}`));
      }, 1000);
    });
    gone.catch(() => undefined);

    /** Moves a container one hop along the ring of hosts, as long as migrations remain. */
    async function hop(container: string): Promise<void> {
      while (queued < TOTAL) {
        queued++;
        const from = where.get(container)!;
        const to = HOSTS[(HOSTS.indexOf(from) + 1) % HOSTS.length]!;
        const id = newMigrationId();
        const end = new Promise<{ ok: boolean; why: string }>((r) => finished.set(id, r));
        await queue.enqueue({ id, container, from, to, method: 'page-server', dryRun: false, requestedBy: 'load', approvedBy: 'load', requestedAt: new Date().toISOString() });
        // A second request for the same container while it moves: refused by its claim.
        try {
          await queue.enqueue({ id: newMigrationId(), container, from, to, method: 'page-server', dryRun: false, requestedBy: 'load', approvedBy: 'load', requestedAt: new Date().toISOString() });
        } catch (e) {
          if (isFerryError(e, ErrorCode.AlreadyMigrating)) refused++;
          else throw e;
        }
        const r = await Promise.race([end, gone]);
        expect(r.ok, `${id} (${container} ${from} → ${to}): ${r.why}`).toBe(true);
        const job = await queue.get(id);
        const outcome = (job?.returnvalue as { report?: { outcome: string } } | undefined)?.report?.outcome ?? 'unknown';
        done.push({ id, container, outcome });
        expect(outcome).toBe('migrated');
        where.set(container, to);
      }
    }
    await Promise.all(CONTAINERS.map((c) => hop(c))).finally(() => clearInterval(watch));
    expect(done).toHaveLength(TOTAL);
    expect(refused).toBe(TOTAL);
    for (const [i, m] of monitors.entries()) {
      const seen = await m.stop();
      expect(seen.twice, `${CONTAINERS[i]} ran on two hosts at once`).toEqual([]);
    }
    for (const [i, c] of CONTAINERS.entries()) {
      const host = where.get(c)!;
      expect(await runcState(host, c)).toBe('running');
      expect(await httpText(host, 8180 + i, '/instance')).toBe(instances.get(c));
      for (const h of HOSTS.filter((x) => x !== host)) expect(await runcState(h, c)).toBeNull();
    }
    console.log(`load: ${done.length} migrations by 2 workers, ${refused} duplicate requests refused by the claim, no container on two hosts`);
  });
});
