import path from 'node:path';
import { NAME_PATTERN } from '../util/names.ts';
import type { InventoryList, HostVars } from './ansible-list.ts';
import { isVaulted } from './ansible-list.ts';
import { normalizeHostKey, preferredHostKey } from './host-key.ts';
import { HOOK_NAMES, type HookName, type HookPlaybooks, type HostSpec, type HostsFile } from './inventory.ts';
import { knownHostsName, lookupHostKey, parseKnownHosts } from './known-hosts.ts';
import { expandTilde, sshHostKeyOptions } from './ssh-args.ts';

/**
 * Everything outside the inventory that decides how Ferry reaches its hosts, gathered by the
 * loader (environment, files) so that the mapping itself is a pure function.
 */
export interface InventoryContext {
  /** The inventory source as given to `ansible-inventory -i`: becomes `HostsFile.inventoryFile`, so playbooks run on the same inventory. */
  source: string;
  /** User for hosts that set no `ansible_user`: Ansible's default, see `defaultRemoteUser` in ansible-inventory.ts. */
  defaultUser: string;
  /** Home directory of the controller's user, for `~` in key and known_hosts paths. */
  home: string;
  /** Relative key paths are relative to this directory, as they are for ssh run by Ansible. */
  cwd: string;
  /** Key for hosts that name none (`ansible_ssh_private_key_file`); the loader picks it as OpenSSH would. */
  defaultIdentityFile?: string;
  /** known_hosts files searched after a host's own `UserKnownHostsFile`, in order. */
  knownHostsFiles: readonly string[];
  /** Text of every known_hosts file the loader could read, by path; a path absent here is a missing file. */
  knownHosts: ReadonlyMap<string, string>;
}

/**
 * Variables Ferry reads, the one that wins first: where Ansible has two names for a setting, the
 * `ansible_ssh_*` one wins when both are set (its ssh plugin lists it last, and the last one set
 * wins; PlayContext's MAGIC_VARIABLE_MAPPING agrees).
 */
const VARS = {
  host: ['ansible_ssh_host', 'ansible_host'],
  port: ['ansible_ssh_port', 'ansible_port'],
  user: ['ansible_ssh_user', 'ansible_user'],
  key: ['ansible_ssh_private_key_file', 'ansible_private_key_file'],
  hostKeyChecking: ['ansible_ssh_host_key_checking', 'ansible_host_key_checking'],
  connection: ['ansible_connection'],
  /** In the order Ansible's ssh plugin puts them on the command line. */
  sshArgs: ['ansible_ssh_args', 'ansible_ssh_common_args', 'ansible_ssh_extra_args'],
  environment: ['ferry_environment'],
  environmentGroups: ['ferry_environment_groups'],
  controllerAddress: ['ferry_controller_address'],
  preMigrate: ['ferry_pre_migrate'],
  postMigrate: ['ferry_post_migrate'],
  onRollback: ['ferry_on_rollback'],
} as const;

/** The variable naming each hook's playbook. */
const HOOK_VARS: Record<HookName, readonly string[]> = { pre_migrate: VARS.preMigrate, post_migrate: VARS.postMigrate, on_rollback: VARS.onRollback };

const HOST_KEY_VAR = /^ansible_ssh_host_key_[a-z0-9]+_public$/;

/** Whether Ferry reads this variable (so a vaulted value of it must be decrypted first). */
export function isFerryVariable(name: string): boolean {
  return HOST_KEY_VAR.test(name) || Object.values(VARS).some((names) => (names as readonly string[]).includes(name));
}

/** Connection types that are SSH; Ferry reaches hosts over SSH only. */
const SSH_CONNECTIONS = new Set(['ssh', 'smart', 'paramiko', 'paramiko_ssh', 'ansible.builtin.ssh', 'ansible.builtin.paramiko_ssh']);

