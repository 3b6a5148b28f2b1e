import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, FerryError } from '../../../src/errors.ts';
import { loadAnsibleInventory } from '../../../src/hosts/ansible-inventory.ts';
import type { HostsFile } from '../../../src/hosts/inventory.ts';
import { runLocal } from '../../../src/util/run-local.ts';
import { ansibleHostViews, toolsMissing } from '../helpers/ansible.ts';

/**
 * Real Ansible, no lab: the dynamic sources the README promises work because Ferry reads every
 * inventory through `ansible-inventory --list`: an executable inventory script (Ansible's script
 * plugin) and the `constructed` plugin over a static source. Nothing connects to the hosts
 * (documentation addresses).
 */
const skip = toolsMissing(['ansible-inventory', 'ansible']);
if (skip) console.warn(`SKIPPED dynamic inventory tests: ${skip}`);

const BLOB = 'AAAAC3NzaC1lZDI1NTE5AAAAIHk7p2v5b0rV4cY6o0D8yq5Qm9Yb3L2e1c0fTt5UuJbK';

/** What a cloud's inventory script prints for `--list`: groups with their variables, and every host's own in `_meta.hostvars`, so Ansible never asks `--host`. */
const SCRIPT_LIST = {
  web: { hosts: ['web-1', 'web-2'], vars: { ansible_user: 'deploy' } },
  db: { hosts: ['db-1'], vars: { ansible_user: 'dbadmin' } },
  cloud_a: { hosts: ['web-2'] },
  env_prod: { children: ['db'] },
  all: { hosts: ['cache-1'], vars: { ferry_environment_groups: ['cloud_a'], ansible_ssh_host_key_ed25519_public: BLOB } },
  _meta: {
    hostvars: {
      'web-1': { ansible_host: '192.0.2.11', ansible_port: 2222, ferry_environment: 'staging' },
      'web-2': { ansible_host: '192.0.2.12' },
      'db-1': { ansible_host: '192.0.2.13' },
      'cache-1': { ansible_host: '192.0.2.14', ansible_user: 'ops' },
    },
  },
};

const script = (list: unknown) => `#!/bin/sh
# An Ansible inventory script: --list prints the inventory as JSON, --host HOST one host's variables.
case "$1" in
  --list) cat <<'EOF'
${JSON.stringify(list, null, 2)}
EOF
  ;;
  --host) echo '{}' ;;
  *) echo "usage: $0 --list | --host HOST" >&2; exit 2 ;;
esac
`;

/** A static source, then the constructed plugin over it (a directory's files are read in name order). */
const STATIC = `all:
  hosts:
    web-1: { ansible_host: 192.0.2.11, site: a, tier: prod, ssh_port_offset: 22 }
    web-2: { ansible_host: 192.0.2.12, site: b, tier: prod }
    cache-1: { ansible_host: 192.0.2.14, site: a, tier: dev }
  vars:
    ansible_user: deploy
    ansible_ssh_host_key_ed25519_public: ${BLOB}
`;
const CONSTRUCTED = `plugin: ansible.builtin.constructed
strict: true
compose:
  ansible_port: 2200 + (ssh_port_offset | default(0) | int)
groups:
  env_prod: tier == 'prod'
keyed_groups:
  - key: site
    prefix: site
`;

