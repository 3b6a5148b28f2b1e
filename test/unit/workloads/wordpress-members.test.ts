import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { healthSpecFromConfig } from '../../../src/migrate/health.ts';
import { groupOf } from '../../../src/workloads/group.ts';
import { findRefusals } from '../../../src/workloads/refusals.ts';
import { memberNames, wordpressMembers } from '../../../src/workloads/wordpress/members.ts';
import { WORDPRESS_CRIU_CONFIG } from '../../../src/workloads/wordpress/spec.ts';
import { catchFerry } from '../catch-ferry.ts';

const criuConfigText = readFileSync(WORDPRESS_CRIU_CONFIG, 'utf8');
const members = (over: Partial<Parameters<typeof wordpressMembers>[0]> = {}) =>
  wordpressMembers({ name: 'blog', host: 'lab-1', dbPassword: 'pw-12345678', criuConfigText, ...over });

describe('memberNames', () => {
  it('names the two containers after the group', () => {
    expect(memberNames('blog')).toEqual({ db: 'blog-db', web: 'blog-web' });
  });

  it('refuses a group name whose -web would be too long, and invalid names', () => {
    expect(memberNames('a'.repeat(27)).web).toHaveLength(31);
    expect(catchFerry(() => memberNames('a'.repeat(28)), ErrorCode.InvalidName).message).toContain('at most 27 characters');
    catchFerry(() => memberNames('Blog'), ErrorCode.InvalidName);
  });
});

describe('wordpressMembers', () => {
  it('gives the database first, then the web container, as one group in that order', () => {
    const [db, web] = members();
    expect([db!.role, web!.role]).toEqual(['db', 'web']);
    expect([db!.spec.name, web!.spec.name]).toEqual(['blog-db', 'blog-web']);
    expect([db!.rootfs, web!.rootfs]).toEqual(['mariadb', 'wordpress']);
    expect(groupOf(db!.spec.config)).toEqual({ name: 'blog', order: 0 });
    expect(groupOf(web!.spec.config)).toEqual({ name: 'blog', order: 1 });
  });

  it('builds on Ferry container spec: cgroup path per host, the host network, health and ports the engine reads back', () => {
    const [db, web] = members({ dbPort: 13306, webPort: 18081 });
    for (const m of [db!, web!]) {
      expect(m.spec.config.linux!.cgroupsPath).toBe(`/ferry/lab-1/${m.spec.name}`);
      expect(m.spec.config.linux!.namespaces!.some((n) => n.type === 'network')).toBe(false);
      expect(m.spec.config.process!.terminal).toBe(false);
    }
    expect(healthSpecFromConfig(db!.spec.config)).toEqual({ kind: 'tcp', port: 13306 });
    expect(healthSpecFromConfig(web!.spec.config)).toEqual({ kind: 'http', port: 18081, path: '/' });
    expect([db!.spec.ports, web!.spec.ports]).toEqual([[13306], [18081]]);
    expect(db!.spec.config.annotations!['org.ferry.ports']).toBe('13306');
    expect(web!.spec.config.process!.env).toContain('DB_PORT=13306');
  });

  it('runs each service as its user in an identity user namespace, without /sys', () => {
    const [db, web] = members();
    expect(db!.spec.config.process!.user).toMatchObject({ uid: 999, gid: 999 });
    expect(web!.spec.config.process!.user).toMatchObject({ uid: 33, gid: 33 });
    for (const m of [db!, web!]) {
      expect(m.spec.config.linux!.namespaces!.filter((n) => n.type === 'user')).toEqual([{ type: 'user' }]);
      expect(m.spec.config.linux!.uidMappings).toEqual([{ containerID: 0, hostID: 0, size: 65536 }]);
      expect(m.spec.config.mounts!.some((x) => x.destination === '/sys')).toBe(false);
      // Deployable: nothing in it is refused.
      expect(findRefusals(m.spec.config, m.spec.name)).toEqual([]);
    }
  });

  it('ships the CRIU options (file-locks) in the bundle and names that file', () => {
    for (const m of members()) {
      expect(m.spec.config.annotations!['org.criu.config']).toBe(`/var/lib/ferry/containers/${m.spec.name}/criu.conf`);
      expect(m.files).toEqual([{ name: 'criu.conf', content: criuConfigText }]);
    }
    expect(criuConfigText).toMatch(/^file-locks$/m);
    expect(criuConfigText).toMatch(/^tcp-close$/m);
  });

  it('gives both containers the same database password, and says what it filled in', () => {
    const [db, web] = members();
    expect(db!.spec.config.process!.env).toContain('DB_PASSWORD=pw-12345678');
    expect(web!.spec.config.process!.env).toContain('DB_PASSWORD=pw-12345678');
    expect(web!.spec.changes.join('\n')).toMatch(/user namespace/);
    expect(web!.spec.changes.join('\n')).toMatch(/group blog, order 1/);
  });

  it('refuses a bad host name and the options wordpressContainers refuses', () => {
    catchFerry(() => members({ host: 'lab_1' }), ErrorCode.InvalidName);
    catchFerry(() => members({ webPort: 80 }), ErrorCode.UsageError);
  });
});
