import { execFileSync } from 'node:child_process';

/**
 * Why tests that start their own redis-server (src/queue/local-redis.ts: a random port on loopback,
 * no persistence) cannot run here, or null when they can. They need nothing else: no root, no lab.
 */
export function redisMissing(): string | null {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'needs redis-server on PATH (apt-get install redis-server; scripts/setup.sh installs it)';
  }
}
