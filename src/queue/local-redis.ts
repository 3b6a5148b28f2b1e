import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ErrorCode, FerryError } from '../errors.ts';
import { freePort } from '../util/free-port.ts';

export interface LocalRedis {
  url: string;
  stop(): Promise<void>;
}


/**
 * A private redis-server on loopback for the console default and tests (when REDIS_URL is unset):
 * no persistence, its own directory, stopped with the process that started it.
 */
export async function startLocalRedis(opts: { port?: number } = {}): Promise<LocalRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-redis-'));
  // A given port: a restart of "the same" Redis (its data gone: no persistence).
  const port = opts.port ?? (await freePort());
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let lastErr: unknown;
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) break;
    const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined); // refused until the server listens: expected while polling
    try {
      await c.connect();
      await c.ping();
      c.disconnect();
      return {
        url,
        stop: async () => {
          proc.kill('SIGTERM');
          await exited;
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (e) {
      lastErr = e;
      c.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  proc.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
  throw new FerryError(ErrorCode.RedisUnavailable, `could not start redis-server on 127.0.0.1:${port} (is redis-server installed? scripts/setup.sh installs it): ${String(lastErr)}`);
}
