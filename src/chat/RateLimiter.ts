import type { Redis } from 'ioredis';

/** How often one person may run a command. */
export interface RateLimit {
  /** Commands one may run at once after a pause (the bucket's size). @defaultValue 5 */
  burst: number;
  /** Commands a minute, over time (the bucket's refill rate). @defaultValue 10 */
  perMinute: number;
}

export const DEFAULT_READ_LIMIT: RateLimit = Object.freeze({ burst: 5, perMinute: 10 });

/**
 * A token bucket per key, in Redis so every bot replica shares it: one token per command, refilled at
 * `perMinute`, at most `burst` saved up. Read, refill, take and write happen in one Lua script, so two
 * replicas answering the same person at once cannot both spend the last token. A clock that steps back
 * refills nothing; an idle bucket expires once it would be full again.
 */
const TAKE = `
local burst = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(s[1]) or burst
local at = tonumber(s[2]) or now
if now > at then
  tokens = math.min(burst, tokens + (now - at) * perMs)
  at = now
end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / perMs) + 1000)
return { allowed, wait }
`;

export class RedisRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limit: RateLimit = DEFAULT_READ_LIMIT,
    private readonly now: () => number = Date.now,
  ) {}

  /** Spends one token of `key`'s bucket; when none is left, says how long until one is. */
  async take(key: string): Promise<{ allowed: boolean; retryAfterMs: number }> {
    const r = (await this.redis.eval(TAKE, 1, `${this.prefix}:${key}`, this.limit.burst, this.limit.perMinute / 60_000, Math.floor(this.now()))) as [number, number];
    return { allowed: r[0] === 1, retryAfterMs: r[1] };
  }
}
