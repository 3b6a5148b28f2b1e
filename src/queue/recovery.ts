import type { Redis } from 'ioredis';
import { recoverOrphans, type RecoveryReport } from '../app/recover.ts';
import type { FerryConfig } from '../config.ts';
import { errorMessage } from '../errors.ts';
import { logger } from '../log.ts';
import type { JournalRecord } from '../migrate/journal/record.ts';
import { keys } from './jobs.ts';
import { releaseOwnClaim } from './MigrationQueue.ts';
import { RedisJournalStore } from './RedisJournalStore.ts';

/** Where a recovery's report waits for the chat (the relay renders it when the dead job is failed). */
export const recoveredKey = (id: string) => `ferry:recovered:${id}`;

/** Held by the one recoverer working on a dead migration (it expires if that one dies too). */
const recoveringKey = (id: string) => `ferry:recovering:${id}`;

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
 * What a recoverer holds while it works on a dead migration, in Redis: one recoverer per migration
 * across workers and `ferry recover` (the source host's own claim covers the rest, recover.ts).
 */
export function recoveryClaim(redis: Redis): (id: string) => Promise<boolean> {
  return async (id) => (await redis.set(recoveringKey(id), String(process.pid), 'EX', 600, 'NX')) === 'OK';
}

/**
 * Once a dead migration is finished or undone: the queue claims it held released (each only if
 * its holder still has it), its report left for the chat, the recoverer's own claim dropped.
 */
export async function afterRecovery(redis: Redis, r: JournalRecord, rep: RecoveryReport): Promise<void> {
  for (const [key, holder] of recoveredClaims(r)) await releaseOwnClaim(redis, key, holder);
  await redis.set(recoveredKey(r.id), JSON.stringify(rep), 'EX', 7 * 24 * 3600);
  await redis.del(recoveringKey(r.id));
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
      claim: recoveryClaim(redis),
      onRecovered: async (r, rep) => {
        await afterRecovery(redis, r, rep);
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
