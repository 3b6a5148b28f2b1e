import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, loadConfig } from '../../../src/config.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { HoldServer } from '../../../src/traffic/HoldServer.ts';
import { holdListenAddress, type Interfaces } from '../../../src/traffic/detect.ts';
import { catchFerry } from '../catch-ferry.ts';
import { freePort } from '../../../src/util/free-port.ts';
import { redisMissing } from '../helpers/redis.ts';


/**
 * There is no Docker engine here: these tests read docker-compose.yml and the Dockerfile as data and
 * hold them to what the README promises (host networking for the worker, restart policies, secrets as
 * files, a Redis password, no root), and run the worker's hold-server address logic as it runs under
 * that network mode.
 */

interface Service {
  image?: string;
  build?: string;
  user?: string;
  restart?: string;
  network_mode?: string;
  networks?: unknown;
  ports?: string[];
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
}

const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as Compose;
const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
const { redis, bot, worker } = compose.services as { redis: Service; bot: Service; worker: Service };

/** Compose's interpolation with nothing set in the environment: `${NAME:-default}` is the default, `$$` a `$`. */
const interpolate = (s: string) => s.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').replace(/\$\$/g, '$');
const env = (s: Service) => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));

/** The USER the image's last stage runs as. */
function imageUser(): string | undefined {
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  return [...lastStage.matchAll(/^USER\s+(\S+)/gm)].at(-1)?.[1];
}

describe('docker-compose.yml', () => {
  it('has redis, bot and worker, each with a restart policy and a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['bot', 'redis', 'worker']);
    for (const [name, s] of Object.entries(compose.services)) {
      expect(['always', 'unless-stopped', 'on-failure'], `${name}'s restart policy`).toContain(s.restart);
      expect(s.healthcheck?.test, `${name}'s health check`).toBeDefined();
    }
  });

  it('runs the worker in the host\'s network, with nothing a bridge network would need', () => {
    expect(worker.network_mode).toBe('host');
    expect(worker.networks).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    // Host network: the worker reaches Redis on the loopback port Redis publishes, and only there.
    const url = new URL(env(worker).REDIS_URL!);
    expect(url.hostname).toBe('127.0.0.1');
    const published = interpolate(redis.ports![0]!);
    expect(published).toBe(`127.0.0.1:${url.port}:6379`);
    expect(env(worker).FERRY_HEALTH_HOST).toBe('127.0.0.1');
  });

  it('gives every secret as a file, never as a value', () => {
    const secretNames = /^(SLACK_BOT_TOKEN|SLACK_SIGNING_SECRET|SLACK_APP_TOKEN|REDIS_PASSWORD|FERRY_JOB_KEY)$/;
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [k, v] of Object.entries(env(s))) {
        expect(k, `${name} sets ${k} directly`).not.toMatch(secretNames);
        if (k.endsWith('_FILE') && v.startsWith('/run/secrets/')) {
          const secret = v.slice('/run/secrets/'.length);
          expect(s.secrets, `${name} mounts ${secret}`).toContain(secret);
          expect(compose.secrets[secret]?.file, `secret ${secret} comes from a file`).toMatch(/^\.\/deploy\/secrets\//);
        }
      }
      for (const v of Object.values(env(s))) expect(v).not.toMatch(/xox[bp]-|xapp-/);
    }
    expect(env(bot)).toMatchObject({ SLACK_BOT_TOKEN_FILE: '/run/secrets/slack_bot_token', SLACK_SIGNING_SECRET_FILE: '/run/secrets/slack_signing_secret' });
    expect(env(worker).FERRY_JOB_KEY_FILE).toBe('/run/secrets/job_key');
    expect(env(bot).FERRY_JOB_KEY_FILE).toBe('/run/secrets/job_key');
    expect(worker.secrets).toEqual(['redis_password', 'job_key']);
  });

  it('protects Redis with a password from the secret, which bot, worker and the health check use', () => {
    expect(redis.secrets).toContain('redis_password');
    const command = interpolate(redis.command!.join(' '));
    expect(command).toMatch(/^umask 077 && printf 'requirepass %s\\n[^']*' "\$\(cat \/run\/secrets\/redis_password\)" >\/tmp\/redis.conf && exec redis-server \/tmp\/redis.conf$/);
    expect(redis.entrypoint).toEqual(['/bin/sh', '-c']);
    expect(interpolate(redis.healthcheck!.test.join(' '))).toContain('REDISCLI_AUTH="$(cat /run/secrets/redis_password)"');
    for (const s of [bot, worker]) {
      expect(env(s).REDIS_PASSWORD_FILE).toBe('/run/secrets/redis_password');
      expect(new URL(env(s).REDIS_URL!).password, 'no password inline in REDIS_URL').toBe('');
    }
  });

  it.skipIf(redisMissing() !== null)('its Redis command and health check work with this machine\'s redis-server: the password is required', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-compose-redis-'));
    const port = await freePort();
    await writeFile(path.join(dir, 'redis_password'), 'pw-from-file\n', { mode: 0o444 });
    const proc = spawn('/bin/sh', [
      '-c',
      // The same command, with the container's paths moved into a temporary directory and its port made free.
      interpolate(redis.command!.join(' '))
        .replaceAll('/run/secrets/redis_password', path.join(dir, 'redis_password'))
        .replaceAll('/tmp/redis.conf', path.join(dir, 'redis.conf'))
        .replace('dir /data', `dir ${dir}`)
        .concat(` --port ${port} --bind 127.0.0.1 --save ''`),
    ]);
    const exited = new Promise((r) => proc.once('exit', r));
    try {
      // Redis takes a moment to listen; the client retries until it does.
      const authed = new Redis({ port, host: '127.0.0.1', password: 'pw-from-file', retryStrategy: (n) => (n > 200 ? null : 50) });
      authed.on('error', () => undefined);
      expect(await authed.ping()).toBe('PONG');
      authed.disconnect();
      const anonymous = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
      anonymous.on('error', () => undefined);
      await anonymous.connect();
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
      anonymous.disconnect();
      const health = interpolate(redis.healthcheck!.test.slice(1).join(' ')).replaceAll('/run/secrets/redis_password', path.join(dir, 'redis_password')).replace('redis-cli ping', `redis-cli -p ${port} ping`);
      expect(spawnSync('/bin/sh', ['-c', health]).status).toBe(0);
    } finally {
      proc.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs no service as root', () => {
    expect(redis.user).toBe('redis');
    expect(bot.user).toBe('node');
    expect(worker.user).toBe('node');
    expect(imageUser()).toBe('node');
    for (const s of [redis, bot, worker]) expect(s.user).not.toMatch(/^(root|0)(:|$)/);
    // The worker's writable state belongs to that user in the image, so its named volume does too.
    expect(dockerfile).toMatch(/chown -R node:node \/var\/lib\/ferry/);
    expect(dockerfile).toContain('FERRY_BENCH_DIR=/var/lib/ferry/bench');
  });

  describe('the environment it gives bot and worker', () => {
    let dir = '';
    const secretsEnv = (s: Service) =>
      Object.fromEntries(Object.entries(env(s)).map(([k, v]) => [k, v.startsWith('/run/secrets/') ? path.join(dir, v.slice('/run/secrets/'.length)) : v]));

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'ferry-compose-'));
      const values: Record<string, string> = { redis_password: 'pw-from-file\n', job_key: `${'k'.repeat(64)}\n`, slack_bot_token: 'xoxb-1-2\n', slack_signing_secret: '0123456789abcdef\n' };
      for (const [name, text] of Object.entries(values)) await writeFile(path.join(dir, name), text, { mode: 0o444 });
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('passes Ferry\'s start-up validation, the password joined to REDIS_URL', () => {
      const b = loadConfig(secretsEnv(bot));
      expect(b.redisUrl).toBe('redis://:pw-from-file@redis:6379');
      expect(b.slack).toMatchObject({ botToken: 'xoxb-1-2', signingSecret: '0123456789abcdef', port: 3000 });
      const w = loadConfig(secretsEnv(worker));
      expect(w.redisUrl).toBe('redis://:pw-from-file@127.0.0.1:6390');
      expect(w).toMatchObject({ workerHealthPort: 3001, workerHealthHost: '127.0.0.1', workerConcurrency: 2 });
      // Bot and worker sign and check jobs with the same key.
      expect(b.jobKey?.equals(Buffer.from('k'.repeat(64)))).toBe(true);
      expect(w.jobKey?.equals(b.jobKey!)).toBe(true);
    });
  });
});

