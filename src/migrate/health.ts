import net from 'node:net';

/** How to tell that a restored container serves again. */
export type HealthSpec = { kind: 'http'; port: number; path: string } | { kind: 'redis'; port: number } | { kind: 'tcp'; port: number } | { kind: 'none' };

interface OciConfig {
  process?: { args?: string[]; env?: string[] };
  annotations?: Record<string, string>;
}

/**
 * From the container's config.json: the annotation `org.ferry.health` (`http:PORT:/path`,
 * `redis:PORT`, `tcp:PORT`) wins; else Ferry's workloads are recognised by their command and FERRY_PORT.
 */
export function healthSpecFromConfig(config: OciConfig): HealthSpec {
  const ann = config.annotations?.['org.ferry.health'];
  if (ann) {
    const m = /^(http|redis|tcp):(\d{1,5})(?::(\/\S*))?$/.exec(ann);
    if (m) {
      const port = Number(m[2]);
      if (port < 1 || port > 65535) return fallbackHealth(config);
      if (m[1] === 'http') return { kind: 'http', port, path: m[3] ?? '/' };
      return { kind: m[1] as 'redis' | 'tcp', port };
    }
  }
  return fallbackHealth(config);
}

function fallbackHealth(config: OciConfig): HealthSpec {
  const env = Object.fromEntries((config.process?.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const port = Number(env.FERRY_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return { kind: 'none' };
  const args = config.process?.args ?? [];
  if (args.some((a) => a.endsWith('redis-server'))) return { kind: 'redis', port };
  return { kind: 'http', port, path: '/counter' };
}

export function describeHealth(h: HealthSpec): string {
  switch (h.kind) {
    case 'http':
      return `HTTP GET :${h.port}${h.path}`;
    case 'redis':
      return `Redis PING on :${h.port}`;
    case 'tcp':
      return `TCP connect to :${h.port}`;
    case 'none':
      return 'runc state running';
  }
}

/** One attempt; true when the service answers as expected. */
export async function probeOnce(address: string, spec: HealthSpec, timeoutMs = 1000): Promise<boolean> {
  switch (spec.kind) {
    case 'http': {
      try {
        const r = await fetch(`http://${address}:${spec.port}${spec.path}`, { signal: AbortSignal.timeout(timeoutMs) });
        await r.arrayBuffer();
        return r.ok;
      } catch {
        return false;
      }
    }
    case 'redis':
      return tcpExchange(address, spec.port, 'PING\r\n', (s) => s.startsWith('+PONG'), timeoutMs);
    case 'tcp':
      return tcpExchange(address, spec.port, null, () => true, timeoutMs);
    case 'none':
      return true;
  }
}

function tcpExchange(address: string, port: number, send: string | null, ok: (reply: string) => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port });
    let buf = '';
    const done = (v: boolean) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => {
      if (send === null) done(true);
      else sock.write(send);
    });
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\n')) done(ok(buf));
    });
  });
}

/** Polls until healthy or the deadline; returns seconds waited, or null on timeout. */
export async function waitHealthy(address: string, spec: HealthSpec, timeoutS: number, intervalMs = 20): Promise<number | null> {
  const t0 = performance.now();
  const deadline = t0 + timeoutS * 1000;
  while (performance.now() < deadline) {
    if (await probeOnce(address, spec)) return (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return null;
}
