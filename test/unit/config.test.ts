import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, inventorySource, loadConfig } from '../../src/config.ts';
import { ErrorCode } from '../../src/errors.ts';
import { catchFerry } from './catch-ferry.ts';

const invalid = (env: NodeJS.ProcessEnv) => catchFerry(() => loadConfig(env), ErrorCode.ConfigInvalid);

describe('loadConfig', () => {
  it('has defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      labDir: '/var/lib/ferry-lab',
      hostsFile: '/var/lib/ferry-lab/hosts.json',
      labBridge: 'ferry0',
      labSubnetPrefix: '10.247.0',
      commandTimeoutS: 600,
      healthTimeoutS: 60,
      benchDir: path.join(REPO_ROOT, '.bench'),
      redisUrl: undefined,
      workerConcurrency: 2,
      provisionBeforeMigrate: true,
      hookTimeoutS: 600,
      policyFile: undefined,
      slack: { botToken: undefined, signingSecret: undefined, appToken: undefined, apiUrl: undefined, port: 3000 },
      workerHealthPort: undefined,
      workerHealthHost: undefined,
      cacheDir: '/var/cache/ferry',
      qemuMemoryMb: 1536,
      pkiDir: '/var/lib/ferry-lab/pki',
      criuTls: true,
      pageFirewall: true,
      jobKey: undefined,
    });
  });

  it('finds the repository root', () => {
    expect(REPO_ROOT).toBe(path.resolve(import.meta.dirname, '..', '..'));
  });

  it('reads every variable', () => {
    const c = loadConfig({
      FERRY_LAB_DIR: '/srv/lab',
      FERRY_HOSTS_FILE: '/etc/ferry/hosts.json',
      FERRY_INVENTORY: '/etc/ansible/inventory',
      FERRY_VAULT_PASSWORD_FILE: '/etc/ferry/vault-pass',
      FERRY_LAB_BRIDGE: 'br1',
      FERRY_LAB_SUBNET: '192.168.7',
      FERRY_COMMAND_TIMEOUT_S: '30',
      FERRY_HEALTH_TIMEOUT_S: '5',
      FERRY_BENCH_DIR: '/tmp/bench',
      REDIS_URL: 'redis://r:6379',
      FERRY_WORKER_CONCURRENCY: '4',
      FERRY_PROVISION: '0',
      FERRY_HOOK_TIMEOUT_S: '90',
      FERRY_POLICY_FILE: '/etc/ferry/policy.json',
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 'sec',
      SLACK_APP_TOKEN: 'xapp-1',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
      FERRY_HTTP_PORT: '3100',
      FERRY_HEALTH_PORT: '3101',
      FERRY_HEALTH_HOST: '127.0.0.1',
      FERRY_CACHE_DIR: '/srv/cache',
      FERRY_QEMU_MEMORY_MB: '2048',
      FERRY_PKI_DIR: '/srv/pki',
      FERRY_CRIU_TLS: '0',
      FERRY_PAGE_FIREWALL: '0',
      FERRY_JOB_KEY: 'k'.repeat(32),
    });
    expect(c).toEqual({
      labDir: '/srv/lab',
      hostsFile: '/etc/ferry/hosts.json',
      inventory: '/etc/ansible/inventory',
      vaultPasswordFile: '/etc/ferry/vault-pass',
      labBridge: 'br1',
      labSubnetPrefix: '192.168.7',
      commandTimeoutS: 30,
      healthTimeoutS: 5,
      benchDir: '/tmp/bench',
      redisUrl: 'redis://r:6379',
      workerConcurrency: 4,
      provisionBeforeMigrate: false,
      hookTimeoutS: 90,
      policyFile: '/etc/ferry/policy.json',
      slack: { botToken: 'xoxb-1', signingSecret: 'sec', appToken: 'xapp-1', apiUrl: 'http://127.0.0.1:9/api/', port: 3100 },
      workerHealthPort: 3101,
      workerHealthHost: '127.0.0.1',
      cacheDir: '/srv/cache',
      qemuMemoryMb: 2048,
      pkiDir: '/srv/pki',
      criuTls: false,
      pageFirewall: false,
      jobKey: Buffer.from('k'.repeat(32)),
    });
  });

  it('reads no inventory unless FERRY_INVENTORY is set', () => {
    const c = loadConfig({ FERRY_INVENTORY: ' ', FERRY_VAULT_PASSWORD_FILE: '' });
    expect(c.inventory).toBeUndefined();
    expect(c.vaultPasswordFile).toBeUndefined();
  });

  it("keeps an inventory that is Ansible's comma-separated host list", () => {
    expect(loadConfig({ FERRY_INVENTORY: 'lab-1,lab-2,' }).inventory).toBe('lab-1,lab-2,');
  });

  it.each([
    ['FERRY_INVENTORY', 'inventory.ini', "FERRY_INVENTORY='inventory.ini' must be an absolute path"],
    ['FERRY_INVENTORY', '--list', "FERRY_INVENTORY='--list' must name an Ansible inventory"],
    ['FERRY_VAULT_PASSWORD_FILE', 'vault-pass', "FERRY_VAULT_PASSWORD_FILE='vault-pass' must be an absolute path"],
  ])('rejects %s=%s', (name, value, message) => {
    expect(invalid({ [name]: value }).message).toContain(message);
  });

  it('resolves a relative --inventory against the working directory', () => {
    expect(inventorySource('--inventory', 'inv/hosts.yml', '/srv/ops')).toBe('/srv/ops/inv/hosts.yml');
  });

  it('puts the hosts file under the lab dir by default', () => {
    expect(loadConfig({ FERRY_LAB_DIR: '/srv/lab' }).hostsFile).toBe('/srv/lab/hosts.json');
  });

  it('treats an empty timeout as the default', () => {
    expect(loadConfig({ FERRY_COMMAND_TIMEOUT_S: '' }).commandTimeoutS).toBe(600);
  });

  it('rejects a relative FERRY_LAB_DIR', () => {
    expect(invalid({ FERRY_LAB_DIR: 'lab' }).message).toBe("FERRY_LAB_DIR='lab' must be an absolute path");
  });

  it('rejects a relative FERRY_HOSTS_FILE', () => {
    expect(invalid({ FERRY_HOSTS_FILE: './hosts.json' }).message).toContain('FERRY_HOSTS_FILE');
  });

  it.each(['10.1', '300.1.1', '10.247.0.0', '10.247.x', '', '10.256.0'])('rejects FERRY_LAB_SUBNET=%j', (subnet) => {
    expect(invalid({ FERRY_LAB_SUBNET: subnet }).message).toContain(`FERRY_LAB_SUBNET='${subnet}'`);
  });

  it('accepts the edge subnet 255.255.255', () => {
    expect(loadConfig({ FERRY_LAB_SUBNET: '255.255.255' }).labSubnetPrefix).toBe('255.255.255');
  });

  it.each(['Ferry0', '0br', 'br-0', 'br;rm', 'a'.repeat(16), ''])('rejects FERRY_LAB_BRIDGE=%j', (bridge) => {
    expect(invalid({ FERRY_LAB_BRIDGE: bridge }).message).toContain('FERRY_LAB_BRIDGE');
  });

  it('accepts a 15-character bridge name', () => {
    expect(loadConfig({ FERRY_LAB_BRIDGE: 'a'.repeat(15) }).labBridge).toBe('a'.repeat(15));
  });

  it.each(['1.5', '0', '-3', 'ten', 'abc1'])('rejects FERRY_COMMAND_TIMEOUT_S=%j', (v) => {
    expect(invalid({ FERRY_COMMAND_TIMEOUT_S: v }).message).toBe(`FERRY_COMMAND_TIMEOUT_S='${v}' must be a positive integer`);
  });

  it('rejects a FERRY_HEALTH_HOST that is not an IP address', () => {
    expect(invalid({ FERRY_HEALTH_HOST: 'localhost; rm' }).message).toContain("FERRY_HEALTH_HOST='localhost; rm' must be an IP address");
  });

  it('rejects a non-integer FERRY_HEALTH_TIMEOUT_S', () => {
    expect(invalid({ FERRY_HEALTH_TIMEOUT_S: '2.5' }).message).toContain('FERRY_HEALTH_TIMEOUT_S');
  });

  it('puts the PKI under the lab dir by default', () => {
    expect(loadConfig({ FERRY_LAB_DIR: '/srv/lab' }).pkiDir).toBe('/srv/lab/pki');
    expect(invalid({ FERRY_PKI_DIR: 'pki' }).message).toContain("FERRY_PKI_DIR='pki' must be an absolute path");
  });

  it.each(['FERRY_CRIU_TLS', 'FERRY_PAGE_FIREWALL'])('takes only 0 or 1 for %s', (name) => {
    expect(invalid({ [name]: 'no' }).message).toBe(`${name}='no' must be 0 or 1`);
    expect(loadConfig({ [name]: '1' })).toMatchObject(name === 'FERRY_CRIU_TLS' ? { criuTls: true } : { pageFirewall: true });
  });
});

