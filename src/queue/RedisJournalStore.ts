import type { Redis } from 'ioredis';
import { isJournalRecord, type JournalStore } from '../migrate/journal/stores.ts';
import type { JournalRecord } from '../migrate/journal/record.ts';

const KEY = (id: string) => `ferry:journal:${id}`;
const INDEX = 'ferry:journal';

/** The journal in Redis, beside the queue: any worker can find and recover what another left. */
export class RedisJournalStore implements JournalStore {
  readonly name = 'redis';

  constructor(private readonly redis: Redis) {}

  async put(r: JournalRecord): Promise<void> {
    // Finished records stay a week for `ferry recover --list`, open ones until they are finished.
    const multi = this.redis.multi().set(KEY(r.id), JSON.stringify(r)).sadd(INDEX, r.id);
    if (r.outcome) multi.expire(KEY(r.id), 7 * 24 * 3600);
    await multi.exec();
  }

  async list(): Promise<JournalRecord[]> {
    const ids = await this.redis.smembers(INDEX);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map(KEY));
    const out: JournalRecord[] = [];
    const stale: string[] = [];
    values.forEach((v, i) => {
      if (v === null) return void stale.push(ids[i]!);
      try {
        const r = JSON.parse(v) as unknown;
        if (isJournalRecord(r)) out.push(r);
      } catch {
        // not a record: leave it
      }
    });
    if (stale.length) await this.redis.srem(INDEX, ...stale);
    return out;
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().del(KEY(id)).srem(INDEX, id).exec();
  }
}
