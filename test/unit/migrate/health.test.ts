import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { describeHealth, formatHealth, healthSpecFromConfig, parseHealth, probeOnce, waitHealthy, type HealthSpec } from '../../../src/migrate/health.ts';
import { catchFerry } from '../catch-ferry.ts';

describe('healthSpecFromConfig', () => {
  it.each([
    ['http:8080:/healthz', { kind: 'http', port: 8080, path: '/healthz' }],
    ['http:80', { kind: 'http', port: 80, path: '/' }],
    ['redis:6379', { kind: 'redis', port: 6379 }],
    ['tcp:5432', { kind: 'tcp', port: 5432 }],
  ])('reads the annotation %j', (ann, want) => {
    expect(healthSpecFromConfig({ annotations: { 'org.ferry.health': ann } })).toEqual(want);
  });

  it('lets the annotation win over FERRY_PORT', () => {
    const spec = healthSpecFromConfig({ annotations: { 'org.ferry.health': 'tcp:9000' }, process: { args: ['/bin/web'], env: ['FERRY_PORT=8080'] } });
    expect(spec).toEqual({ kind: 'tcp', port: 9000 });
  });

  it('falls back to FERRY_PORT when the annotation is malformed', () => {
    const spec = healthSpecFromConfig({ annotations: { 'org.ferry.health': 'ftp:21' }, process: { args: ['/bin/web'], env: ['FERRY_PORT=8080'] } });
    expect(spec).toEqual({ kind: 'http', port: 8080, path: '/counter' });
  });

  it('recognises redis-server with FERRY_PORT as redis', () => {
    const spec = healthSpecFromConfig({ process: { args: ['/usr/bin/redis-server', '--port', '6380'], env: ['PATH=/usr/bin', 'FERRY_PORT=6380'] } });
    expect(spec).toEqual({ kind: 'redis', port: 6380 });
  });

  it('treats any other workload with FERRY_PORT as the HTTP counter', () => {
    const spec = healthSpecFromConfig({ process: { args: ['python3', '/app/web.py'], env: ['FERRY_PORT=8080', 'X=a=b'] } });
    expect(spec).toEqual({ kind: 'http', port: 8080, path: '/counter' });
  });

  it.each([
    ['no process', {}],
    ['no env', { process: { args: ['/bin/web'] } }],
    ['no FERRY_PORT', { process: { args: ['/bin/web'], env: ['PORT=8080'] } }],
    ['non-numeric FERRY_PORT', { process: { env: ['FERRY_PORT=http'] } }],
    ['zero FERRY_PORT', { process: { env: ['FERRY_PORT=0'] } }],
    ['empty FERRY_PORT', { process: { env: ['FERRY_PORT='] } }],
  ])('has no check with %s', (_what, config) => {
    expect(healthSpecFromConfig(config)).toEqual({ kind: 'none' });
  });
});

describe('describeHealth', () => {
  it.each([
    [{ kind: 'http', port: 8080, path: '/counter' }, 'HTTP GET :8080/counter'],
    [{ kind: 'redis', port: 6379 }, 'Redis PING on :6379'],
    [{ kind: 'tcp', port: 22 }, 'TCP connect to :22'],
    [{ kind: 'none' }, 'runc state running'],
  ] as [HealthSpec, string][])('describes %j', (spec, want) => {
    expect(describeHealth(spec)).toBe(want);
  });
});

const openSockets = new Map<net.Server, Set<net.Socket>>();

