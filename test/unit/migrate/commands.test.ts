import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { HOST_PATHS } from '../../../src/hosts/paths.ts';
import { criuLazyPages, criuPageServer, parseRsyncSent, rsyncPush, runcCheckpoint, runcRestore } from '../../../src/migrate/commands.ts';
import { catchFerry } from '../catch-ferry.ts';

const RUNC = ['runc', '--root', HOST_PATHS.runcRoot];
const base = { name: 'web1', imageDir: '/var/lib/ferry/images/m1/img/final', workDir: '/var/lib/ferry/images/m1/work' };
const CKPT = [...RUNC, 'checkpoint', '--image-path', base.imageDir, '--work-path', base.workDir];

/** The value following a flag, asserting the flag is present once. */
function flag(args: string[], name: string): string | undefined {
  expect(args.filter((a) => a === name)).toHaveLength(1);
  return args[args.indexOf(name) + 1];
}

describe('runcCheckpoint', () => {
  it('builds a plain checkpoint', () => {
    expect(runcCheckpoint(base)).toEqual([...CKPT, 'web1']);
  });

  it('streams pages to a page server', () => {
    expect(runcCheckpoint({ ...base, pageServer: { address: '10.247.0.12', port: 27001 } })).toEqual([...CKPT, '--page-server', '10.247.0.12:27001', 'web1']);
  });

  it('builds a pre-dump with a parent path', () => {
    const args = runcCheckpoint({ ...base, preDump: true, parentPath: '../1' });
    expect(args).toEqual([...CKPT, '--pre-dump', '--parent-path', '../1', 'web1']);
  });

  it('builds a pre-dump through a page server (pc-ps)', () => {
    const args = runcCheckpoint({ ...base, preDump: true, parentPath: '../1', pageServer: { address: '10.247.0.12', port: 27002 } });
    expect(args).toContain('--pre-dump');
    expect(flag(args, '--parent-path')).toBe('../1');
    expect(flag(args, '--page-server')).toBe('10.247.0.12:27002');
    expect(args.at(-1)).toBe('web1');
  });

  it('builds a lazy checkpoint serving pages from the source, with a status fd', () => {
    const args = runcCheckpoint({ ...base, lazyPages: { address: '10.247.0.11', port: 27100 }, statusFd: 3 });
    expect(args).toEqual([...CKPT, '--lazy-pages', '--page-server', '10.247.0.11:27100', '--status-fd', '3', 'web1']);
  });

  it('passes status fd 0 (a defined fd)', () => {
    expect(flag(runcCheckpoint({ ...base, lazyPages: { address: 'a', port: 1 }, statusFd: 0 }), '--status-fd')).toBe('0');
  });

  it('omits the status fd when none is given', () => {
    expect(runcCheckpoint({ ...base, lazyPages: { address: 'a', port: 1 } })).not.toContain('--status-fd');
  });

  it('refuses lazy pages together with a remote page server (a bug in a strategy)', () => {
    const e = catchFerry(() => runcCheckpoint({ ...base, lazyPages: { address: 'a', port: 1 }, pageServer: { address: 'b', port: 2 } }), ErrorCode.Internal);
    expect(e.message).toMatch(/exclusive/);
  });

  it('refuses a lazy pre-dump (a bug in a strategy)', () => {
    expect(catchFerry(() => runcCheckpoint({ ...base, lazyPages: { address: 'a', port: 1 }, preDump: true }), ErrorCode.Internal).message).toMatch(/pre-dump cannot be lazy/);
  });
});

describe('runcRestore', () => {
  const r = { name: 'web1', bundle: '/var/lib/ferry/containers/web1', imageDir: base.imageDir, workDir: base.workDir, pidFile: '/run/ferry/web1.pid', log: '/run/ferry/web1.runc.log' };

  it('runs runc restore detached through the host helper', () => {
    expect(runcRestore(r)).toEqual([
      HOST_PATHS.detached,
      ...RUNC,
      '--log',
      r.log,
      'restore',
      '--detach',
      '--image-path',
      r.imageDir,
      '--work-path',
      r.workDir,
      '--bundle',
      r.bundle,
      '--pid-file',
      r.pidFile,
      'web1',
    ]);
  });

  it('adds --lazy-pages before the name when asked', () => {
    const args = runcRestore({ ...r, lazyPages: true });
    expect(args[0]).toBe(HOST_PATHS.detached);
    expect(args.slice(-2)).toEqual(['--lazy-pages', 'web1']);
  });

  it('has no --lazy-pages otherwise', () => {
    expect(runcRestore({ ...r, lazyPages: false })).not.toContain('--lazy-pages');
  });
});

