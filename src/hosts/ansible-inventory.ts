import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, FerryError, isFerryError } from '../errors.ts';
import { runLocal } from '../util/run-local.ts';
import { OPENSSH_DEFAULT_IDENTITIES, inventoryToHostsFile, isFerryVariable, knownHostsFilesToRead, type InventoryContext } from './ansible-hosts.ts';
import { isVaulted, parseInventoryList, withDecrypted, type InventoryList } from './ansible-list.ts';
import type { HostsFile } from './inventory.ts';

/** How to read an Ansible inventory. */
export interface AnsibleInventoryOptions {
  /**
   * Vault password file, passed to `ansible-inventory` and `ansible-vault` as `--vault-password-file`
   * (a script works too, as in Ansible).
   * @defaultValue none: Ansible's own settings apply (`ANSIBLE_VAULT_PASSWORD_FILE`, ansible.cfg); an
   * inline-vaulted variable that Ferry reads then needs `ANSIBLE_VAULT_PASSWORD_FILE`
   */
  vaultPasswordFile?: string;
  /**
   * known_hosts files searched after each host's `UserKnownHostsFile` (from its SSH arguments) and
   * before `~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts`.
   * @defaultValue []
   */
  knownHostsFiles?: string[];
  /** The controller user's home: `~` in paths, `~/.ssh` for default keys and known_hosts. @defaultValue os.homedir() */
  home?: string;
  /** Limit for `ansible-inventory` (a dynamic inventory plugin may call a cloud API). @defaultValue 120000 */
  timeoutMs?: number;
}

/** Every exit status: ansible-inventory's failures are reported here with its stderr, not by runLocal. */
const ANY_EXIT = Array.from({ length: 256 }, (_, i) => i);

/**
 * Ansible's own overrides for a strict read: a source that no inventory plugin can parse is an
 * error instead of a warning followed by an empty (or partial) inventory, so a typo in
 * FERRY_INVENTORY or a broken file never silently shrinks the host list Ferry's policy relies on.
 */
const STRICT_ENV = { ANSIBLE_INVENTORY_UNPARSED_FAILED: 'True', ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: 'True', ANSIBLE_NOCOLOR: '1' };

/**
 * Reads any Ansible inventory (INI, YAML, a directory with group_vars/host_vars, a dynamic plugin or
 * script, vaulted variables) through `ansible-inventory --list`, so it resolves exactly as in
 * Ansible, and maps it to Ferry's hosts file (see inventoryToHostsFile for the rules).
 */
export async function loadAnsibleInventory(source: string, opts: AnsibleInventoryOptions = {}): Promise<HostsFile> {
  if (source === '' || source.startsWith('-')) throw new FerryError(ErrorCode.ConfigInvalid, `inventory source '${source}' must be a path or a comma-separated host list`);
  const home = opts.home ?? os.homedir();
  const list = await decryptFerryVariables(await listInventory(source, opts), source, opts);
  const ctx0: InventoryContext = {
    source,
    defaultUser: defaultRemoteUser(),
    home,
    cwd: process.cwd(),
    defaultIdentityFile: await firstExisting(OPENSSH_DEFAULT_IDENTITIES.map((f) => path.join(home, '.ssh', f))),
    knownHostsFiles: [...(opts.knownHostsFiles ?? []), path.join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'],
    knownHosts: new Map(),
  };
  const knownHosts = new Map<string, string>();
  for (const file of knownHostsFilesToRead(list, ctx0)) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) knownHosts.set(file, text);
  }
  return inventoryToHostsFile(list, { ...ctx0, knownHosts });
}

