import type { Redis } from 'ioredis';
import { recoverOrphans, type RecoveryReport } from '../app/recover.ts';
import type { FerryConfig } from '../config.ts';
import { errorMessage } from '../errors.ts';
import { logger } from '../log.ts';
import type { JournalRecord } from '../migrate/journal/record.ts';
import { keys } from './jobs.ts';
import { RedisJournalStore } from './RedisJournalStore.ts';

/** Where a recovery's report waits for the chat (the relay renders it when the dead job is failed). */
export const recoveredKey = (id: string) => `ferry:recovered:${id}`;

/**
 * The queue claims a dead migration held (pure): its container's, under its own id or, for a
 * group's member, under the group's job, which also holds the group's claim. Each is released only
 * if that holder still has it.
 */
export function recoveredClaims(r: Pick<JournalRecord, 'id' | 'container' | 'group'>): [key: string, holder: string][] {
  const claims: [string, string][] = [[keys.active(r.container), r.id]];
  if (r.group?.job) claims.push([keys.active(r.container), r.group.job], [keys.activeGroup(r.group.name), r.group.job]);
  return claims;
}

/**
 * Recovery as workers do it: at start, then every `everyS`: any migration whose process died (a
 * killed worker, here or on another machine) is finished or undone, its container's queue claim
 * released and its report left for the chat. One worker recovers each (a Redis claim).
 */
export function startRecovery(redis: Redis, config: FerryConfig, opts: { everyS?: number; onReport?: (r: RecoveryReport) => void } = {}): { stop(): void; once(): Promise<RecoveryReport[]> } {
  const log = logger().child({ part: 'recovery' });
  let running: Promise<RecoveryReport[]> | undefined;
  const once = () =>
    (running ??= recoverOrphans({
      config,
      stores: [new RedisJournalStore(redis)],
      claim: async (id) => (await redis.set(`ferry:recovering:${id}`, String(process.pid), 'EX', 600, 'NX')) === 'OK',
      onRecovered: async (r, rep) => {
        for (const [key, holder] of recoveredClaims(r)) await redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, key, holder);
        await redis.set(recoveredKey(r.id), JSON.stringify(rep), 'EX', 7 * 24 * 3600);
        await redis.del(`ferry:recovering:${r.id}`);
        log.warn({ migration: r.id, outcome: rep.outcome, runsOn: rep.runsOn, error: rep.error }, 'recovered a migration');
        opts.onReport?.(rep);
      },
    })
      .catch((e) => {
        log.warn({ err: errorMessage(e) }, 'recovery pass failed');
        return [];
      })
      .finally(() => {
        running = undefined;
      }));
  void once();
  const timer = setInterval(() => void once(), (opts.everyS ?? 60) * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer), once };
}