describe('the hold server\'s listen address under the worker\'s network mode', () => {
  /** This machine's first non-internal IPv4 address, as a controllerAddress the hosts could dial. */
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  /** What a container on a compose bridge network sees: its own loopback and a 172.x address. */
  const bridgeContainer: Interfaces = { lo: [{ address: '127.0.0.1' }, { address: '::1' }], eth0: [{ address: '172.18.0.3' }] };

  it('compose runs the worker with network_mode host, so it sees this machine\'s own addresses', () => {
    expect(worker.network_mode).toBe('host');
  });

  it.skipIf(!external)('picks the controller address, an address of this machine, and the hold server binds it', async () => {
    const addr = holdListenAddress({ controllerAddress: external }, 'lab-1');
    expect(addr).toBe(external);
    const hold = new HoldServer();
    try {
      const bound = await hold.listen(0, addr);
      expect(bound.host).toBe(external);
      expect(bound.port).toBeGreaterThan(0);
    } finally {
      await hold.close();
    }
  });

  it('refuses, before any freeze, a controller address the worker does not have (a bridge network), saying what to do', () => {
    const e = catchFerry(() => holdListenAddress({ controllerAddress: '10.247.0.1' }, 'lab-1', bridgeContainer), ErrorCode.ConfigInvalid);
    expect(e.message).toContain('the hold server must listen on the controller address 10.247.0.1');
    expect(e.message).toContain('HAProxy on lab-1');
    expect(e.message).toContain('127.0.0.1, ::1, 172.18.0.3');
    expect(e.message).toContain('network_mode: host');
  });

  it('refuses a hosts file without a controller address', () => {
    expect(catchFerry(() => holdListenAddress({}, 'aws-1', bridgeContainer), ErrorCode.ConfigInvalid).message).toMatch(/^the hosts file has no controllerAddress/);
  });

  it('matches an IPv4-mapped IPv6 or zoned address as the same address', () => {
    expect(holdListenAddress({ controllerAddress: '10.247.0.1' }, 'lab-1', { br: [{ address: '::ffff:10.247.0.1' }] })).toBe('10.247.0.1');
    expect(holdListenAddress({ controllerAddress: 'fe80::1' }, 'lab-1', { br: [{ address: 'fe80::1%br0' }] })).toBe('fe80::1');
  });
});
