import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { blobKeyType, hostEnvironment, inventoryToHostsFile, isFerryVariable, type InventoryContext } from '../../../src/hosts/ansible-hosts.ts';
import { parseInventoryList, withDecrypted } from '../../../src/hosts/ansible-list.ts';
import { catchFerry } from '../catch-ferry.ts';

/** An SSH public key blob in wire format (RFC 4253): the type, then key bytes. */
function blob(type: string, fill: number): string {
  const t = Buffer.from(type);
  const len = (n: number) => Buffer.from([0, 0, 0, n]);
  return Buffer.concat([len(t.length), t, len(32), Buffer.alloc(32, fill)]).toString('base64');
}
const ED = blob('ssh-ed25519', 1);
const ED2 = blob('ssh-ed25519', 2);
const ECDSA = blob('ecdsa-sha2-nistp256', 3);

const ctx = (over: Partial<InventoryContext> = {}): InventoryContext => ({
  source: '/etc/ansible/hosts.yml',
  defaultUser: 'ops',
  home: '/home/ops',
  cwd: '/srv/ops',
  defaultIdentityFile: '/home/ops/.ssh/id_ed25519',
  knownHostsFiles: ['/home/ops/.ssh/known_hosts'],
  knownHosts: new Map([['/home/ops/.ssh/known_hosts', `web-1 ssh-ed25519 ${ED}\n[10.0.0.2]:2222 ssh-ed25519 ${ED2}\n`]]),
  ...over,
});

const list = (hostvars: Record<string, Record<string, unknown>>, groups: Record<string, { hosts?: string[]; children?: string[] }> = {}) =>
  parseInventoryList(JSON.stringify({ _meta: { hostvars }, all: { children: ['ungrouped', ...Object.keys(groups)] }, ...groups }), 'test');

const one = (vars: Record<string, unknown>, c = ctx(), name = 'web-1') => inventoryToHostsFile(list({ [name]: vars }, { ungrouped: { hosts: [name] } }), c).hosts[0]!;

describe('parseInventoryList', () => {
  it("gives each host its groups with their ancestors, without 'all', like Ansible's group_names", () => {
    const l = list(
      { 'web-1': {}, 'db-1': {}, 'solo-1': {} },
      { web: { hosts: ['web-1'] }, db: { hosts: ['db-1'] }, cloud: { children: ['web', 'db'] }, env_prod: { children: ['cloud'] }, ungrouped: { hosts: ['solo-1'] } },
    );
    expect(l.groupsOf).toEqual({ 'web-1': ['cloud', 'env_prod', 'web'], 'db-1': ['cloud', 'db', 'env_prod'], 'solo-1': ['ungrouped'] });
    expect(l.groups).toEqual(['cloud', 'db', 'env_prod', 'ungrouped', 'web']);
  });

  it('lists a host that has no variables', () => {
    expect(parseInventoryList(JSON.stringify({ _meta: { hostvars: {} }, web: { hosts: ['web-1'] } }), 't').hosts).toEqual(['web-1']);
  });

  it.each([
    ['not json', 'something that is not JSON'],
    ['[]', 'JSON that is not an object'],
    ['{"web": {"hosts": "web-1"}}', "a 'hosts' list of group 'web' that is not a list of names"],
    ['{"web": 3}', "group 'web' as 3"],
  ])('refuses %s', (text, message) => {
    expect(catchFerry(() => parseInventoryList(text, '/inv'), ErrorCode.InventoryFailed).message).toContain(message);
  });

  it('replaces decrypted vault values and leaves the others sealed', () => {
    const l = list({ 'db-1': { ansible_user: { __ansible_vault: 'C1' }, ansible_become_pass: { __ansible_vault: 'C2' } } }, { ungrouped: { hosts: ['db-1'] } });
    expect(withDecrypted(l, new Map([['C1', 'dbadmin']])).hostvars['db-1']).toEqual({ ansible_user: 'dbadmin', ansible_become_pass: { __ansible_vault: 'C2' } });
  });
});

describe('isFerryVariable', () => {
  it.each([
    ['ansible_host', true],
    ['ansible_ssh_common_args', true],
    ['ansible_ssh_host_key_ed25519_public', true],
    ['ferry_environment', true],
    ['ansible_become_pass', false],
    ['db_password', false],
  ])('%s: %s', (name, want) => {
    expect(isFerryVariable(name)).toBe(want);
  });
});