describe.skipIf(!!skip)(`dynamic inventories through ansible-inventory${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir = '';
  let home = '';
  let key = '';
  let scriptFile = '';
  let constructedDir = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-dynamic-inv-'));
    home = path.join(dir, 'home');
    await mkdir(path.join(home, '.ssh'), { recursive: true });
    key = path.join(home, '.ssh', 'id_ed25519');
    await writeFile(key, '', { mode: 0o600 }); // only its existence is looked at: OpenSSH's default identity
    scriptFile = path.join(dir, 'fleet.sh');
    await writeFile(scriptFile, script(SCRIPT_LIST));
    await chmod(scriptFile, 0o755);
    constructedDir = path.join(dir, 'constructed');
    await mkdir(constructedDir);
    await writeFile(path.join(constructedDir, '01-fleet.yml'), STATIC);
    await writeFile(path.join(constructedDir, '02-constructed.yml'), CONSTRUCTED);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads an executable inventory script (JSON with _meta.hostvars) as the hosts, groups and connection settings Ansible resolves', async () => {
    const ours = await loadAnsibleInventory(scriptFile, { home });
    await expectAsAnsible(scriptFile, ours);
    const hostKey = `ssh-ed25519 ${BLOB}`;
    expect([...ours.hosts].sort(byName)).toEqual([
      { name: 'web-1', address: '192.0.2.11', port: 2222, user: 'deploy', privateKeyFile: key, hostKey, environment: 'staging', groups: ['web'] },
      { name: 'web-2', address: '192.0.2.12', port: 22, user: 'deploy', privateKeyFile: key, hostKey, environment: 'cloud_a', groups: ['cloud_a', 'web'] },
      { name: 'db-1', address: '192.0.2.13', port: 22, user: 'dbadmin', privateKeyFile: key, hostKey, environment: 'prod', groups: ['db', 'env_prod'] },
      { name: 'cache-1', address: '192.0.2.14', port: 22, user: 'ops', privateKeyFile: key, hostKey, environment: 'default', groups: ['ungrouped'] },
    ].sort(byName));
  });

  it('reads the constructed plugin over a static source: its composed variables and its groups, as Ansible resolves them', async () => {
    const ours = await loadAnsibleInventory(constructedDir, { home });
    await expectAsAnsible(constructedDir, ours);
    const byName = Object.fromEntries(ours.hosts.map((h) => [h.name, h]));
    // ansible_port composed by a Jinja2 expression (ansible-inventory prints it rendered, as a string); env_prod and site_* constructed.
    expect(byName['web-1']).toMatchObject({ port: 2222, environment: 'prod', groups: ['env_prod', 'site_a'] });
    expect(byName['web-2']).toMatchObject({ port: 2200, environment: 'prod', groups: ['env_prod', 'site_b'] });
    expect(byName['cache-1']).toMatchObject({ port: 2200, environment: 'default', groups: ['site_a'] });
    expect(ours.hosts.every((h) => h.unusable === undefined)).toBe(true);
  });

  it('fails when the inventory script fails, quoting it, instead of reading no hosts', async () => {
    const broken = path.join(dir, 'broken.sh');
    await writeFile(broken, '#!/bin/sh\necho "cloud API: 503 Service Unavailable" >&2\nexit 1\n');
    await chmod(broken, 0o755);
    const e = await loadAnsibleInventory(broken, { home }).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(FerryError);
    expect((e as FerryError).code).toBe(ErrorCode.InventoryFailed);
    expect((e as FerryError).message).toMatch(new RegExp(`^ansible-inventory could not read the inventory ${broken} \\(exit 1\\):\\n[^]*503 Service Unavailable`));
  });
});

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

/**
 * Ferry's hosts are exactly those of `ansible-inventory --list`, with its address, port and user,
 * and each host's groups and rendered settings are those Ansible gives a task (`group_names`).
 */
async function expectAsAnsible(source: string, ours: HostsFile): Promise<void> {
  const listed = JSON.parse((await runLocal('ansible-inventory', ['-i', source, '--list'], { env: { ANSIBLE_NOCOLOR: '1' } })).stdout) as { _meta: { hostvars: Record<string, Record<string, unknown>> } };
  const hostvars = listed._meta.hostvars;
  expect(ours.hosts.map((h) => h.name).sort()).toEqual(Object.keys(hostvars).sort());
  const ansible = await ansibleHostViews(source);
  expect(Object.keys(ansible).sort()).toEqual(Object.keys(hostvars).sort());
  for (const h of ours.hosts) {
    const v = hostvars[h.name]!;
    const got = { address: h.address, port: h.port, user: h.user, groups: h.groups };
    expect(got).toEqual({ address: v.ansible_host ?? h.name, port: Number(v.ansible_port ?? 22), user: v.ansible_user, groups: ansible[h.name]!.groups });
    expect(got).toEqual({ address: ansible[h.name]!.address, port: ansible[h.name]!.port, user: ansible[h.name]!.user, groups: ansible[h.name]!.groups });
  }
}
