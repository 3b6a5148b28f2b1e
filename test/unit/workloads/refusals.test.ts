import { describe, expect, it } from 'vitest';
import { ErrorCode, FerryError } from '../../../src/errors.ts';
import { buildFerryConfig } from '../../../src/workloads/ferry-config.ts';
import type { OciSpec } from '../../../src/workloads/oci.ts';
import { assertMovable, assertNameFree, findRefusals, identityMapped } from '../../../src/workloads/refusals.ts';
import { catchFerry } from '../catch-ferry.ts';

const good = (): OciSpec => buildFerryConfig({ kind: 'rootfs' }, { name: 'app1', host: 'lab-1', cmd: ['/bin/sh'] }).config;
const codes = (c: OciSpec, name = 'app1') => findRefusals(c, name).map((r) => r.code);

describe('findRefusals', () => {
  it("has nothing against Ferry's own spec", () => {
    expect(findRefusals(good(), 'app1')).toEqual([]);
    expect(() => assertMovable(good(), 'app1')).not.toThrow();
  });

  it('refuses a terminal', () => {
    const c = good();
    c.process!.terminal = true;
    const [r] = findRefusals(c, 'app1');
    expect(r!.code).toBe(ErrorCode.RefusedTerminal);
    expect(r!.reason).toContain('process.terminal');
  });

  it.each([
    ['host path', { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind'] }],
    ['host path given as an option only', { destination: '/data', type: 'none', source: '/srv/data', options: ['rbind', 'rw'] }],
    ['path escaping the bundle', { destination: '/data', type: 'bind', source: '../other/data' }],
    ['another bundle on the host', { destination: '/data', type: 'bind', source: '/var/lib/ferry/containers/app10/data' }],
    ['no source', { destination: '/data', type: 'bind' }],
  ])('refuses a bind mount of a %s', (_what, mount) => {
    const c = good();
    c.mounts!.push(mount);
    expect(codes(c)).toEqual([ErrorCode.RefusedBindMount]);
    expect(findRefusals(c, 'app1')[0]!.reason).toContain('/data');
  });

  it.each([
    ['a relative path', 'data'],
    ['a nested relative path', './volumes/../data/x'],
    ["an absolute path in the bundle's host directory", '/var/lib/ferry/containers/app1/data'],
  ])('accepts a bind mount from inside the bundle: %s', (_what, source) => {
    const c = good();
    c.mounts!.push({ destination: '/data', type: 'bind', source, options: ['rbind'] });
    expect(codes(c)).toEqual([]);
  });

  it('refuses mounts CRIU cannot recreate (a block device, NFS)', () => {
    const c = good();
    c.mounts!.push({ destination: '/db', type: 'ext4', source: '/dev/sdb1' }, { destination: '/nfs', type: 'nfs', source: 'server:/export' });
    expect(codes(c)).toEqual([ErrorCode.RefusedMount, ErrorCode.RefusedMount]);
  });

  it('accepts the self-contained mount types', () => {
    const c = good();
    c.mounts!.push({ destination: '/run', type: 'tmpfs', source: 'tmpfs' }, { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' });
    expect(codes(c)).toEqual([]);
  });

  it('refuses devices beyond the default set, and accepts the default ones listed', () => {
    const c = good();
    c.linux!.devices = [
      { path: '/dev/null', type: 'c', major: 1, minor: 3 },
      { path: '/dev/urandom', type: 'c', major: 1, minor: 9 },
      { path: '/dev/net/tun', type: 'c', major: 10, minor: 200 },
      { path: '/dev/sda', type: 'b', major: 8, minor: 0 },
      { path: '/dev/null', type: 'c', major: 10, minor: 200 },
    ];
    expect(codes(c)).toEqual([ErrorCode.RefusedDevice, ErrorCode.RefusedDevice, ErrorCode.RefusedDevice]);
    expect(findRefusals(c, 'app1')[0]!.reason).toContain('/dev/net/tun (c 10:200)');
  });

  it('refuses a user namespace and namespaces joined by path', () => {
    const c = good();
    c.linux!.namespaces!.push({ type: 'user' }, { type: 'network', path: '/var/run/netns/pod' }, { type: 'ipc', path: '/proc/1/ns/ipc' });
    expect(codes(c)).toEqual([ErrorCode.RefusedNamespace, ErrorCode.RefusedNamespace, ErrorCode.RefusedNamespace]);
    expect(findRefusals(c, 'app1')[1]!.reason).toContain("share their host's network");
  });

  it('accepts a user namespace that maps every id to itself, as the WordPress workload has', () => {
    const c = good();
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    expect(findRefusals(c, 'app1')).toEqual([]);
    expect(identityMapped(c.linux)).toBe(true);
  });

  it.each([
    ['shifted uids', [{ containerID: 0, hostID: 100000, size: 65536 }], [{ containerID: 0, hostID: 0, size: 65536 }]],
    ['shifted gids', [{ containerID: 0, hostID: 0, size: 65536 }], [{ containerID: 0, hostID: 100000, size: 65536 }]],
    ['no gid mappings', [{ containerID: 0, hostID: 0, size: 65536 }], undefined],
    ['an empty size', [{ containerID: 0, hostID: 0, size: 0 }], [{ containerID: 0, hostID: 0, size: 65536 }]],
  ])('refuses a user namespace with %s', (_what, uid, gid) => {
    const c = good();
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = uid;
    c.linux!.gidMappings = gid;
    expect(codes(c)).toEqual([ErrorCode.RefusedNamespace]);
    expect(findRefusals(c, 'app1')[0]!.reason).toContain('identity mapping');
  });

  it('refuses a user namespace joined by path even with identity mappings', () => {
    const c = good();
    c.linux!.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    expect(codes(c)).toEqual([ErrorCode.RefusedNamespace]);
  });

  it('refuses a name that fails names.ts', () => {
    expect(codes(good(), 'App_1')).toEqual([ErrorCode.InvalidName]);
  });
});

describe('assertMovable', () => {
  it('throws the first refusal with its code, and lists them all', () => {
    const c = good();
    c.process!.terminal = true;
    c.mounts!.push({ destination: '/data', type: 'bind', source: '/srv' });
    const e = catchFerry(() => assertMovable(c, 'app1'), ErrorCode.RefusedTerminal);
    expect(e.message).toMatch(/^cannot deploy app1: it asks for a terminal.*and 1 more: ferry_refused_bind_mount/);
    expect((e.details!.refusals as unknown[]).length).toBe(2);
  });
});

describe('assertNameFree', () => {
  const listed = [
    { host: 'lab-1', name: 'web1', status: 'running' },
    { host: 'lab-2', name: 'kv1', status: 'paused' },
    { host: 'lab-2', name: 'web10', status: 'running' },
  ];

  it('passes a name no host has', () => {
    expect(() => assertNameFree('app1', listed)).not.toThrow();
    expect(() => assertNameFree('web', listed)).not.toThrow();
  });

  it('names the host and state of a container with that name', () => {
    const e = catchFerry(() => assertNameFree('kv1', listed), ErrorCode.ContainerExists);
    expect(e.message).toContain('lab-2 (paused)');
    expect(e.message).toContain('ferry rm kv1');
    expect(e).toBeInstanceOf(FerryError);
  });
});
