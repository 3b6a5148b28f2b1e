import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, FerryError } from './errors.ts';
import { checkSecret, redisUrlFromEnv, secretFromEnv } from './util/env-secrets.ts';

/** Repository root: playbooks/ and terraform/ are found relative to it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface FerryConfig {
  /** Controller-side lab directory: keys, Terraform state, rendered inventory. @defaultValue /var/lib/ferry-lab (FERRY_LAB_DIR) */
  labDir: string;
  /** Hosts file (JSON, the shape `ferry lab up` renders); read when no `inventory` is set. @defaultValue `<labDir>/hosts.json` (FERRY_HOSTS_FILE) */
  hostsFile: string;
  /**
   * An Ansible inventory to take the hosts from instead of `hostsFile`: a file (INI, YAML), a
   * directory, a dynamic inventory plugin's configuration or script, or a comma-separated host list,
   * resolved with `ansible-inventory --list`. (FERRY_INVENTORY; the `--inventory` flag)
   * @defaultValue none: the hosts file
   */
  inventory?: string;
  /** Vault password file for the inventory's vaulted variables, as `--vault-password-file`. (FERRY_VAULT_PASSWORD_FILE; the `--vault-password-file` flag) */
  vaultPasswordFile?: string;
  /** Bridge of the namespace lab. @defaultValue ferry0 (FERRY_LAB_BRIDGE) */
  labBridge: string;
  /** First three octets of the lab's /24. @defaultValue 10.247.0 (FERRY_LAB_SUBNET) */
  labSubnetPrefix: string;
  /** Timeout for one remote command, in seconds. @defaultValue 600 (FERRY_COMMAND_TIMEOUT_S) */
  commandTimeoutS: number;
  /** Timeout for the restored container's health check, in seconds. @defaultValue 60 (FERRY_HEALTH_TIMEOUT_S) */
  healthTimeoutS: number;
  /** Directory for benchmark output. @defaultValue .bench (FERRY_BENCH_DIR) */
  benchDir: string;
  /**
   * Redis for the queue; unset means `ferry start` runs its own on loopback. (REDIS_URL or REDIS_URL_FILE,
   * with the password of REDIS_PASSWORD or REDIS_PASSWORD_FILE put in when given)
   */
  redisUrl?: string;
  /** Migrations one worker runs at once. @defaultValue 2 (FERRY_WORKER_CONCURRENCY) */
  workerConcurrency: number;
  /** Run the provision playbook on both hosts before each migration. @defaultValue true (FERRY_PROVISION=0 turns it off) */
  provisionBeforeMigrate: boolean;
  /** Limit for one hook playbook run (pre_migrate, post_migrate, on_rollback), in seconds. @defaultValue 600 (FERRY_HOOK_TIMEOUT_S) */
  hookTimeoutS: number;
  /** Policy file (who may request and approve). Required with Slack; the console has a default. (FERRY_POLICY_FILE) */
  policyFile?: string;
  slack: {
    /** xoxb-… (SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_FILE); with none, `ferry start` opens the console chat. */
    botToken?: string;
    /** HTTP mode (SLACK_SIGNING_SECRET or SLACK_SIGNING_SECRET_FILE). */
    signingSecret?: string;
    /** Socket Mode (SLACK_APP_TOKEN or SLACK_APP_TOKEN_FILE, xapp-…). */
    appToken?: string;
    /** Web API base URL (SLACK_API_URL); for a local stand-in in tests. */
    apiUrl?: string;
    /** HTTP receiver port. @defaultValue 3000 (FERRY_HTTP_PORT) */
    port: number;
  };
  /** Port of the worker's /healthz and /metrics (FERRY_HEALTH_PORT); none when unset. */
  workerHealthPort?: number;
  /** Address the worker's /healthz and /metrics listen on (FERRY_HEALTH_HOST). @defaultValue every address */
  workerHealthHost?: string;
  /** Download and build cache (CRIU source, the qemu lab's kernel). @defaultValue /var/cache/ferry (FERRY_CACHE_DIR) */
  cacheDir: string;
  /** Memory of each qemu-lab VM, in MiB. @defaultValue 1536 (FERRY_QEMU_MEMORY_MB) */
  qemuMemoryMb: number;
  /**
   * The environment's PKI on the controller: the CA (its key never leaves here) and each host's
   * certificate and key, which provision copies to the hosts. @defaultValue `<labDir>/pki` (FERRY_PKI_DIR)
   */
  pkiDir: string;
  /** CRIU's page and lazy-pages servers over TLS with per-host certificates. @defaultValue true (FERRY_CRIU_TLS=0 turns it off) */
  criuTls: boolean;
  /** Page ports opened only to the peer, only while a migration runs (nftables on each host). @defaultValue true (FERRY_PAGE_FIREWALL=0 turns it off) */
  pageFirewall: boolean;
  /**
   * The HMAC key jobs are signed with (bot) and checked with (worker), from FERRY_JOB_KEY_FILE or
   * FERRY_JOB_KEY; at least 32 bytes. Unset, a process that runs both bot and worker uses a random
   * key of its own, and a standalone bot or worker refuses to start. @defaultValue none
   */
  jobKey?: Buffer;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): FerryConfig {
  const labDir = absolute('FERRY_LAB_DIR', env.FERRY_LAB_DIR ?? '/var/lib/ferry-lab');
  const subnet = env.FERRY_LAB_SUBNET ?? '10.247.0';
  if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(subnet) || subnet.split('.').some((o) => Number(o) > 255)) {
    throw new FerryError(ErrorCode.ConfigInvalid, `FERRY_LAB_SUBNET='${subnet}' must be three octets such as 10.247.0`);
  }
  const bridge = env.FERRY_LAB_BRIDGE ?? 'ferry0';
  if (!/^[a-z][a-z0-9]{0,14}$/.test(bridge)) {
    throw new FerryError(ErrorCode.ConfigInvalid, `FERRY_LAB_BRIDGE='${bridge}' must be a short interface name (letters and digits, 15 at most)`);
  }
  return {
    labDir,
    hostsFile: absolute('FERRY_HOSTS_FILE', env.FERRY_HOSTS_FILE ?? path.join(labDir, 'hosts.json')),
    inventory: env.FERRY_INVENTORY?.trim() ? inventorySource('FERRY_INVENTORY', env.FERRY_INVENTORY.trim()) : undefined,
    vaultPasswordFile: env.FERRY_VAULT_PASSWORD_FILE?.trim() ? absolute('FERRY_VAULT_PASSWORD_FILE', env.FERRY_VAULT_PASSWORD_FILE.trim()) : undefined,
    labBridge: bridge,
    labSubnetPrefix: subnet,
    commandTimeoutS: positiveInt('FERRY_COMMAND_TIMEOUT_S', env.FERRY_COMMAND_TIMEOUT_S, 600),
    healthTimeoutS: positiveInt('FERRY_HEALTH_TIMEOUT_S', env.FERRY_HEALTH_TIMEOUT_S, 60),
    benchDir: path.resolve(env.FERRY_BENCH_DIR ?? path.join(REPO_ROOT, '.bench')),
    redisUrl: redisUrlFromEnv(env),
    workerConcurrency: positiveInt('FERRY_WORKER_CONCURRENCY', env.FERRY_WORKER_CONCURRENCY, 2),
    provisionBeforeMigrate: env.FERRY_PROVISION !== '0',
    hookTimeoutS: positiveInt('FERRY_HOOK_TIMEOUT_S', env.FERRY_HOOK_TIMEOUT_S, 600),
    policyFile: nonEmpty(env.FERRY_POLICY_FILE),
    slack: {
      botToken: checkSecret('SLACK_BOT_TOKEN', secretFromEnv(env, 'SLACK_BOT_TOKEN'), (v) => v.startsWith('xoxb-'), "a bot token (xoxb-…, the Slack app's OAuth & Permissions page)"),
      signingSecret: checkSecret('SLACK_SIGNING_SECRET', secretFromEnv(env, 'SLACK_SIGNING_SECRET'), () => true, "the app's signing secret (Basic Information page)"),
      appToken: checkSecret('SLACK_APP_TOKEN', secretFromEnv(env, 'SLACK_APP_TOKEN'), (v) => v.startsWith('xapp-'), 'an app-level token (xapp-…, with the connections:write scope)'),
      apiUrl: nonEmpty(env.SLACK_API_URL),
      port: positiveInt('FERRY_HTTP_PORT', env.FERRY_HTTP_PORT, 3000),
    },
    workerHealthPort: env.FERRY_HEALTH_PORT ? positiveInt('FERRY_HEALTH_PORT', env.FERRY_HEALTH_PORT, 3001) : undefined,
    workerHealthHost: ipAddress('FERRY_HEALTH_HOST', env.FERRY_HEALTH_HOST),
    cacheDir: absolute('FERRY_CACHE_DIR', env.FERRY_CACHE_DIR ?? '/var/cache/ferry'),
    qemuMemoryMb: positiveInt('FERRY_QEMU_MEMORY_MB', env.FERRY_QEMU_MEMORY_MB, 1536),
    pkiDir: pkiDirOf(env),
    criuTls: onOff('FERRY_CRIU_TLS', env.FERRY_CRIU_TLS, true),
    pageFirewall: onOff('FERRY_PAGE_FIREWALL', env.FERRY_PAGE_FIREWALL, true),
    jobKey: loadJobKey(env),
  };
}

