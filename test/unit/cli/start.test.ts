import { describe, expect, it } from 'vitest';
import { main, type Output } from '../../../src/cli/main.ts';

function collect(): Output & { stdout: () => string } {
  const out: string[] = [];
  return { out: (s) => out.push(s), err: () => undefined, isTTY: false, stdout: () => out.join('\n') };
}

describe('ferry worker --help', () => {
  it('says /healthz and /metrics are served only with FERRY_HEALTH_PORT, and where the other processes serve them', async () => {
    const io = collect();
    expect(await main(['worker', '--help'], io)).toBe(0);
    const help = io.stdout();
    expect(help).toContain('FERRY_HEALTH_PORT   serve /healthz and /metrics on this port. Unset (the default) the worker serves neither');
    expect(help).toContain('docker-compose.yml sets 3001');
    expect(help).toContain("bot's FERRY_HTTP_PORT");
    expect(help).toContain('FERRY_HEALTH_HOST');
  });
});
