import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { healthSpecFromConfig } from '../../../src/migrate/health.ts';
import { parseBuildOutput } from '../../../src/workloads/wordpress/rootfs.ts';
import {
  applyWordpressContainer,
  generateDbPassword,
  validateDbPassword,
  wordpressContainers,
  WORDPRESS_CRIU_CONFIG,
  type OciSpec,
} from '../../../src/workloads/wordpress/spec.ts';
import { catchFerry } from '../catch-ferry.ts';

const env = (list: string[]) => Object.fromEntries(list.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

describe('wordpressContainers', () => {
  it('gives both containers the password, and the web container the database port', () => {
    const c = wordpressContainers({ dbPassword: 'pw-12345678', dbPort: 13306, webPort: 18081 });
    expect(env(c.db.env)).toMatchObject({ DB_PORT: '13306', DB_PASSWORD: 'pw-12345678', DB_NAME: 'wordpress', DB_USER: 'wordpress' });
    expect(env(c.web.env)).toMatchObject({ WP_PORT: '18081', DB_HOST: '127.0.0.1', DB_PORT: '13306', DB_PASSWORD: 'pw-12345678' });
    expect(c.db.args).toEqual(['/usr/local/sbin/ferry-db-start']);
    expect(c.web.args).toEqual(['/usr/local/sbin/ferry-web-start']);
    expect(c.db.user).toEqual({ uid: 999, gid: 999 });
    expect(c.web.user).toEqual({ uid: 33, gid: 33 });
  });

  it('uses the default ports 3306 and 8081', () => {
    const c = wordpressContainers({ dbPassword: 'pw-12345678' });
    expect([c.db.port, c.web.port]).toEqual([3306, 8081]);
    expect([c.db.health, c.web.health]).toEqual(['tcp:3306', 'http:8081:/']);
  });

  it('writes health annotations that Ferry reads as TCP and HTTP checks', () => {
    const c = wordpressContainers({ dbPassword: 'pw-12345678' });
    expect(healthSpecFromConfig({ annotations: { 'org.ferry.health': c.db.health } })).toEqual({ kind: 'tcp', port: 3306 });
    expect(healthSpecFromConfig({ annotations: { 'org.ferry.health': c.web.health } })).toEqual({ kind: 'http', port: 8081, path: '/' });
  });

  it.each([
    [{ dbPassword: 'short' }, /dbPassword/],
    [{ dbPassword: "it's-a-password" }, /dbPassword/],
    [{ dbPassword: 'pw-12345678', webPort: 80 }, /webPort must be a port from 1024/],
    [{ dbPassword: 'pw-12345678', dbPort: 70000 }, /dbPort/],
    [{ dbPassword: 'pw-12345678', dbPort: 9000, webPort: 9000 }, /both 9000/],
    [{ dbPassword: 'pw-12345678', dbHost: 'db; rm -rf /' }, /dbHost/],
    [{ dbPassword: 'pw-12345678', title: 'two\nlines' }, /title/],
  ])('refuses %j', (opts, message) => {
    const e = catchFerry(() => wordpressContainers(opts), ErrorCode.UsageError);
    expect(e.message).toMatch(message);
  });
});

describe('generateDbPassword', () => {
  it('makes passwords the entrypoints accept, different each time', () => {
    const a = generateDbPassword();
    expect(validateDbPassword(a)).toBe(a);
    expect(a).toHaveLength(24);
    expect(generateDbPassword()).not.toBe(a);
  });
});

describe('applyWordpressContainer', () => {
  const base = (): OciSpec => ({
    ociVersion: '1.0.2-dev',
    process: { args: ['/bin/true'], env: [], user: { uid: 0, gid: 0 }, cwd: '/' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/sys', type: 'sysfs', source: 'sysfs' },
    ],
    annotations: { 'org.criu.config': '/usr/local/libexec/ferry/criu.conf' },
    linux: { cgroupsPath: '/ferry/lab-1/wp-db', namespaces: [{ type: 'pid' }, { type: 'mount' }] },
  });

  it('sets the process, user, annotations and an identity user namespace, and drops /sys', () => {
    const c = wordpressContainers({ dbPassword: 'pw-12345678' }).db;
    const spec = applyWordpressContainer(base(), c);
    expect(spec.process).toMatchObject({ args: c.args, env: c.env, user: { uid: 999, gid: 999 }, cwd: '/' });
    expect(spec.annotations).toEqual({ 'org.criu.config': WORDPRESS_CRIU_CONFIG, 'org.ferry.health': 'tcp:3306' });
    expect(spec.linux.namespaces).toEqual([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
    expect(spec.linux.uidMappings).toEqual([{ containerID: 0, hostID: 0, size: 65536 }]);
    expect(spec.linux.gidMappings).toEqual([{ containerID: 0, hostID: 0, size: 65536 }]);
    expect(spec.mounts.map((m) => m.destination)).toEqual(['/proc']);
    expect(spec.linux.cgroupsPath).toBe('/ferry/lab-1/wp-db');
  });

  it('leaves its input alone and adds the user namespace once', () => {
    const b = base();
    const c = wordpressContainers({ dbPassword: 'pw-12345678' }).web;
    const twice = applyWordpressContainer(applyWordpressContainer(b, c, '/etc/criu.conf'), c, '/etc/criu.conf');
    expect(twice.linux.namespaces.filter((n) => n.type === 'user')).toHaveLength(1);
    expect(twice.annotations?.['org.criu.config']).toBe('/etc/criu.conf');
    expect(b).toEqual(base());
  });
});

describe('parseBuildOutput', () => {
  it('reads the FERRY_ROOTFS lines and ignores the rest', () => {
    const out = [
      '[build-rootfs] mariadb: cached',
      'FERRY_ROOTFS mariadb /var/cache/ferry/rootfs/mariadb-0123456789abcdef.tar.zst 0',
      'FERRY_ROOTFS wordpress /var/cache/ferry/rootfs/wordpress-fedcba9876543210.tar.zst 1',
      'FERRY_ROOTFS mysql /x.tar.zst 1',
      'FERRY_ROOTFS wordpress relative.tar.zst 1',
    ].join('\n');
    expect(parseBuildOutput(out)).toEqual([
      { kind: 'mariadb', path: '/var/cache/ferry/rootfs/mariadb-0123456789abcdef.tar.zst', built: false },
      { kind: 'wordpress', path: '/var/cache/ferry/rootfs/wordpress-fedcba9876543210.tar.zst', built: true },
    ]);
  });
});