describe('inventoryToHostsFile: connection settings', () => {
  it("defaults as Ansible's ssh connection does: the inventory name, port 22, the controller's user, OpenSSH's default key", () => {
    expect(one({})).toEqual({
      name: 'web-1',
      address: 'web-1',
      port: 22,
      user: 'ops',
      privateKeyFile: '/home/ops/.ssh/id_ed25519',
      hostKey: `ssh-ed25519 ${ED}`,
      environment: 'default',
      groups: ['ungrouped'],
    });
  });

  it('reads ansible_host, ansible_port (a number or INI string), ansible_user and the key file (~ and relative paths resolved)', () => {
    const h = one({ ansible_host: '10.0.0.2', ansible_port: '2222', ansible_user: 'deploy', ansible_ssh_private_key_file: 'keys/deploy' });
    expect(h).toMatchObject({ address: '10.0.0.2', port: 2222, user: 'deploy', privateKeyFile: '/srv/ops/keys/deploy', hostKey: `ssh-ed25519 ${ED2}` });
    expect(h.unusable).toBeUndefined();
    expect(one({ ansible_private_key_file: '~/.ssh/fleet' }).privateKeyFile).toBe('/home/ops/.ssh/fleet');
  });

  it("honours Ansible's ansible_ssh_host/_port/_user names, which win over the short ones as in Ansible", () => {
    expect(one({ ansible_ssh_host: '10.0.0.2', ansible_ssh_port: 2222, ansible_ssh_user: 'old' })).toMatchObject({ address: '10.0.0.2', port: 2222, user: 'old' });
    expect(one({ ansible_host: '10.0.0.3', ansible_ssh_host: '10.0.0.2', ansible_port: 22, ansible_ssh_port: 2222, ansible_user: 'new', ansible_ssh_user: 'old' })).toMatchObject({
      address: '10.0.0.2',
      port: 2222,
      user: 'old',
    });
  });

  it('marks a host with no key file and none of the OpenSSH defaults', () => {
    expect(one({}, ctx({ defaultIdentityFile: undefined })).unusable).toBe(
      'it names no key (ansible_ssh_private_key_file) and none of ~/.ssh/id_rsa, ~/.ssh/id_ecdsa, ~/.ssh/id_ed25519 exists',
    );
  });

  it.each([
    [{ ansible_port: 70000 }, 'ansible_port=70000 is not a port (1-65535)'],
    [{ ansible_host: '-oProxyCommand=x' }, 'ansible_host="-oProxyCommand=x" is not a host name or IP address'],
    [{ ansible_user: 'a b' }, 'ansible_user="a b" is not a user name'],
    [{ ansible_host: '{{ inventory_hostname }}.corp' }, 'ansible_host is a Jinja2 template ("{{ inventory_hostname }}.corp"): Ferry reads the values ansible-inventory --list prints'],
    [{ ansible_user: { __ansible_vault: 'C' } }, 'ansible_user is vaulted and was not decrypted (set FERRY_VAULT_PASSWORD_FILE)'],
    [{ ansible_connection: 'local' }, 'ansible_connection=local: Ferry reaches hosts over SSH only'],
    [{ ansible_ssh_common_args: "-o 'UserKnownHostsFile=/a" }, 'its SSH arguments cannot be split as Ansible splits them'],
  ])('marks %j as unusable, saying why', (vars, why) => {
    expect(one(vars).unusable).toContain(why);
  });

  it('marks an inventory name Ferry cannot take in commands, suggesting an alias', () => {
    expect(one({}, ctx(), 'Web1.example.org').unusable).toContain("give it an alias such as 'web1 ansible_host=Web1.example.org'");
  });
});

