import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostHooks, isFerryVariable } from '../../../src/hosts/ansible-hosts.ts';
import { loadAnsibleInventory } from '../../../src/hosts/ansible-inventory.ts';
import { findHost } from '../../../src/hosts/inventory.ts';

describe('hostHooks', () => {
  it('reads the three hook variables', () => {
    expect(hostHooks({ ferry_pre_migrate: '/h/drain.yml', ferry_post_migrate: 'hooks/dns.yml', ferry_on_rollback: '/h/undrain.yml', other: 'x' })).toEqual({
      value: { pre_migrate: '/h/drain.yml', post_migrate: 'hooks/dns.yml', on_rollback: '/h/undrain.yml' },
      problems: [],
    });
  });

  it('has no hooks for a host that names none', () => {
    expect(hostHooks({ ansible_host: '192.0.2.1' })).toEqual({ problems: [] });
  });

  it('says why a value cannot be used, instead of skipping the hook', () => {
    const r = hostHooks({ ferry_pre_migrate: '{{ playbook_dir }}/drain.yml', ferry_post_migrate: '--syntax-check', ferry_on_rollback: ['a.yml'] });
    expect(r.value).toBeUndefined();
    expect(r.problems).toEqual([
      expect.stringMatching(/^ferry_pre_migrate is a Jinja2 template/),
      'ferry_post_migrate="--syntax-check" is not the path of a playbook',
      'ferry_on_rollback=["a.yml"] is not the path of a playbook',
    ]);
  });

  it('counts the hook variables as Ferry variables, so vaulted values of them are decrypted', () => {
    expect(['ferry_pre_migrate', 'ferry_post_migrate', 'ferry_on_rollback'].every(isFerryVariable)).toBe(true);
  });
});

let ansible = true;
try {
  execFileSync('ansible-inventory', ['--version'], { stdio: 'ignore' });
} catch {
  ansible = false;
  console.warn('SKIPPED hook variables through ansible-inventory: needs ansible-inventory on PATH (scripts/setup.sh installs ansible-core)');
}

describe.skipIf(!ansible)('hook variables through a real inventory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-hookvars-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("takes a group's hooks for its hosts, a host's own value winning, as Ansible merges them", async () => {
    const inv = path.join(dir, 'inventory.ini');
    await writeFile(
      inv,
      [
        '[env_prod]',
        'web-1 ansible_host=192.0.2.11',
        'web-2 ansible_host=192.0.2.12 ferry_post_migrate=/hooks/web-2-dns.yml',
        '[env_dev]',
        'dev-1 ansible_host=192.0.2.13',
        '[env_prod:vars]',
        'ferry_pre_migrate=/hooks/drain.yml',
        'ferry_post_migrate=hooks/dns.yml',
        '',
      ].join('\n'),
    );
    const hosts = await loadAnsibleInventory(inv, {});
    expect(findHost(hosts, 'web-1').hooks).toEqual({ pre_migrate: '/hooks/drain.yml', post_migrate: 'hooks/dns.yml' });
    expect(findHost(hosts, 'web-2').hooks).toEqual({ pre_migrate: '/hooks/drain.yml', post_migrate: '/hooks/web-2-dns.yml' });
    expect(findHost(hosts, 'dev-1').hooks).toBeUndefined();
  });
});
