import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import type { HostSpec } from '../../../src/hosts/inventory.ts';
import { HOST_ROOTFS_CACHE, hostFiles, inCgroup, knownHostsLine, rsyncArgs, rsyncFileArgs, runcRunArgv, tarballStem, unpackArgv, uploadTarget } from '../../../src/workloads/deploy.ts';
import { execHealthArgv } from '../../../src/workloads/health-exec.ts';
import { catchFerry } from '../catch-ferry.ts';

const spec: HostSpec = { name: 'lab-1', address: '10.77.0.11', port: 22, user: 'root', privateKeyFile: '/var/lib/ferry-lab/id_ed25519', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx lab-1', environment: 'local' };

describe('deploy helpers', () => {
  it('lays files out as workload-host.sh does', () => {
    expect(hostFiles('app1')).toEqual({ bundle: '/var/lib/ferry/containers/app1', pidFile: '/run/ferry/app1.pid', runcLog: '/run/ferry/app1.runc.log' });
    expect(uploadTarget({ localDir: '/x', into: 'rootfs' }, 'app1')).toBe('/var/lib/ferry/containers/app1/rootfs');
    expect(uploadTarget({ localDir: '/x', into: 'bundle' }, 'app1')).toBe('/var/lib/ferry/containers/app1');
  });

  it('starts runc through the detached helper, as workload-host.sh does', () => {
    expect(runcRunArgv('app1')).toEqual([
      '/usr/local/libexec/ferry/detached', 'runc', '--root', '/run/ferry/runc', '--log', '/run/ferry/app1.runc.log',
      'run', '-d', '--pid-file', '/run/ferry/app1.pid', '--bundle', '/var/lib/ferry/containers/app1', 'app1',
    ]);
  });

  it('pins the host key in a known_hosts line, with the port when it is not 22', () => {
    expect(knownHostsLine(spec)).toBe('10.77.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx\n');
    expect(knownHostsLine({ ...spec, port: 2222 })).toBe('[10.77.0.11]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx\n');
  });

  it("builds rsync's argv with the key, the pinned host and no ssh_config", () => {
    const a = rsyncArgs(spec, '/tmp/w/bundle/rootfs/', '/var/lib/ferry/containers/app1/rootfs', '/tmp/kh/known_hosts', {});
    expect(a).toEqual([
      '--archive', '--hard-links', '--numeric-ids', '--delete', '--mkpath', '-e',
      'ssh -F /dev/null -i /var/lib/ferry-lab/id_ed25519 -p 22 -l root -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/tmp/kh/known_hosts -o GlobalKnownHostsFile=/dev/null',
      '/tmp/w/bundle/rootfs/', '10.77.0.11:/var/lib/ferry/containers/app1/rootfs/',
    ]);
  });

  it("keeps a bundle's own config.json out, brackets IPv6 and quotes paths for rsync's -e", () => {
    const a = rsyncArgs({ ...spec, address: 'fd00::11', privateKeyFile: '/keys/my key' }, '/b', '/var/lib/ferry/containers/app1', '/k h/known', { excludeConfig: true });
    expect(a).toContain('--exclude=/config.json');
    expect(a.at(-1)).toBe('[fd00::11]:/var/lib/ferry/containers/app1/');
    expect(a[a.indexOf('-e') + 1]).toContain("-i '/keys/my key'");
    expect(a[a.indexOf('-e') + 1]).toContain("'UserKnownHostsFile=/k h/known'");
    catchFerry(() => rsyncArgs({ ...spec, privateKeyFile: `/k'e"y` }, '/b', '/d', '/k'), ErrorCode.ConfigInvalid);
  });

  it('copies a rootfs tarball as one file, with the same pinned ssh, and unpacks it with owners by number', () => {
    expect(uploadTarget({ tarball: '/c/mariadb-0123.tar.zst', into: 'rootfs' }, 'blog-db')).toBe('/var/lib/ferry/containers/blog-db/rootfs');
    const a = rsyncFileArgs(spec, '/var/cache/ferry/rootfs/mariadb-0123abcd.tar.zst', HOST_ROOTFS_CACHE, '/tmp/kh/known_hosts');
    expect(a).toEqual([
      '--archive', '--mkpath', '-e',
      'ssh -F /dev/null -i /var/lib/ferry-lab/id_ed25519 -p 22 -l root -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/tmp/kh/known_hosts -o GlobalKnownHostsFile=/dev/null',
      '/var/cache/ferry/rootfs/mariadb-0123abcd.tar.zst', '10.77.0.11:/var/lib/ferry/cache/rootfs/',
    ]);
    expect(unpackArgv('/var/lib/ferry/cache/rootfs/mariadb-0123abcd.tar.zst', '/var/lib/ferry/containers/blog-db/rootfs')).toEqual([
      'tar', '--zstd', '--numeric-owner', '-xpf', '/var/lib/ferry/cache/rootfs/mariadb-0123abcd.tar.zst', '-C', '/var/lib/ferry/containers/blog-db/rootfs',
    ]);
  });

  it.each([
    ['mariadb-13415d9d9d6e33f8.tar.zst', 'mariadb'],
    ['wordpress-2f2cf1580b6d676d.tar.zst', 'wordpress'],
    ['my-app-rootfs-abc123.tar.zst', 'my-app-rootfs'],
    ['rootfs.tar.zst', null],
    ['mariadb-123.tar.gz', null],
  ])('reads the stem of %s as %s', (file, stem) => {
    expect(tarballStem(file)).toBe(stem);
  });

  it('finds the cgroup in v1 and v2 listings, on a path boundary', () => {
    const v1 = '13:freezer:/ferry/lab-1/app1\n12:memory:/ferry/lab-1/app1\n0::/\n';
    expect(inCgroup(v1, '/ferry/lab-1/app1')).toBe(true);
    expect(inCgroup('0::/ferry/lab-1/app1\n', '/ferry/lab-1/app1')).toBe(true);
    expect(inCgroup('13:freezer:/ferry/lab-1/app10\n', '/ferry/lab-1/app1')).toBe(false);
    expect(inCgroup('2:cpu,cpuacct:/ferry/lab-1/app1/x\n', '/ferry/lab-1/app1')).toBe(false);
  });

  it('runs exec health checks with runc exec in the container', () => {
    expect(execHealthArgv('app1', ['redis-cli', 'ping'])).toEqual(['runc', '--root', '/run/ferry/runc', 'exec', 'app1', 'redis-cli', 'ping']);
  });
});