/** Names OpenSSH tries as identities when none is configured, in its order (ssh_config(5), IdentityFile), less those ssh2 cannot use (security keys, DSA). */
export const OPENSSH_DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ed25519'] as const;

/** How Ferry would connect to one host, before its host key is looked up. */
export interface HostConnection {
  name: string;
  address: string;
  port: number;
  user: string;
  privateKeyFile: string;
  /** The host's `UserKnownHostsFile`s, then the context's files. */
  knownHostsFiles: string[];
  /** The name looked up in known_hosts: `HostKeyAlias`, else `address` or `[address]:port`. */
  lookupName: string;
  /** The inventory's own laxer host key checking, if any (`StrictHostKeyChecking=no`, `ansible_host_key_checking: false`), to say it does not apply to Ferry. */
  laxChecking?: string;
  /** A key from the `ansible_ssh_host_key_*_public` variables, preferred type first. */
  keyFromVars?: string;
  /** One of those variables is set but unreadable: then known_hosts is not consulted either (the inventory meant to pin a key). */
  keyVarsInvalid: boolean;
  /** Why the host cannot be used, in words; empty for a usable host. */
  problems: string[];
}

/** A variable's value as Ferry can use it, or the reason it cannot. */
type Read<T> = { value?: T; name?: string; problem?: string };