/** Runs `ansible-inventory -i SOURCE --list` and parses its JSON. */
export async function listInventory(source: string, opts: AnsibleInventoryOptions = {}): Promise<InventoryList> {
  // Ansible's own word for a missing path is "Completely failed to parse": say what is wrong instead.
  if (!source.includes(',') && !(await firstExisting([source]))) {
    throw new FerryError(ErrorCode.InventoryFailed, `no inventory at ${source}: name an inventory file, a directory, or a plugin's configuration file`, { details: { source } });
  }
  const args = ['-i', source, '--list', ...(opts.vaultPasswordFile ? ['--vault-password-file', opts.vaultPasswordFile] : [])];
  const r = await runAnsibleTool('ansible-inventory', args, opts.timeoutMs ?? 120_000);
  if (r.code !== 0) {
    throw new FerryError(ErrorCode.InventoryFailed, `ansible-inventory could not read the inventory ${source} (exit ${r.code}):\n${tail(r.stderr)}`, {
      details: { source, code: r.code },
    });
  }
  return parseInventoryList(r.stdout, source);
}

/**
 * ansible-inventory prints inline `!vault` values still encrypted; Ferry decrypts those it reads
 * (connection variables, host keys, ferry_*) with `ansible-vault`, and no other (become passwords stay sealed).
 */
async function decryptFerryVariables(list: InventoryList, source: string, opts: AnsibleInventoryOptions): Promise<InventoryList> {
  const sealed = new Map<string, string>(); // ciphertext → "variable of host", for messages
  for (const h of list.hosts) {
    for (const [k, v] of Object.entries(list.hostvars[h]!)) if (isFerryVariable(k) && isVaulted(v) && !sealed.has(v.__ansible_vault)) sealed.set(v.__ansible_vault, `${k} of ${h}`);
  }
  if (sealed.size === 0) return list;
  const passwordFile = opts.vaultPasswordFile ?? process.env.ANSIBLE_VAULT_PASSWORD_FILE;
  if (!passwordFile) {
    // Without a file ansible-vault would prompt on the controlling terminal: never do that from a bot.
    throw new FerryError(
      ErrorCode.InventoryFailed,
      `${[...sealed.values()][0]} in ${source} is vaulted${sealed.size > 1 ? ` (and ${sealed.size - 1} more value(s))` : ''}: set FERRY_VAULT_PASSWORD_FILE to the vault password file`,
    );
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-vault-'));
  try {
    const plain = new Map<string, string>();
    let i = 0;
    // Only ciphertext is written to disk; the plaintext comes back on stdout.
    for (const [ciphertext, where] of sealed) {
      const file = path.join(dir, `v${i++}`);
      await writeFile(file, `${ciphertext.trim()}\n`, { mode: 0o600 });
      const r = await runAnsibleTool('ansible-vault', ['decrypt', '--vault-password-file', passwordFile, '--output', '-', file], opts.timeoutMs ?? 120_000);
      if (r.code !== 0) throw new FerryError(ErrorCode.InventoryFailed, `ansible-vault could not decrypt ${where} in ${source} (exit ${r.code}):\n${tail(r.stderr)}`);
      plain.set(ciphertext, r.stdout);
    }
    return withDecrypted(list, plain);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runAnsibleTool(tool: string, args: string[], timeoutMs: number) {
  try {
    return await runLocal(tool, args, { env: STRICT_ENV, timeoutMs, okCodes: ANY_EXIT });
  } catch (e) {
    // Only a program that could not start has no exit status here.
    if (isFerryError(e, ErrorCode.CommandFailed)) {
      throw new FerryError(ErrorCode.InventoryFailed, `${tool} could not be run: install ansible-core (scripts/setup.sh does)`, { original: e });
    }
    throw e;
  }
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-12).join('\n') || '(nothing on stderr)';
}

/**
 * The user for hosts without `ansible_user`. Ansible passes none to ssh by default, so ssh logs in
 * as the controller's current user; `ANSIBLE_REMOTE_USER` overrides that, as in Ansible. (A
 * `remote_user` in ansible.cfg or `User` in ~/.ssh/config is not read: set ansible_user instead.)
 * Root is not assumed: then `ferry` and `ansible -m ping` would log in as different users.
 */
export function defaultRemoteUser(env: NodeJS.ProcessEnv = process.env): string {
  return env.ANSIBLE_REMOTE_USER || os.userInfo().username;
}

async function firstExisting(files: readonly string[]): Promise<string | undefined> {
  for (const f of files) {
    if (await access(f).then(() => true, () => false)) return f;
  }
  return undefined;
}
