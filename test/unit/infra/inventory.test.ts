import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../../../src/hosts/inventory.ts';
import { labHostNames, renderInventory, renderKnownHosts } from '../../../src/infra/inventory.ts';

const spec = (name: string, address: string, port: number, hostKey = `ssh-ed25519 AAAAkey${name.replace('-', '')}`): HostSpec => ({
  name,
  address,
  port,
  user: 'root',
  privateKeyFile: `/var/lib/ferry-lab/keys/${name}`,
  hostKey,
  environment: 'local',
});

const hosts = [spec('lab-1', '10.247.0.11', 22), spec('lab-2', '127.0.0.1', 2222)];

describe('renderInventory', () => {
  const ini = renderInventory(hosts, '/var/lib/ferry-lab/known_hosts');
  const lines = ini.split('\n');

  it('puts every host in the [ferry] group with its connection variables', () => {
    const group = lines.indexOf('[ferry]');
    expect(group).toBeGreaterThanOrEqual(0);
    expect(lines[group + 1]).toBe(
      'lab-1 ansible_host=10.247.0.11 ansible_port=22 ansible_user=root ansible_ssh_private_key_file=/var/lib/ferry-lab/keys/lab-1 ferry_environment=local',
    );
    expect(lines[group + 2]).toBe(
      'lab-2 ansible_host=127.0.0.1 ansible_port=2222 ansible_user=root ansible_ssh_private_key_file=/var/lib/ferry-lab/keys/lab-2 ferry_environment=local',
    );
  });

  it('pins SSH to the known hosts file with strict host key checking', () => {
    expect(lines).toContain('[ferry:vars]');
    const common = lines.find((l) => l.startsWith('ansible_ssh_common_args='));
    expect(common).toBeDefined();
    expect(common).toContain('-o UserKnownHostsFile=/var/lib/ferry-lab/known_hosts');
    expect(common).toContain('-o StrictHostKeyChecking=yes');
    expect(common).not.toMatch(/StrictHostKeyChecking=(no|accept-new)/);
  });

  it('sets the Python interpreter and ends with a newline', () => {
    expect(lines).toContain('ansible_python_interpreter=/usr/bin/python3');
    expect(ini.endsWith('\n')).toBe(true);
  });

  it('renders an empty group for no hosts', () => {
    const empty = renderInventory([], '/k').split('\n');
    expect(empty[empty.indexOf('[ferry]') + 1]).toBe('');
  });
});

describe('renderKnownHosts', () => {
  it('writes plain addresses for port 22 and [addr]:port otherwise', () => {
    expect(renderKnownHosts(hosts)).toBe('10.247.0.11 ssh-ed25519 AAAAkeylab1\n[127.0.0.1]:2222 ssh-ed25519 AAAAkeylab2\n');
  });

  it('drops the key comment and surrounding whitespace', () => {
    const h = spec('lab-1', '10.0.0.5', 22, '  ssh-ed25519   AAAAxyz   root@lab-1 \n');
    expect(renderKnownHosts([h])).toBe('10.0.0.5 ssh-ed25519 AAAAxyz\n');
  });
});

describe('labHostNames', () => {
  it('numbers lab hosts from 1', () => {
    expect(labHostNames(3)).toEqual(['lab-1', 'lab-2', 'lab-3']);
  });

  it('returns no names for 0', () => {
    expect(labHostNames(0)).toEqual([]);
  });
});