function listen(server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  openSockets.set(server, sockets);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** Closes a server, destroying connections left open (fetch keeps HTTP connections alive; the silent server never reads EOF). */
function close(server: net.Server): Promise<void> {
  for (const s of openSockets.get(server) ?? []) s.destroy();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('probeOnce and waitHealthy against local servers', () => {
  const httpServer = http.createServer((req, res) => {
    if (req.url === '/counter') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('42\n');
    } else {
      res.writeHead(500);
      res.end('broken\n');
    }
  });
  const pingCount = { n: 0 };
  const redisServer = net.createServer((sock) => {
    sock.on('data', (d) => {
      if (d.toString() === 'PING\r\n') {
        pingCount.n++;
        sock.write('+PONG\r\n');
      } else sock.write('-ERR unknown command\r\n');
    });
    sock.on('error', () => undefined);
  });
  const angryRedis = net.createServer((sock) => {
    sock.on('data', () => sock.write('-NOAUTH Authentication required.\r\n'));
    sock.on('error', () => undefined);
  });
  const silent = net.createServer((sock) => {
    sock.on('error', () => undefined);
  });
  let httpPort = 0;
  let redisPort = 0;
  let angryPort = 0;
  let silentPort = 0;
  let closedPort = 0;

  beforeAll(async () => {
    httpPort = await listen(httpServer);
    redisPort = await listen(redisServer);
    angryPort = await listen(angryRedis);
    silentPort = await listen(silent);
    const probe = net.createServer();
    closedPort = await listen(probe);
    await close(probe);
  });

  afterAll(async () => {
    await Promise.all([close(httpServer), close(redisServer), close(angryRedis), close(silent)]);
  });

  it('http: true on a 200 answer', async () => {
    expect(await probeOnce('127.0.0.1', { kind: 'http', port: httpPort, path: '/counter' })).toBe(true);
  });

  it('http: false on a 500 answer', async () => {
    expect(await probeOnce('127.0.0.1', { kind: 'http', port: httpPort, path: '/broken' })).toBe(false);
  });

  it('http: false on a closed port', async () => {
    expect(await probeOnce('127.0.0.1', { kind: 'http', port: closedPort, path: '/counter' })).toBe(false);
  });

  it('redis: true when PING gets +PONG', async () => {
    const before = pingCount.n;
    expect(await probeOnce('127.0.0.1', { kind: 'redis', port: redisPort })).toBe(true);
    expect(pingCount.n).toBe(before + 1);
  });

  it('redis: false on an error reply', async () => {
    expect(await probeOnce('127.0.0.1', { kind: 'redis', port: angryPort })).toBe(false);
  });

  it('redis: false on a closed port', async () => {
    expect(await probeOnce('127.0.0.1', { kind: 'redis', port: closedPort })).toBe(false);
  });

  it('redis: false when an HTTP server answers the PING', async () => {
    expect(await probeOnce('127.0.0.1', { kind: 'redis', port: httpPort })).toBe(false);
  });

  it('redis: false when the server never answers (timeout parameter)', async () => {
    expect(await probeOnce('127.0.0.1', { kind: 'redis', port: silentPort }, 200)).toBe(false);
  });

  it('tcp: true when the port accepts a connection', async () => {
    expect(await probeOnce('127.0.0.1', { kind: 'tcp', port: redisPort })).toBe(true);
  });

  it('tcp: false on a closed port', async () => {
    expect(await probeOnce('127.0.0.1', { kind: 'tcp', port: closedPort })).toBe(false);
  });

  it('none: always true', async () => {
    expect(await probeOnce('127.0.0.1', { kind: 'none' })).toBe(true);
  });

  it('waitHealthy returns the seconds waited for a healthy service', async () => {
    const waited = await waitHealthy('127.0.0.1', { kind: 'http', port: httpPort, path: '/counter' }, 5);
    expect(waited).not.toBeNull();
    expect(waited).toBeGreaterThanOrEqual(0);
  });

  it('waitHealthy returns null when the service never answers within the timeout', async () => {
    expect(await waitHealthy('127.0.0.1', { kind: 'tcp', port: closedPort }, 0.3)).toBeNull();
  });
});

describe('parseHealth', () => {
  it.each([
    ['http:8080:/healthz', { kind: 'http', port: 8080, path: '/healthz' }],
    ['http:80', { kind: 'http', port: 80, path: '/' }],
    ['tcp:5432', { kind: 'tcp', port: 5432 }],
    ['redis:6379', { kind: 'redis', port: 6379 }],
    ['none', { kind: 'none' }],
    ['exec:pg_isready -U app', { kind: 'exec', argv: ['pg_isready', '-U', 'app'], port: 0 }],
    [`exec:sh -c 'test -s /run/ready'`, { kind: 'exec', argv: ['sh', '-c', 'test -s /run/ready'], port: 0 }],
    ['exec:["redis-cli","-p","6380","ping"]', { kind: 'exec', argv: ['redis-cli', '-p', '6380', 'ping'], port: 0 }],
    ['exec:echo $HOME', { kind: 'exec', argv: ['echo', '$HOME'], port: 0 }],
  ])('reads %j', (text, want) => {
    expect(parseHealth(text)).toEqual(want);
  });

  it('gives an exec check the service port it is told', () => {
    expect(parseHealth('exec:true', 8080)).toEqual({ kind: 'exec', argv: ['true'], port: 8080 });
  });

  it.each([
    ['ftp:21', 'unknown form'],
    ['http:0:/', 'out of range'],
    ['tcp:70000', 'out of range'],
    ['tcp:80:/x', 'a path only goes with http'],
    ['exec:', 'exec needs a command'],
    ['exec:[]', 'exec needs a command'],
    ['exec:[1,2]', 'JSON array of strings'],
    ['exec:[nope', 'JSON array of strings'],
    ['exec:curl localhost | grep ok', 'not a shell line'],
    ['exec:check > /dev/null', 'not a shell line'],
    ['exec:ls *', 'not a shell line'],
    ['exec:a; rm -rf /', 'not a shell line'],
    ['', 'unknown form'],
  ])('refuses %j', (text, why) => {
    const e = catchFerry(() => parseHealth(text), ErrorCode.UsageError);
    expect(e.message).toContain(why);
  });
});

describe('formatHealth', () => {
  it.each([
    { kind: 'http', port: 8080, path: '/x?y=1' },
    { kind: 'tcp', port: 1 },
    { kind: 'redis', port: 6379 },
    { kind: 'none' },
    { kind: 'exec', argv: ['sh', '-c', `echo "it's" | grep -q it && exit 0`], port: 0 },
    { kind: 'exec', argv: ['[', '-e', '/ready', ']'], port: 0 },
  ] as HealthSpec[])('reads back %j', (spec) => {
    expect(parseHealth(formatHealth(spec))).toEqual(spec);
  });
});

describe('healthSpecFromConfig with deploy annotations', () => {
  it('an explicit none never falls back to FERRY_PORT', () => {
    const spec = healthSpecFromConfig({ annotations: { 'org.ferry.health': 'none' }, process: { args: ['/bin/web'], env: ['FERRY_PORT=8080'] } });
    expect(spec).toEqual({ kind: 'none' });
  });

  it('gives an exec check the first service port', () => {
    const spec = healthSpecFromConfig({ annotations: { 'org.ferry.health': 'exec:["true"]', 'org.ferry.ports': '8080,8443' } });
    expect(spec).toEqual({ kind: 'exec', argv: ['true'], port: 8080 });
  });

  it('an exec check without ports has port 0', () => {
    expect(healthSpecFromConfig({ annotations: { 'org.ferry.health': 'exec:true', 'org.ferry.ports': 'x' } })).toEqual({ kind: 'exec', argv: ['true'], port: 0 });
  });
});

describe('exec checks outside the host', () => {
  it('describes the command', () => {
    expect(describeHealth({ kind: 'exec', argv: ['redis-cli', 'ping'], port: 0 })).toBe('exit 0 from ["redis-cli","ping"] run in the container');
  });

  it('probeOnce refuses an exec check: it needs the container host', async () => {
    await expect(probeOnce('127.0.0.1', { kind: 'exec', argv: ['true'], port: 0 })).rejects.toMatchObject({ code: ErrorCode.HealthCheckFailed });
  });
});