describe('the job key', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-config-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a key file without its trailing newline', async () => {
    const file = path.join(dir, 'job.key');
    await writeFile(file, `${'a1'.repeat(32)}\n`);
    expect(loadConfig({ FERRY_JOB_KEY_FILE: file }).jobKey).toEqual(Buffer.from('a1'.repeat(32)));
  });

  it('refuses a short key, naming the variable and how to make one', async () => {
    const file = path.join(dir, 'short.key');
    await writeFile(file, 'secret\n');
    expect(invalid({ FERRY_JOB_KEY_FILE: file }).message).toBe('FERRY_JOB_KEY_FILE holds 6 bytes; a job key needs at least 32 (make one with: openssl rand -hex 32)');
    expect(invalid({ FERRY_JOB_KEY: 'x'.repeat(31) }).message).toContain('FERRY_JOB_KEY holds 31 bytes');
  });

  it('refuses both at once, a relative path and a missing file', () => {
    expect(invalid({ FERRY_JOB_KEY: 'k'.repeat(32), FERRY_JOB_KEY_FILE: '/x' }).message).toBe('set FERRY_JOB_KEY_FILE or FERRY_JOB_KEY, not both');
    expect(invalid({ FERRY_JOB_KEY_FILE: 'job.key' }).message).toContain('must be an absolute path');
    expect(invalid({ FERRY_JOB_KEY_FILE: path.join(dir, 'missing') }).message).toMatch(/cannot be read: ENOENT/);
  });
});