describe('inventoryToHostsFile: host keys', () => {
  it('takes ansible_ssh_host_key_*_public first (a blob as facts hold it, or a whole line), preferring ed25519', () => {
    expect(one({ ansible_ssh_host_key_ecdsa_public: ECDSA }).hostKey).toBe(`ecdsa-sha2-nistp256 ${ECDSA}`);
    expect(one({ ansible_ssh_host_key_ecdsa_public: ECDSA, ansible_ssh_host_key_ed25519_public: `ssh-ed25519 ${ED2} root@web-1` }).hostKey).toBe(`ssh-ed25519 ${ED2}`);
  });

  it('refuses a host key variable that is not a key, without falling back to known_hosts', () => {
    const h = one({ ansible_ssh_host_key_ed25519_public: 'not-a-key' });
    expect(h.hostKey).toBe('');
    expect(h.unusable).toBe("ansible_ssh_host_key_ed25519_public is not an SSH public key (expected the base64 blob of the host's /etc/ssh/ssh_host_*_key.pub, or its whole line)");
    expect(one({ ansible_ssh_host_key_ed25519_public: `ssh-rsa ${ED}` }).unusable).toContain('is not an SSH public key');
  });

  it("searches the host's UserKnownHostsFile before the other files", () => {
    const c = ctx({ knownHosts: new Map([...ctx().knownHosts, ['/etc/fleet_hosts', `web-1 ssh-ed25519 ${ED2}\n`]]) });
    expect(one({ ansible_ssh_common_args: '-o UserKnownHostsFile=/etc/fleet_hosts' }, c).hostKey).toBe(`ssh-ed25519 ${ED2}`);
  });

  it('looks up HostKeyAlias instead of the address', () => {
    const c = ctx({ knownHosts: new Map([['/home/ops/.ssh/known_hosts', `fleet-web ssh-ed25519 ${ED2}\n`]]) });
    expect(one({ ansible_host: '10.0.0.9', ansible_ssh_extra_args: '-o HostKeyAlias=fleet-web' }, c).hostKey).toBe(`ssh-ed25519 ${ED2}`);
  });

  it('keeps a host with no pinned key, marked, naming the files searched and what to add', () => {
    const h = one({ ansible_host: '10.0.0.7', ansible_port: 2200, ansible_ssh_common_args: '-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no' });
    expect(h.hostKey).toBe('');
    expect(h.unusable).toBe(
      'no host key is pinned for it, and Ferry never trusts a key on first use (its StrictHostKeyChecking=no does not change this for Ferry): ' +
        "set ansible_ssh_host_key_ed25519_public to the key in the host's /etc/ssh/ssh_host_ed25519_key.pub, or add a '[10.0.0.7]:2200 ssh-ed25519 …' line " +
        'to a known_hosts file (searched: /dev/null (missing), /home/ops/.ssh/known_hosts)',
    );
  });

  it("says that the inventory's host_key_checking=False does not apply either", () => {
    expect(one({ ansible_host: '10.0.0.7', ansible_host_key_checking: 'False' }).unusable).toContain('(its ansible_host_key_checking=False does not change this for Ferry)');
  });

  it('reads the key type from the blob', () => {
    expect(blobKeyType(ED)).toBe('ssh-ed25519');
    expect(blobKeyType('AAAA')).toBeNull();
    expect(blobKeyType('!!')).toBeNull();
  });
});

describe('hostEnvironment', () => {
  it('takes ferry_environment first', () => {
    expect(hostEnvironment({ ferry_environment: 'aws', ferry_environment_groups: ['lab'] }, ['lab', 'env_gcp'])).toEqual({ environment: 'aws' });
  });

  it('then the first group of ferry_environment_groups the host is in (a list, or a comma-separated INI string)', () => {
    expect(hostEnvironment({ ferry_environment_groups: ['gcp', 'aws'] }, ['aws', 'gcp', 'env_x'])).toEqual({ environment: 'gcp' });
    expect(hostEnvironment({ ferry_environment_groups: 'gcp, aws' }, ['aws'])).toEqual({ environment: 'aws' });
  });

  it('then an env_<name> group, else default', () => {
    expect(hostEnvironment({ ferry_environment_groups: ['gcp'] }, ['web', 'env_prod'])).toEqual({ environment: 'prod' });
    expect(hostEnvironment({}, ['web'])).toEqual({ environment: 'default' });
  });

  it('refuses two env_ groups, and names that are not names', () => {
    expect(hostEnvironment({}, ['env_prod', 'env_staging']).problem).toBe(
      'it is in 2 environment groups (env_prod, env_staging): set ferry_environment on it, or list the groups in order in ferry_environment_groups',
    );
    expect(hostEnvironment({ ferry_environment: 'a b' }, []).problem).toContain('not a name');
    expect(hostEnvironment({ ferry_environment: 3 }, []).problem).toBe('ferry_environment=3 is not a name');
    expect(hostEnvironment({ ferry_environment_groups: { a: 1 } }, []).problem).toContain('is not a list of group names');
  });
});

describe('inventoryToHostsFile: the file', () => {
  it('names the inventory as the file playbooks run on, one environment or mixed, and the agreed controller address', () => {
    const l = list(
      { 'web-1': { ferry_environment: 'aws', ferry_controller_address: '10.0.0.1' }, 'web-2': { ferry_environment: 'aws', ferry_controller_address: '10.0.0.1' } },
      { web: { hosts: ['web-1', 'web-2'] } },
    );
    const f = inventoryToHostsFile(l, ctx());
    expect(f).toMatchObject({ environment: 'aws', controllerAddress: '10.0.0.1', inventoryFile: '/etc/ansible/hosts.yml', knownHostsFile: '/home/ops/.ssh/known_hosts' });
    expect(f.hosts.map((h) => h.groups)).toEqual([['web'], ['web']]);
    const mixed = inventoryToHostsFile(list({ a: { ferry_environment: 'aws', ferry_controller_address: '10.0.0.1' }, b: { ferry_controller_address: '10.9.9.9' } }), ctx());
    expect(mixed.environment).toBe('mixed');
    expect(mixed.controllerAddress).toBeUndefined();
  });
});
