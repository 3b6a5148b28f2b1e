import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';

/** One thing /healthz checks. */
export interface HealthCheck {
  name: string;
  /** Resolves with whether it is fine and a few words on its state; never throws. */
  check(): Promise<{ ok: boolean; detail: string }>;
}

/** How long Redis may take to answer PING before it counts as down. @defaultValue 1 s */
export const REDIS_PING_TIMEOUT_MS = 1000;

/**
 * Redis answers PING within `timeoutMs`. Uses its own connection without an offline queue, so while
 * Redis is unreachable the PING fails at once instead of waiting for a reconnect; `close()` ends it.
 */
export function redisCheck(redis: Redis, timeoutMs = REDIS_PING_TIMEOUT_MS): HealthCheck & { close(): void } {
  const probe = redis.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: timeoutMs });
  probe.on('error', () => undefined); // the check reports it; ioredis would otherwise print every reconnect failure
  return {
    name: 'redis',
    async check() {
      let timer: NodeJS.Timeout | undefined;
      try {
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new FerryError(ErrorCode.RedisUnavailable, `no answer to PING within ${timeoutMs} ms`)), timeoutMs);
        });
        // Just started, or reconnecting after an outage: give the connection the same time to come up.
        if (probe.status !== 'ready') await Promise.race([new Promise((r) => probe.once('ready', r)), late]);
        const pong = await Promise.race([probe.ping(), late]);
        return { ok: pong === 'PONG', detail: pong === 'PONG' ? 'ok' : `unexpected answer ${pong}` };
      } catch (e) {
        return { ok: false, detail: `${errorMessage(e)} (connection ${probe.status})` };
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => probe.disconnect(),
  };
}

/** The worker takes jobs: running, not paused, not closing. */
export function workerCheck(worker: Pick<Worker, 'isRunning' | 'isPaused' | 'closing'>): HealthCheck {
  return {
    name: 'worker',
    async check() {
      if (worker.closing) return { ok: false, detail: 'closing' };
      if (!worker.isRunning()) return { ok: false, detail: 'not running' };
      if (worker.isPaused()) return { ok: false, detail: 'paused' };
      return { ok: true, detail: 'running' };
    },
  };
}

/** Runs every check at once: healthy when all are; the text has one `name: detail` line each. */
export async function runChecks(checks: readonly HealthCheck[]): Promise<{ ok: boolean; text: string }> {
  const results = await Promise.all(checks.map(async (c) => ({ name: c.name, ...(await c.check()) })));
  return { ok: results.every((r) => r.ok), text: `${results.map((r) => `${r.name}: ${r.detail}`).join('\n')}\n` };
}