describe('secrets from files (SLACK_*_FILE, REDIS_URL_FILE, REDIS_PASSWORD_FILE)', () => {
  let dir = '';
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ferry-secrets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads each Slack secret from its file, without the trailing newline', () => {
    const c = loadConfig({
      SLACK_BOT_TOKEN_FILE: file('bot', 'xoxb-from-file\n'),
      SLACK_SIGNING_SECRET_FILE: file('signing', 'abc123\r\n'),
      SLACK_APP_TOKEN_FILE: file('app', 'xapp-from-file'),
    });
    expect(c.slack).toMatchObject({ botToken: 'xoxb-from-file', signingSecret: 'abc123', appToken: 'xapp-from-file' });
  });

  it('puts the password of REDIS_PASSWORD_FILE into REDIS_URL, encoded', () => {
    expect(loadConfig({ REDIS_URL: 'redis://redis:6379/0', REDIS_PASSWORD_FILE: file('redis', 'p@ss/word:1\n') }).redisUrl).toBe('redis://:p%40ss%2Fword%3A1@redis:6379/0');
    expect(loadConfig({ REDIS_URL_FILE: file('url', 'rediss://ferry:s3cret@redis.example:6380\n') }).redisUrl).toBe('rediss://ferry:s3cret@redis.example:6380');
  });

  it.each<[string, () => NodeJS.ProcessEnv, string]>([
    ['both the variable and its file', () => ({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_BOT_TOKEN_FILE: file('b1', 'xoxb-2') }), 'both SLACK_BOT_TOKEN and SLACK_BOT_TOKEN_FILE are set'],
    ['a relative file', () => ({ SLACK_APP_TOKEN_FILE: 'secrets/app' }), "SLACK_APP_TOKEN_FILE='secrets/app' must be an absolute path"],
    ['a missing file', () => ({ SLACK_SIGNING_SECRET_FILE: path.join(dir, 'nope') }), '/nope: ENOENT: no such file or directory'],
    ['an empty file', () => ({ REDIS_PASSWORD_FILE: file('empty', '\n'), REDIS_URL: 'redis://r' }), 'is empty: put the secret in it'],
    ['a bot token of the wrong kind', () => ({ SLACK_BOT_TOKEN_FILE: file('b3', 'xoxp-user-token') }), 'SLACK_BOT_TOKEN (or SLACK_BOT_TOKEN_FILE) must be a bot token (xoxb-…'],
    ['an app token with a line break inside', () => ({ SLACK_APP_TOKEN: 'xapp-1\nxapp-2' }), 'SLACK_APP_TOKEN (or SLACK_APP_TOKEN_FILE) must be an app-level token'],
    ['a password without a URL', () => ({ REDIS_PASSWORD: 'x' }), 'REDIS_PASSWORD (or REDIS_PASSWORD_FILE) is set but REDIS_URL is not'],
    ['two passwords', () => ({ REDIS_URL: 'redis://:a@r:6379', REDIS_PASSWORD_FILE: file('p2', 'b') }), 'REDIS_URL already carries a password'],
    ['a URL that is not Redis', () => ({ REDIS_URL: 'http://r:6379' }), 'REDIS_URL must start with redis:// or rediss:// (got http://)'],
    ['a URL that is no URL', () => ({ REDIS_URL: 'redis host with secret' }), 'REDIS_URL must be a URL'],
  ])('refuses %s, naming the variable', (_what, env, message) => {
    expect(invalid(env()).message).toContain(message);
  });

  it('never shows a secret in a message', () => {
    const m = invalid({ SLACK_BOT_TOKEN_FILE: file('b4', 'xoxp-very-secret-value') }).message;
    expect(m).not.toContain('very-secret');
    expect(invalid({ REDIS_URL: 'nope://:hunter2@r' }).message).not.toContain('hunter2');
  });
});