/** The controller's PKI directory, as loadConfig decides it (Ansible's runner passes it on). */
export function pkiDirOf(env: NodeJS.ProcessEnv = process.env): string {
  const labDir = absolute('FERRY_LAB_DIR', env.FERRY_LAB_DIR ?? '/var/lib/ferry-lab');
  return absolute('FERRY_PKI_DIR', env.FERRY_PKI_DIR?.trim() || path.join(labDir, 'pki'));
}

/** Shortest job key accepted: HMAC-SHA256's block of entropy. */
export const JOB_KEY_MIN_BYTES = 32;

/**
 * The job-signing key: FERRY_JOB_KEY_FILE (an absolute path; its content, trailing newline
 * removed) or FERRY_JOB_KEY (the text itself), never both; at least 32 bytes, e.g. from
 * `openssl rand -hex 32`.
 */
export function loadJobKey(env: NodeJS.ProcessEnv): Buffer | undefined {
  const file = nonEmpty(env.FERRY_JOB_KEY_FILE);
  const inline = nonEmpty(env.FERRY_JOB_KEY);
  if (file && inline) throw new FerryError(ErrorCode.ConfigInvalid, 'set FERRY_JOB_KEY_FILE or FERRY_JOB_KEY, not both');
  let key: Buffer;
  let name: string;
  if (file) {
    name = 'FERRY_JOB_KEY_FILE';
    absolute(name, file);
    try {
      key = readFileSync(file);
    } catch (e) {
      throw new FerryError(ErrorCode.ConfigInvalid, `FERRY_JOB_KEY_FILE='${file}' cannot be read: ${(e as Error).message}`);
    }
    // A file written by `echo` or an editor ends with a newline that is not part of the key.
    while (key.length && (key.at(-1) === 0x0a || key.at(-1) === 0x0d)) key = key.subarray(0, -1);
  } else if (inline) {
    name = 'FERRY_JOB_KEY';
    key = Buffer.from(inline, 'utf8');
  } else {
    return undefined;
  }
  if (key.length < JOB_KEY_MIN_BYTES) {
    throw new FerryError(ErrorCode.ConfigInvalid, `${name} holds ${key.length} bytes; a job key needs at least ${JOB_KEY_MIN_BYTES} (make one with: openssl rand -hex 32)`);
  }
  return key;
}

