import { describe, expect, it } from 'vitest';
import { expandTilde, sshHostKeyOptions } from '../../../src/hosts/ssh-args.ts';

const HOME = '/home/ops';

describe('sshHostKeyOptions', () => {
  it('reads UserKnownHostsFile, StrictHostKeyChecking and HostKeyAlias from -o options', () => {
    expect(sshHostKeyOptions(['-o UserKnownHostsFile=~/.ssh/fleet_hosts -o StrictHostKeyChecking=yes -o HostKeyAlias=web1'], HOME)).toEqual({
      userKnownHostsFiles: ['/home/ops/.ssh/fleet_hosts'],
      strictHostKeyChecking: 'yes',
      hostKeyAlias: 'web1',
    });
  });

  it('splits as Python shlex does: quotes, a space list of files, -oOption and "Option value" forms', () => {
    const args = `-C -o 'UserKnownHostsFile=/etc/ssh/fleet known_hosts /tmp/b' -oStrictHostKeyChecking=accept-new -o "ProxyCommand=ssh -W %h:%p bastion" -o "hostkeyalias web1"`;
    expect(sshHostKeyOptions([args], HOME)).toEqual({
      userKnownHostsFiles: ['/etc/ssh/fleet', 'known_hosts', '/tmp/b'],
      strictHostKeyChecking: 'accept-new',
      hostKeyAlias: 'web1',
    });
  });

  it('keeps the first value of an option across the argument variables, as OpenSSH does', () => {
    expect(sshHostKeyOptions(['-o StrictHostKeyChecking=No', undefined, '-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/a'], HOME)).toEqual({
      strictHostKeyChecking: 'no',
      userKnownHostsFiles: ['/a'],
    });
  });

  it('expands nothing but ~ (no variables, no commands)', () => {
    expect(sshHostKeyOptions(['-o UserKnownHostsFile=$HOME/kh -o HostKeyAlias=$(id)'], HOME)).toEqual({ userKnownHostsFiles: ['$HOME/kh'], hostKeyAlias: '$(id)' });
  });

  it('throws on text shlex cannot split', () => {
    expect(() => sshHostKeyOptions(["-o 'UserKnownHostsFile=/a"], HOME)).toThrow(/EOF while in a quoted string/);
  });

  it('returns nothing for no arguments', () => {
    expect(sshHostKeyOptions([undefined, ''], HOME)).toEqual({});
  });
});

describe('expandTilde', () => {
  it.each([
    ['~', HOME],
    ['~/.ssh/id', '/home/ops/.ssh/id'],
    ['~other/x', '~other/x'],
    ['/abs', '/abs'],
  ])('%s → %s', (p, want) => {
    expect(expandTilde(p, HOME)).toBe(want);
  });
});
