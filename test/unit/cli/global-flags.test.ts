import { describe, expect, it } from 'vitest';
import { envWithGlobalFlags, givenGlobalFlags, splitGlobalFlags } from '../../../src/cli/global-flags.ts';
import { loadConfig } from '../../../src/config.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { catchFerry } from '../catch-ferry.ts';

const split = (argv: string[]) => splitGlobalFlags(argv, '/srv/ops');
const usage = (argv: string[]) => catchFerry(() => split(argv), ErrorCode.UsageError);

describe('splitGlobalFlags', () => {
  it('takes --inventory and --vault-password-file before or after the command, leaving the rest in order', () => {
    expect(split(['--inventory', '/etc/ansible/fleet', 'hosts', '--json'])).toEqual({ flags: { inventory: '/etc/ansible/fleet' }, args: ['hosts', '--json'] });
    expect(split(['migrate', 'web1', '--from', 'lab-1', '--inventory=/etc/ansible/fleet', '--to', 'lab-2', '--vault-password-file', '/etc/ferry/vault'])).toEqual({
      flags: { inventory: '/etc/ansible/fleet', vaultPasswordFile: '/etc/ferry/vault' },
      args: ['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2'],
    });
  });

  it('leaves a command line without them untouched', () => {
    const argv = ['deploy', 'web1', '--on', 'lab-1', '--image', 'img.tar', '--json'];
    expect(split(argv)).toEqual({ flags: {}, args: argv });
  });

  it('resolves relative paths against the working directory, and keeps a host list as it is', () => {
    expect(split(['hosts', '--inventory', 'inv/hosts.yml', '--vault-password-file=../vault-pass']).flags).toEqual({ inventory: '/srv/ops/inv/hosts.yml', vaultPasswordFile: '/srv/vault-pass' });
    expect(split(['hosts', '--inventory', 'lab-1,lab-2,']).flags).toEqual({ inventory: 'lab-1,lab-2,' });
  });

  it('stops at --: what follows is the command\'s own', () => {
    expect(split(['deploy', 'web1', '--', '--inventory', 'x'])).toEqual({ flags: {}, args: ['deploy', 'web1', '--', '--inventory', 'x'] });
  });

  it('refuses a missing, repeated or unusable value as a usage error', () => {
    expect(usage(['hosts', '--inventory']).message).toBe('--inventory needs a value: --inventory FILE|DIR');
    expect(usage(['hosts', '--inventory', '--json']).message).toBe('--inventory needs a value: --inventory FILE|DIR');
    expect(usage(['hosts', '--vault-password-file']).message).toBe('--vault-password-file needs a value: --vault-password-file FILE');
    expect(usage(['--inventory', '/a', 'hosts', '--inventory', '/b']).message).toBe('--inventory is given twice');
    expect(usage(['hosts', '--inventory=']).message).toBe("--inventory='' must name an Ansible inventory (a file, a directory, or a comma-separated host list)");
    expect(usage(['hosts', '--inventory', '-i']).message).toContain("--inventory='-i' must name an Ansible inventory");
    expect(usage(['hosts', '--vault-password-file=']).message).toBe("--vault-password-file='' must name the vault password file (or script)");
  });
});

describe('envWithGlobalFlags', () => {
  const env = { FERRY_INVENTORY: '/etc/ansible/env-fleet', FERRY_VAULT_PASSWORD_FILE: '/etc/ferry/env-vault', FERRY_LAB_DIR: '/srv/lab' };

  it('puts each flag in place of its variable: the flag wins', () => {
    const c = loadConfig(envWithGlobalFlags(env, { inventory: '/srv/ops/inv', vaultPasswordFile: '/srv/ops/vault' }));
    expect(c.inventory).toBe('/srv/ops/inv');
    expect(c.vaultPasswordFile).toBe('/srv/ops/vault');
    expect(c.labDir).toBe('/srv/lab');
  });

  it('leaves the variables as they are without flags, and one variable without its flag', () => {
    expect(envWithGlobalFlags(env, {})).toEqual(env);
    const c = loadConfig(envWithGlobalFlags(env, { inventory: '/srv/ops/inv' }));
    expect([c.inventory, c.vaultPasswordFile]).toEqual(['/srv/ops/inv', '/etc/ferry/env-vault']);
  });

  it('sets the variable where there was none, and never changes the environment it is given', () => {
    const none = {};
    expect(loadConfig(envWithGlobalFlags(none, { inventory: 'a,b,' })).inventory).toBe('a,b,');
    expect(none).toEqual({});
  });
});

describe('givenGlobalFlags', () => {
  it('names the flags given', () => {
    expect(givenGlobalFlags({})).toEqual([]);
    expect(givenGlobalFlags({ vaultPasswordFile: '/v', inventory: '/i' })).toEqual(['--inventory', '--vault-password-file']);
  });
});