function readVar(vars: HostVars, names: readonly string[]): Read<unknown> {
  for (const name of names) {
    if (!(name in vars)) continue;
    const v = vars[name];
    if (isVaulted(v)) return { name, problem: `${name} is vaulted and was not decrypted (set FERRY_VAULT_PASSWORD_FILE)` };
    if (typeof v === 'string' && /\{\{|\{%/.test(v)) {
      return { name, problem: `${name} is a Jinja2 template (${JSON.stringify(v)}): Ferry reads the values ansible-inventory --list prints and does not render templates, so give it a literal value` };
    }
    return { name, value: v };
  }
  return {};
}

function readString(vars: HostVars, names: readonly string[], valid: RegExp, what: string): Read<string> {
  const r = readVar(vars, names);
  if (r.problem || r.value === undefined) return r as Read<string>;
  if (typeof r.value !== 'string' || !valid.test(r.value)) return { name: r.name, problem: `${r.name}=${JSON.stringify(r.value)} is not ${what}` };
  return { name: r.name, value: r.value };
}

const ADDRESS = /^(?!-)[A-Za-z0-9._:%-]+$/;
const USER = /^(?!-)[A-Za-z0-9._][A-Za-z0-9._-]*$/;
const PATH = /^[^\0\n]+$/;
/** A playbook path: no NUL or newline, and no leading `-` that ansible-playbook would read as an option. */
const HOOK_PATH = /^(?!-)[^\0\n]+$/;
const ENVIRONMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * The connection settings of one host from its variables, as Ansible's ssh connection would use
 * them: `ansible_host` (default: the inventory name), `ansible_port` (default 22), `ansible_user`
 * (default: the context's user), `ansible_ssh_private_key_file` (default: the context's identity),
 * and the host-key options of `ansible_ssh_args`, `ansible_ssh_common_args` and `ansible_ssh_extra_args`.
 */
export function hostConnection(name: string, vars: HostVars, ctx: InventoryContext): HostConnection {
  const problems: string[] = [];
  const take = <T>(r: Read<T>): T | undefined => {
    if (r.problem) problems.push(r.problem);
    return r.value;
  };
  if (!NAME_PATTERN.test(name)) {
    problems.push(
      `its inventory name is not a Ferry host name (lowercase letters, digits and '-', at most 31, starting with a letter): give it an alias such as 'web1 ansible_host=${name}'`,
    );
  }
  const connection = take(readString(vars, VARS.connection, /^[\w.]+$/, 'a connection plugin name'));
  if (connection !== undefined && !SSH_CONNECTIONS.has(connection)) problems.push(`ansible_connection=${connection}: Ferry reaches hosts over SSH only`);

  const address = take(readString(vars, VARS.host, ADDRESS, 'a host name or IP address')) ?? name;
  const port = take(readPort(vars)) ?? 22;
  const user = take(readString(vars, VARS.user, USER, 'a user name')) ?? ctx.defaultUser;
  const keyVar = take(readString(vars, VARS.key, PATH, 'a file name'));
  let privateKeyFile = keyVar === undefined ? ctx.defaultIdentityFile : path.resolve(ctx.cwd, expandTilde(keyVar, ctx.home));
  if (!privateKeyFile) {
    problems.push(`it names no key (ansible_ssh_private_key_file) and none of ${OPENSSH_DEFAULT_IDENTITIES.map((f) => `~/.ssh/${f}`).join(', ')} exists`);
    privateKeyFile = '';
  }

  const argStrings: string[] = [];
  for (const n of VARS.sshArgs) {
    const s = take(readString(vars, [n], /^[^\0]*$/, 'text'));
    if (s !== undefined) argStrings.push(s);
  }
  let ssh: ReturnType<typeof sshHostKeyOptions> = {};
  try {
    ssh = sshHostKeyOptions(argStrings, ctx.home);
  } catch (e) {
    problems.push(`its SSH arguments cannot be split as Ansible splits them: ${(e as Error).message}`);
  }
  const keyVars = hostKeyFromVars(vars);
  return {
    name,
    address,
    port,
    user,
    privateKeyFile,
    knownHostsFiles: [...new Set([...(ssh.userKnownHostsFiles ?? []), ...ctx.knownHostsFiles])],
    lookupName: ssh.hostKeyAlias?.toLowerCase() ?? knownHostsName(address, port),
    laxChecking: laxChecking(vars, ssh.strictHostKeyChecking),
    keyFromVars: take(keyVars),
    keyVarsInvalid: keyVars.problem !== undefined,
    problems,
  };
}

function laxChecking(vars: HostVars, strict: string | undefined): string | undefined {
  const checking = readVar(vars, VARS.hostKeyChecking).value;
  if (checking === false || (typeof checking === 'string' && /^(false|no|0|off|n|f)$/i.test(checking))) return `${VARS.hostKeyChecking.find((n) => n in vars)}=${String(checking)}`;
  return strict && strict !== 'yes' ? `StrictHostKeyChecking=${strict}` : undefined;
}

function readPort(vars: HostVars): Read<number> {
  const r = readVar(vars, VARS.port);
  if (r.problem || r.value === undefined) return r as Read<number>;
  // INI group variables arrive as strings ("2222"), host-line and YAML ones as numbers.
  const n = typeof r.value === 'string' && /^\d+$/.test(r.value) ? Number(r.value) : r.value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) return { name: r.name, problem: `${r.name}=${JSON.stringify(r.value)} is not a port (1-65535)` };
  return { name: r.name, value: n };
}

/**
 * The host key from Ansible's fact-style variables `ansible_ssh_host_key_<type>_public`, whose
 * value is the base64 blob (as gathered facts hold it) or a whole `type blob [comment]` line. The
 * type is read from the blob itself, which names it, so `ecdsa` needs no `…_keytype` companion.
 */
export function hostKeyFromVars(vars: HostVars): Read<string> {
  const keys: string[] = [];
  for (const name of Object.keys(vars).filter((k) => HOST_KEY_VAR.test(k)).sort()) {
    const r = readVar(vars, [name]);
    if (r.problem) return r as Read<string>;
    const fields = typeof r.value === 'string' ? r.value.trim().split(/\s+/) : [];
    const [declared, blob] = fields.length === 1 ? [undefined, fields[0]!] : [fields[0], fields[1] ?? ''];
    const type = blobKeyType(blob);
    if (!type || (declared !== undefined && declared !== type)) {
      return { name, problem: `${name} is not an SSH public key (expected the base64 blob of the host's /etc/ssh/ssh_host_*_key.pub, or its whole line)` };
    }
    // Types Ferry does not pin (ssh-dss, security keys) are passed over, as in known_hosts.
    const key = normalizeHostKey(type, blob);
    if (key) keys.push(key);
  }
  return { value: preferredHostKey(keys) };
}

/** The key type an SSH public key blob names in its first field (RFC 4253, 6.6), or null. */
export function blobKeyType(blob: string): string | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return null;
  const b = Buffer.from(blob, 'base64');
  if (b.length < 4) return null;
  const n = b.readUInt32BE(0);
  if (n < 1 || n > 64 || b.length < 4 + n) return null;
  const type = b.subarray(4, 4 + n).toString('latin1');
  return /^[a-z0-9@.-]+$/.test(type) ? type : null;
}

/**
 * A host's environment (which decides who may request and approve, see the policy file), first rule that applies:
 * 1. the `ferry_environment` variable (host, group or `all` variables, as Ansible merges them);
 * 2. `ferry_environment_groups` (a list, or a comma-separated string from INI): the first listed group the host is in names its environment;
 * 3. a group `env_<name>` the host is in (directly or through a parent group): `<name>`; in two such groups is an error;
 * 4. `default`.
 */
export function hostEnvironment(vars: HostVars, groups: readonly string[]): { environment: string; problem?: string } {
  const valid = (env: string, from: string) =>
    ENVIRONMENT.test(env) ? { environment: env } : { environment: 'default', problem: `${from} gives the environment ${JSON.stringify(env)}, which is not a name (letters, digits, '_', '.', '-')` };
  const direct = readVar(vars, VARS.environment);
  if (direct.problem) return { environment: 'default', problem: direct.problem };
  if (direct.value !== undefined) {
    return typeof direct.value === 'string' ? valid(direct.value, 'ferry_environment') : { environment: 'default', problem: `ferry_environment=${JSON.stringify(direct.value)} is not a name` };
  }

  const listed = readVar(vars, VARS.environmentGroups);
  if (listed.problem) return { environment: 'default', problem: listed.problem };
  if (listed.value !== undefined) {
    const names = Array.isArray(listed.value) ? listed.value : typeof listed.value === 'string' ? listed.value.split(',') : null;
    if (!names || !names.every((g) => typeof g === 'string')) {
      return { environment: 'default', problem: `ferry_environment_groups=${JSON.stringify(listed.value)} is not a list of group names` };
    }
    const hit = names.map((g) => g.trim()).find((g) => groups.includes(g));
    if (hit) return valid(hit, `group ${hit} (listed in ferry_environment_groups)`);
  }

  const envGroups = groups.filter((g) => g.startsWith('env_') && g.length > 4);
  if (envGroups.length > 1) {
    return { environment: 'default', problem: `it is in ${envGroups.length} environment groups (${envGroups.join(', ')}): set ferry_environment on it, or list the groups in order in ferry_environment_groups` };
  }
  if (envGroups.length === 1) return valid(envGroups[0]!.slice(4), `group ${envGroups[0]}`);
  return { environment: 'default' };
}

/**
 * The hook playbooks a host's variables name (`ferry_pre_migrate`, `ferry_post_migrate`,
 * `ferry_on_rollback`; usually set on an environment's group). A value Ferry cannot use makes the
 * host unusable rather than being skipped: a drain hook silently not run is worse than a refusal.
 */
export function hostHooks(vars: HostVars): { value?: HookPlaybooks; problems: string[] } {
  const value: HookPlaybooks = {};
  const problems: string[] = [];
  for (const hook of HOOK_NAMES) {
    const r = readString(vars, HOOK_VARS[hook], HOOK_PATH, 'the path of a playbook');
    if (r.problem) problems.push(r.problem);
    else if (r.value !== undefined) value[hook] = r.value;
  }
  return Object.keys(value).length ? { value, problems } : { problems };
}

/** Every known_hosts file some host would search: the loader reads these before mapping. */
export function knownHostsFilesToRead(list: InventoryList, ctx: InventoryContext): string[] {
  return [...new Set(list.hosts.flatMap((h) => hostConnection(h, list.hostvars[h]!, ctx).knownHostsFiles))];
}

/**
 * Maps `ansible-inventory --list` (vaulted values already decrypted) to Ferry's hosts file. Every
 * host is kept; a host Ferry cannot connect to safely carries `unusable` with the reasons, and
 * `hostKey: ''` when none is pinned. Pure: all I/O results come in through `ctx`.
 */
export function inventoryToHostsFile(list: InventoryList, ctx: InventoryContext): HostsFile {
  const parsed = new Map<string, ReturnType<typeof parseKnownHosts>>();
  const entriesOf = (file: string) => {
    if (!parsed.has(file)) parsed.set(file, parseKnownHosts(ctx.knownHosts.get(file) ?? ''));
    return parsed.get(file)!;
  };
  const hosts = list.hosts.map((name): HostSpec => {
    const vars = list.hostvars[name]!;
    const groups = list.groupsOf[name] ?? [];
    const conn = hostConnection(name, vars, ctx);
    const env = hostEnvironment(vars, groups);
    const hooks = hostHooks(vars);
    const problems = [...conn.problems, ...(env.problem ? [env.problem] : []), ...hooks.problems];
    const hostKey = conn.keyVarsInvalid ? undefined : (conn.keyFromVars ?? lookupHostKey(conn.knownHostsFiles.map(entriesOf), conn.lookupName));
    // Each host's own: the controller may sit on several networks (two clouds), one per host's view.
    const ctl = readString(vars, VARS.controllerAddress, ADDRESS, 'an address').value;
    if (!hostKey && !conn.keyVarsInvalid) problems.push(noHostKeyReason(conn, ctx));
    return {
      name,
      address: conn.address,
      port: conn.port,
      user: conn.user,
      privateKeyFile: conn.privateKeyFile,
      hostKey: hostKey ?? '',
      environment: env.environment,
      groups,
      ...(ctl ? { controllerAddress: ctl } : {}),
      ...(hooks.value ? { hooks: hooks.value } : {}),
      ...(problems.length ? { unusable: problems.join('; ') } : {}),
    };
  });
  const environments = [...new Set(hosts.map((h) => h.environment))];
  return {
    environment: environments.length === 0 ? 'default' : environments.length === 1 ? environments[0]! : 'mixed',
    controllerAddress: controllerAddress(list),
    knownHostsFile: ctx.knownHostsFiles[0] ?? '',
    inventoryFile: ctx.source,
    hosts,
  };
}

function noHostKeyReason(conn: HostConnection, ctx: InventoryContext): string {
  const looked = conn.knownHostsFiles.map((f) => (ctx.knownHosts.has(f) ? f : `${f} (missing)`)).join(', ');
  const lax = conn.laxChecking ? ` (its ${conn.laxChecking} does not change this for Ferry)` : '';
  return (
    `no host key is pinned for it, and Ferry never trusts a key on first use${lax}: set ansible_ssh_host_key_ed25519_public ` +
    `to the key in the host's /etc/ssh/ssh_host_ed25519_key.pub, or add a '${conn.lookupName} ssh-ed25519 …' line to a known_hosts file (searched: ${looked})`
  );
}

/** `ferry_controller_address` when every host that sets it agrees (the hold server listens there); else none. */
function controllerAddress(list: InventoryList): string | undefined {
  const values = new Set<string>();
  for (const h of list.hosts) {
    const r = readString(list.hostvars[h]!, VARS.controllerAddress, ADDRESS, 'an address');
    if (r.value) values.add(r.value);
  }
  return values.size === 1 ? [...values][0] : undefined;
}
