import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, FerryError } from '../../../src/errors.ts';
import { loadAnsibleInventory, listInventory } from '../../../src/hosts/ansible-inventory.ts';
import { pickFromGroup } from '../../../src/app/group-target.ts';
import { findHost, type HostSpec, type HostsFile } from '../../../src/hosts/inventory.ts';
import { loadHosts } from '../../../src/hosts/load-hosts.ts';
import type { HostCapabilities } from '../../../src/hosts/probe.ts';
import { RemoteHost } from '../../../src/hosts/RemoteHost.ts';
import { expandTilde } from '../../../src/hosts/ssh-args.ts';
import { renderInventory, renderKnownHosts } from '../../../src/infra/inventory.ts';
import { runLocal } from '../../../src/util/run-local.ts';
import { catchFerry } from '../catch-ferry.ts';
import { ansibleHostViews, toolsMissing } from '../helpers/ansible.ts';

/**
 * Real Ansible, no lab: two inventories (INI with group_vars/host_vars, and a YAML directory) of
 * the same four hosts, with a vaulted variable and a known_hosts file holding a hashed entry and a
 * [host]:port entry written by OpenSSH's own ssh-keygen. Nothing connects to the hosts' addresses
 * (`ansible -m debug` runs on the controller), so they are documentation addresses.
 */
const skip = toolsMissing(['ansible-inventory', 'ansible-vault', 'ansible', 'ssh-keygen']);
if (skip) console.warn(`SKIPPED Ansible inventory tests: ${skip}`);

const GROUP_VARS_ALL = (knownHosts: string) => `ansible_user: deploy
ansible_ssh_common_args: "-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes"
ferry_environment_groups: [cloud_a]
`;

const INI = `cache-1 ansible_host=192.0.2.14

[web]
web-1 ansible_host=192.0.2.11 ansible_port=2222 ferry_environment=staging
web-2 ansible_host=192.0.2.12

[db]
db-1 ansible_host=192.0.2.13

[cloud_a]
web-2

[env_prod:children]
db
`;

const YAML = `all:
  hosts:
    cache-1:
      ansible_host: 192.0.2.14
  children:
    web:
      hosts:
        web-1:
        web-2:
          ansible_host: 192.0.2.12
    db:
      hosts:
        db-1:
          ansible_host: 192.0.2.13
    cloud_a:
      hosts:
        web-2:
    env_prod:
      children:
        db:
`;