describe('criuPageServer', () => {
  it('starts a daemonized page server listening on the endpoint', () => {
    const args = criuPageServer({ imageDir: '/img', listen: { address: '10.247.0.12', port: 27003 }, pidFile: '/w/ps.pid', logFile: '/w/ps.log' });
    expect(args.slice(0, 2)).toEqual(['criu', 'page-server']);
    expect(flag(args, '--images-dir')).toBe('/img');
    expect(flag(args, '--address')).toBe('10.247.0.12');
    expect(flag(args, '--port')).toBe('27003');
    expect(args).toContain('--daemon');
    expect(flag(args, '--pidfile')).toBe('/w/ps.pid');
    expect(flag(args, '-o')).toBe('/w/ps.log');
  });
});

describe('criuLazyPages', () => {
  it('starts the lazy-pages daemon pointed at the source page server', () => {
    const args = criuLazyPages({ imageDir: '/img', workDir: '/work', source: { address: '10.247.0.11', port: 27100 }, pidFile: '/w/lp.pid', logFile: '/w/lp.log' });
    expect(args.slice(0, 2)).toEqual(['criu', 'lazy-pages']);
    expect(args).toContain('--page-server');
    expect(flag(args, '--address')).toBe('10.247.0.11');
    expect(flag(args, '--port')).toBe('27100');
    expect(flag(args, '--images-dir')).toBe('/img');
    expect(flag(args, '--work-dir')).toBe('/work');
    expect(args).toContain('--daemon');
    expect(flag(args, '--pidfile')).toBe('/w/lp.pid');
    expect(flag(args, '-o')).toBe('/w/lp.log');
  });
});

describe('rsyncPush', () => {
  const a = { from: '/var/lib/ferry/containers/web1/', to: 'root@10.247.0.12:/var/lib/ferry/containers/web1/', sshKey: '/root/.ssh/ferry_link', knownHosts: '/run/ferry/m1/known_hosts', port: 2222 };

  it('copies archive-style with numeric ids, sparse files and stats, source then destination last', () => {
    const args = rsyncPush(a);
    expect(args[0]).toBe('rsync');
    for (const f of ['-a', '--numeric-ids', '--sparse', '--stats']) expect(args).toContain(f);
    expect(args.slice(-2)).toEqual([a.from, a.to]);
  });

  it('gives ssh the key, the port and strict checking against the known hosts file', () => {
    const ssh = flag(rsyncPush(a), '-e')!;
    expect(ssh.split(' ')[0]).toBe('ssh');
    expect(ssh).toContain('-i /root/.ssh/ferry_link');
    expect(ssh).toContain('-p 2222');
    expect(ssh).toContain('-o UserKnownHostsFile=/run/ferry/m1/known_hosts');
    expect(ssh).toContain('-o StrictHostKeyChecking=yes');
    expect(ssh).toContain('-o BatchMode=yes');
  });

  it('deletes on the receiver only when asked', () => {
    expect(rsyncPush(a)).not.toContain('--delete');
    expect(rsyncPush({ ...a, delete: false })).not.toContain('--delete');
    expect(rsyncPush({ ...a, delete: true })).toContain('--delete');
  });

  it('passes each exclude as its own --exclude pair before the paths', () => {
    const args = rsyncPush({ ...a, excludes: ['rootfs/tmp', '*.log'] });
    const i = args.indexOf('--exclude');
    expect(args.slice(i, i + 4)).toEqual(['--exclude', 'rootfs/tmp', '--exclude', '*.log']);
    expect(i).toBeLessThan(args.indexOf(a.from));
  });
});

describe('parseRsyncSent', () => {
  it('reads a number with thousands separators', () => {
    expect(parseRsyncSent('Total bytes sent: 1,234,567\nTotal bytes received: 35\n')).toBe(1234567);
  });

  it('reads a plain number from full --stats output', () => {
    const out = [
      'Number of files: 12 (reg: 9, dir: 3)',
      'Total file size: 10,485,760 bytes',
      'Total bytes sent: 4096',
      'Total bytes received: 212',
      '',
      'sent 4096 bytes  received 212 bytes  8616.00 bytes/sec',
    ].join('\n');
    expect(parseRsyncSent(out)).toBe(4096);
  });

  it('returns 0 without stats', () => {
    expect(parseRsyncSent('rsync: connection unexpectedly closed')).toBe(0);
  });
});