function onOff(name: string, raw: string | undefined, dflt: boolean): boolean {
  if (raw === undefined || raw === '') return dflt;
  if (raw === '1') return true;
  if (raw === '0') return false;
  throw new FerryError(ErrorCode.ConfigInvalid, `${name}='${raw}' must be 0 or 1`);
}

/**
 * Checks an inventory source given as `name` (the variable or flag): a comma-separated host list
 * (Ansible's `-i 'a,b,'`) is kept; a path must be absolute unless `cwd` is given to resolve it
 * against (the `--inventory` flag passes the working directory).
 */
export function inventorySource(name: string, value: string, cwd?: string): string {
  if (value === '' || value.startsWith('-') || /[\0\n]/.test(value)) {
    throw new FerryError(ErrorCode.ConfigInvalid, `${name}='${value}' must name an Ansible inventory (a file, a directory, or a comma-separated host list)`);
  }
  if (value.includes(',')) return value;
  return cwd === undefined ? absolute(name, value) : path.resolve(cwd, value);
}

function ipAddress(name: string, v: string | undefined): string | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  if (net.isIP(v.trim()) === 0) throw new FerryError(ErrorCode.ConfigInvalid, `${name}='${v}' must be an IP address (127.0.0.1 to answer only this machine)`);
  return v.trim();
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

function absolute(name: string, value: string): string {
  if (!path.isAbsolute(value)) throw new FerryError(ErrorCode.ConfigInvalid, `${name}='${value}' must be an absolute path`);
  return value;
}

function positiveInt(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new FerryError(ErrorCode.ConfigInvalid, `${name}='${raw}' must be a positive integer`);
  return n;
}