describe.skipIf(!!skip)(`Ansible inventories through ansible-inventory${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir = '';
  let home = '';
  let ini = '';
  let yamlDir = '';
  let vaultPass = '';
  let knownHosts = '';
  const hostKey: Record<string, string> = {};
  // Read once: each read runs ansible-inventory and ansible-vault (a second or more each).
  let fromIni: HostsFile;
  let fromYaml: HostsFile;

  const run = (file: string, args: string[]) => runLocal(file, args, { env: { ANSIBLE_NOCOLOR: '1' } });
  const load = (source: string, vaultPasswordFile = vaultPass) => loadAnsibleInventory(source, { vaultPasswordFile, home });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-ansible-inv-'));
    home = path.join(dir, 'home');
    await mkdir(path.join(home, '.ssh'), { recursive: true });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'controller', '-f', path.join(home, '.ssh', 'id_ed25519')]);
    for (const h of ['web-1', 'web-2', 'db-1']) {
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', h, '-f', path.join(dir, `${h}_host_key`)]);
      hostKey[h] = (await readFile(path.join(dir, `${h}_host_key.pub`), 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    }
    // web-2 (port 22) is hashed by OpenSSH itself; web-1 stays a plain [host]:port line.
    const hashed = path.join(dir, 'hashed_hosts');
    await writeFile(hashed, `192.0.2.12 ${hostKey['web-2']}\n`);
    await run('ssh-keygen', ['-H', '-f', hashed]);
    knownHosts = path.join(dir, 'known_hosts');
    await writeFile(knownHosts, `# fleet\n[192.0.2.11]:2222 ${hostKey['web-1']}\n${await readFile(hashed, 'utf8')}`);
    expect(await readFile(knownHosts, 'utf8')).toMatch(/^\|1\|/m);

    vaultPass = path.join(dir, 'vault-pass');
    await writeFile(vaultPass, 'correct horse battery staple\n', { mode: 0o600 });
    const vaulted = (await run('ansible-vault', ['encrypt_string', '--vault-password-file', vaultPass, '--name', 'ansible_user', 'dbadmin'])).stdout;
    expect(vaulted).toContain('!vault');

    // db-1's key comes from the fact-style variable (the bare blob, as gathered facts hold it); cache-1 has none anywhere.
    const blob = hostKey['db-1']!.split(' ')[1];
    const vars = {
      'group_vars/all.yml': GROUP_VARS_ALL(knownHosts),
      'group_vars/db.yml': `${vaulted}\n`,
      'host_vars/db-1.yml': `ansible_ssh_host_key_ed25519_public: ${blob}\nansible_ssh_private_key_file: ~/.ssh/db_key\n`,
    };
    const iniDir = path.join(dir, 'ini');
    yamlDir = path.join(dir, 'yaml');
    for (const [root, extra] of [
      [iniDir, { 'hosts.ini': INI }],
      [yamlDir, { 'hosts.yml': YAML, 'host_vars/web-1.yml': 'ansible_host: 192.0.2.11\nansible_port: 2222\nferry_environment: staging\n' }],
    ] as const) {
      for (const [file, text] of Object.entries({ ...vars, ...extra })) {
        await mkdir(path.dirname(path.join(root, file)), { recursive: true });
        await writeFile(path.join(root, file), text);
      }
    }
    ini = path.join(iniDir, 'hosts.ini');
    [fromIni, fromYaml] = await Promise.all([load(ini), load(yamlDir)]);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads the INI inventory and the YAML directory as the same hosts, groups, environments and keys', async () => {
    const [a, b] = [fromIni, fromYaml];
    expect({ ...a, inventoryFile: '' }).toEqual({ ...b, inventoryFile: '' });
    expect(a.inventoryFile).toBe(ini);
    expect(b.inventoryFile).toBe(yamlDir);
    const byName = Object.fromEntries(a.hosts.map((h) => [h.name, h]));
    const key = path.join(home, '.ssh', 'id_ed25519');
    expect(byName['web-1']).toEqual({ name: 'web-1', address: '192.0.2.11', port: 2222, user: 'deploy', privateKeyFile: key, hostKey: hostKey['web-1'], environment: 'staging', groups: ['web'] });
    expect(byName['web-2']).toEqual({ name: 'web-2', address: '192.0.2.12', port: 22, user: 'deploy', privateKeyFile: key, hostKey: hostKey['web-2'], environment: 'cloud_a', groups: ['cloud_a', 'web'] });
    expect(byName['db-1']).toEqual({
      name: 'db-1',
      address: '192.0.2.13',
      port: 22,
      user: 'dbadmin',
      privateKeyFile: path.join(home, '.ssh', 'db_key'),
      hostKey: hostKey['db-1'],
      environment: 'prod',
      groups: ['db', 'env_prod'],
    });
    expect(a.environment).toBe('mixed');
  });

  it.each(['ini', 'yaml'])('resolves the %s inventory to the hosts and connection settings Ansible itself uses', async (which) => {
    const [source, ours] = which === 'ini' ? [ini, fromIni] : [yamlDir, fromYaml];
    // The hosts: exactly those of ansible-inventory --list.
    const listed = await listInventory(source, { vaultPasswordFile: vaultPass });
    expect(ours.hosts.map((h) => h.name).sort()).toEqual(Object.keys(listed.hostvars).sort());
    // The settings: as Ansible renders them for a task (vault decrypted, group and host vars merged), on the controller.
    const ansible = await ansibleHostViews(source, { vaultPasswordFile: vaultPass });
    expect(Object.keys(ansible).sort()).toEqual(ours.hosts.map((h) => h.name).sort());
    for (const h of ours.hosts) {
      const want = ansible[h.name]!;
      expect({ name: h.name, address: h.address, port: h.port, user: h.user, groups: h.groups }).toEqual({ name: h.name, address: want.address, port: want.port, user: want.user, groups: want.groups });
      expect(h.privateKeyFile).toBe(want.key ? expandTilde(want.key, home) : path.join(home, '.ssh', 'id_ed25519'));
    }
  });

  it('keeps a host with no pinned key, says why, and refuses to connect to it', async () => {
    const cache = findHost(fromIni, 'cache-1');
    expect(cache.hostKey).toBe('');
    expect(cache.environment).toBe('default');
    expect(cache.groups).toEqual(['ungrouped']);
    expect(cache.unusable).toBe(
      "no host key is pinned for it, and Ferry never trusts a key on first use: set ansible_ssh_host_key_ed25519_public to the key in the host's /etc/ssh/ssh_host_ed25519_key.pub, " +
        `or add a '192.0.2.14 ssh-ed25519 …' line to a known_hosts file (searched: ${knownHosts}, ${home}/.ssh/known_hosts (missing), /etc/ssh/ssh_known_hosts${await exists('/etc/ssh/ssh_known_hosts') ? '' : ' (missing)'})`,
    );
    const err = await failure(new RemoteHost(cache).connect());
    expect(err.code).toBe(ErrorCode.HostUnusable);
    expect(err.message).toBe(`refusing to connect to cache-1 (192.0.2.14:22): ${cache.unusable}`);
  });

  it('refuses an unknown host name with the closest names of the inventory', async () => {
    const f = fromYaml;
    expect(catchFerry(() => findHost(f, 'web-3'), ErrorCode.UnknownHost).message).toBe("unknown host 'web-3': did you mean web-1 or web-2?");
    expect(catchFerry(() => findHost(f, 'db1'), ErrorCode.UnknownHost).message).toBe("unknown host 'db1': did you mean db-1?");
  });

  it("picks from a group of the inventory (parents included, as in Ansible's group_names)", async () => {
    const f = fromYaml;
    const caps = (host: string, softDirty: boolean): HostCapabilities => ({ host, kernel: '6.1', criuVersion: '4.2.1', runcVersion: '1.1.5', softDirty, uffd: true, uffdNoncoop: true });
    const pick = pickFromGroup(
      f,
      'env_prod',
      [{ host: 'db-1', capabilities: caps('db-1', true), freeMemoryBytes: 2 ** 31, containers: 1 }],
      { source: caps('web-1', true), method: 'auto' },
    );
    expect(pick).toMatchObject({ host: 'db-1', reason: 'db-1 from group env_prod: the only member that can take it (2.0 GiB free, 1 container).' });
  });

  it('needs the vault password for a vaulted variable Ferry reads, and says which', async () => {
    const saved = process.env.ANSIBLE_VAULT_PASSWORD_FILE;
    delete process.env.ANSIBLE_VAULT_PASSWORD_FILE;
    try {
      const e = await failure(loadAnsibleInventory(yamlDir, { home }));
      expect(e).toMatchObject({ code: ErrorCode.InventoryFailed, message: `ansible_user of db-1 in ${yamlDir} is vaulted: set FERRY_VAULT_PASSWORD_FILE to the vault password file` });
    } finally {
      if (saved !== undefined) process.env.ANSIBLE_VAULT_PASSWORD_FILE = saved;
    }
    const wrong = path.join(dir, 'wrong-pass');
    await writeFile(wrong, 'not the password\n');
    const e = await failure(load(yamlDir, wrong));
    expect(e.code).toBe(ErrorCode.InventoryFailed);
    expect(e.message).toMatch(new RegExp(`^ansible-vault could not decrypt ansible_user of db-1 in ${yamlDir} \\(exit 1\\):\\n[^]*Decryption failed`));
  });

  it("reads FERRY_INVENTORY's inventory through loadHosts, and hosts.json without it", async () => {
    const f = await loadHosts({ inventory: ini, vaultPasswordFile: vaultPass, hostsFile: '/nonexistent/hosts.json' });
    expect(f.hosts.map((h) => h.name)).toContain('db-1');
    const e = await failure(loadHosts({ hostsFile: path.join(dir, 'no-hosts.json') }));
    expect(e.code).toBe(ErrorCode.LabNotUp);
  });

  it("quotes ansible-inventory's error for an inventory it cannot parse", async () => {
    const bad = path.join(dir, 'bad.ini');
    await writeFile(bad, '[web\nweb-1 ansible_host=\n');
    const e = await failure(loadAnsibleInventory(bad, { home }));
    expect(e.code).toBe(ErrorCode.InventoryFailed);
    expect(e.message).toMatch(new RegExp(`^ansible-inventory could not read the inventory ${bad} \\(exit 1\\):\\n[^]*Failed to parse ${bad}[^]*Completely failed to parse inventory source ${bad}`));
  });

  it('fails on one broken file in an inventory directory instead of reading the rest (stricter than Ansible, which warns)', async () => {
    await writeFile(path.join(yamlDir, 'broken.yml'), 'all: [\n');
    try {
      const e = await failure(load(yamlDir));
      expect(e.code).toBe(ErrorCode.InventoryFailed);
      expect(e.message).toContain('broken.yml');
    } finally {
      await rm(path.join(yamlDir, 'broken.yml'));
    }
  });

  it("reads the inventory Ferry's own lab renders as the hosts of its hosts.json", async () => {
    const labDir = path.join(dir, 'lab');
    await mkdir(labDir);
    const specs: HostSpec[] = ['web-1', 'web-2'].map((name, i) => ({
      name: name.replace('web', 'lab'),
      address: `192.0.2.${21 + i}`,
      port: i === 0 ? 22 : 2222,
      user: 'root',
      privateKeyFile: path.join(labDir, 'id_ed25519'),
      hostKey: hostKey[name]!,
      environment: 'local',
    }));
    const kh = path.join(labDir, 'known_hosts');
    await writeFile(kh, renderKnownHosts(specs));
    await writeFile(path.join(labDir, 'inventory.ini'), renderInventory(specs, kh));
    const f = await loadAnsibleInventory(path.join(labDir, 'inventory.ini'), { home });
    expect(f.hosts).toEqual(specs.map((h) => ({ ...h, groups: ['ferry'] })));
    expect(f.environment).toBe('local');
  });

  it('says so when the inventory does not exist', async () => {
    const e = await failure(load(path.join(dir, 'nope')));
    expect(e).toMatchObject({ code: ErrorCode.InventoryFailed, message: `no inventory at ${path.join(dir, 'nope')}: name an inventory file, a directory, or a plugin's configuration file` });
  });
});

/** The FerryError a promise rejects with (the test fails if it resolves or rejects with anything else). */
async function failure(p: Promise<unknown>): Promise<FerryError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(FerryError);
  return e as FerryError;
}

async function exists(f: string): Promise<boolean> {
  return readFile(f).then(
    () => true,
    () => false,
  );
}
