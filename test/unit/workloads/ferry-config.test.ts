import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { healthSpecFromConfig } from '../../../src/migrate/health.ts';
import { buildFerryConfig, DEFAULT_PATH, type ContainerOptions, type ContainerSource } from '../../../src/workloads/ferry-config.ts';
import type { ImageConfig, OciSpec } from '../../../src/workloads/oci.ts';
import { catchFerry } from '../catch-ferry.ts';

const fixture = (f: string) => JSON.parse(readFileSync(new URL(`./fixtures/${f}`, import.meta.url), 'utf8')) as OciSpec;
/** Written by umoci 0.4.7 (`umoci unpack`) for a busybox image with one exposed port, 8080/tcp. */
const umociConfig = fixture('umoci-unpack-config.json');
/** Written by `runc spec` (runc 1.1.5). */
const runcSpec = fixture('runc-spec-config.json');

const image: ImageConfig = {
  User: 'app',
  Entrypoint: ['/usr/bin/tini', '--'],
  Cmd: ['/app/server', '--listen', ':8080'],
  Env: ['PATH=/app/bin:/usr/bin:/bin', 'MODE=prod', 'EMPTY='],
  WorkingDir: '/app',
  ExposedPorts: { '8080/tcp': {} },
};
const imageSource = (over: Partial<ImageConfig> = {}): ContainerSource => ({ kind: 'image', image: { ...image, ...over }, user: { uid: 1000, gid: 1000, additionalGids: [1000, 27] } });
const opts = (over: Partial<ContainerOptions> = {}): ContainerOptions => ({ name: 'app1', host: 'lab-1', ...over });

describe('buildFerryConfig from an image', () => {
  const spec = buildFerryConfig(imageSource(), opts());
  const c = spec.config;

  it('runs the entrypoint with the cmd, in the workdir, as the resolved user, with the image env', () => {
    expect(c.process!.args).toEqual(['/usr/bin/tini', '--', '/app/server', '--listen', ':8080']);
    expect(c.process!.cwd).toBe('/app');
    expect(c.process!.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 27] });
    expect(c.process!.env).toEqual(['PATH=/app/bin:/usr/bin:/bin', 'MODE=prod', 'EMPTY=']);
  });

  it('fills in what migration needs', () => {
    expect(c.linux!.cgroupsPath).toBe('/ferry/lab-1/app1');
    expect(c.process!.terminal).toBe(false);
    expect(c.annotations!['org.criu.config']).toBe('/usr/local/libexec/ferry/criu.conf');
    expect(c.linux!.namespaces!.map((n) => n.type).sort()).toEqual(['ipc', 'mount', 'pid', 'uts']);
    expect(c.hostname).toBe('app1');
    expect(c.root).toEqual({ path: 'rootfs', readonly: false });
    expect(c.mounts!.some((m) => m.type === 'cgroup')).toBe(false);
  });

  it("checks the image's one exposed TCP port, and says so", () => {
    expect(spec.health).toEqual({ kind: 'tcp', port: 8080 });
    expect(spec.healthSource).toBe('exposed-port');
    expect(spec.healthReason).toContain('8080/tcp');
    expect(c.annotations!['org.ferry.health']).toBe('tcp:8080');
    expect(c.annotations!['org.ferry.ports']).toBe('8080');
    expect(spec.ports).toEqual([8080]);
    expect(healthSpecFromConfig(c)).toEqual(spec.health);
  });

  it('--cmd replaces the cmd and keeps the entrypoint, as docker run does', () => {
    expect(buildFerryConfig(imageSource(), opts({ cmd: ['/app/server', '--debug'] })).config.process!.args).toEqual(['/usr/bin/tini', '--', '/app/server', '--debug']);
  });

  it('runs the cmd alone when there is no entrypoint', () => {
    expect(buildFerryConfig(imageSource({ Entrypoint: null }), opts()).config.process!.args).toEqual(['/app/server', '--listen', ':8080']);
  });

  it('refuses an image with neither entrypoint nor cmd unless --cmd is given', () => {
    const e = catchFerry(() => buildFerryConfig(imageSource({ Entrypoint: null, Cmd: null }), opts()), ErrorCode.BundleInvalid);
    expect(e.message).toContain('--cmd');
    expect(buildFerryConfig(imageSource({ Entrypoint: null, Cmd: null }), opts({ cmd: ['/bin/sh'] })).config.process!.args).toEqual(['/bin/sh']);
  });

  it('gives an image without PATH the usual one, and says so', () => {
    const s = buildFerryConfig(imageSource({ Env: ['A=1'] }), opts());
    expect(s.config.process!.env).toEqual([DEFAULT_PATH, 'A=1']);
    expect(s.changes.join('\n')).toContain('PATH');
  });

  it('reads a relative or missing workdir from /', () => {
    expect(buildFerryConfig(imageSource({ WorkingDir: 'srv/app' }), opts()).config.process!.cwd).toBe('/srv/app');
    expect(buildFerryConfig(imageSource({ WorkingDir: '' }), opts()).config.process!.cwd).toBe('/');
  });

  it('applies --env over the image env and --memory as the limit', () => {
    const s = buildFerryConfig(imageSource(), opts({ env: ['MODE=dev', 'NEW=x'], memoryBytes: 268435456 }));
    expect(s.config.process!.env).toEqual(['PATH=/app/bin:/usr/bin:/bin', 'MODE=dev', 'EMPTY=', 'NEW=x']);
    expect(s.config.linux!.resources!.memory).toEqual({ limit: 268435456 });
    expect(s.config.linux!.resources!.devices).toEqual([{ allow: false, access: 'rwm' }]);
  });

  it('names a custom CRIU options file', () => {
    expect(buildFerryConfig(imageSource(), opts({ criuConfig: '/etc/criu/x.conf' })).config.annotations!['org.criu.config']).toBe('/etc/criu/x.conf');
  });

  it('does not change the image config it was given', () => {
    const src = imageSource();
    const before = JSON.stringify(src);
    buildFerryConfig(src, opts({ env: ['MODE=dev'] }));
    expect(JSON.stringify(src)).toBe(before);
  });
});

describe('the health check', () => {
  it('--health wins over exposed ports', () => {
    const s = buildFerryConfig(imageSource(), opts({ health: { kind: 'http', port: 8080, path: '/healthz' } }));
    expect(s.health).toEqual({ kind: 'http', port: 8080, path: '/healthz' });
    expect(s.healthSource).toBe('option');
    expect(s.config.annotations!['org.ferry.health']).toBe('http:8080:/healthz');
  });

  it('an exec check takes the first service port, and reads back from the annotations', () => {
    const s = buildFerryConfig(imageSource(), opts({ health: { kind: 'exec', argv: ['redis-cli', 'ping'], port: 0 } }));
    expect(s.health).toEqual({ kind: 'exec', argv: ['redis-cli', 'ping'], port: 8080 });
    expect(healthSpecFromConfig(s.config)).toEqual(s.health);
  });

  it('one --port is checked by TCP and replaces the exposed ports', () => {
    const s = buildFerryConfig(imageSource(), opts({ ports: [9000] }));
    expect([s.health, s.healthSource, s.ports]).toEqual([{ kind: 'tcp', port: 9000 }, 'port', [9000]]);
  });

  it('several --port values leave the choice to --health', () => {
    const s = buildFerryConfig(imageSource(), opts({ ports: [80, 443] }));
    expect([s.health.kind, s.healthSource, s.config.annotations!['org.ferry.ports']]).toEqual(['none', 'none', '80,443']);
    expect(s.healthReason).toContain('--health');
  });

  it.each([
    ['several exposed ports', { '80/tcp': {}, '443/tcp': {} }, 'exposes 2 ports'],
    ['one UDP port', { '53/udp': {} }, 'not TCP'],
    ['no port', {}, 'no exposed port'],
  ])('has no check with %s, and says why', (_what, ExposedPorts, why) => {
    const s = buildFerryConfig(imageSource({ ExposedPorts }), opts());
    expect(s.health).toEqual({ kind: 'none' });
    expect(s.healthSource).toBe('none');
    expect(s.healthReason).toContain(why);
    expect(s.config.annotations!['org.ferry.health']).toBe('none');
  });

  it('an exposed port without protocol is TCP', () => {
    expect(buildFerryConfig(imageSource({ ExposedPorts: { '8081': {} } }), opts()).health).toEqual({ kind: 'tcp', port: 8081 });
  });

  it('never turns FERRY_PORT into a check (the trap of issue 13)', () => {
    const s = buildFerryConfig(imageSource({ ExposedPorts: {} }), opts({ env: ['FERRY_PORT=8080'] }));
    expect(s.health).toEqual({ kind: 'none' });
    expect(healthSpecFromConfig(s.config)).toEqual({ kind: 'none' });
    expect(s.changes.join('\n')).toContain('FERRY_PORT');
  });
});

describe('buildFerryConfig from a bundle', () => {
  it("normalises umoci's bundle: host network, no cgroup mount, Ferry's cgroup and annotations, its exposed port checked", () => {
    const s = buildFerryConfig({ kind: 'bundle', config: umociConfig }, opts());
    const c = s.config;
    expect(c.linux!.namespaces!.some((n) => n.type === 'network')).toBe(false);
    expect(c.mounts!.some((m) => m.destination === '/sys/fs/cgroup')).toBe(false);
    expect(c.linux!.cgroupsPath).toBe('/ferry/lab-1/app1');
    expect(c.annotations!['org.criu.config']).toBe('/usr/local/libexec/ferry/criu.conf');
    expect(c.annotations!['org.opencontainers.image.os']).toBe('linux');
    expect([s.health, s.healthSource]).toEqual([{ kind: 'tcp', port: 8080 }, 'exposed-port']);
    expect(c.process!.args).toEqual(umociConfig.process!.args);
    expect(c.hostname).toBe('umoci-default');
    expect(s.changes.join('\n')).toMatch(/network namespace[\s\S]*cgroup mount|cgroup mount[\s\S]*network namespace/);
  });

  it('keeps terminal true as given (the refusals name it) and does not touch the input', () => {
    const before = JSON.stringify(runcSpec);
    const s = buildFerryConfig({ kind: 'bundle', config: runcSpec }, opts());
    expect(s.config.process!.terminal).toBe(true);
    expect(JSON.stringify(runcSpec)).toBe(before);
  });

  it("reads the bundle's own health annotation (a config.json copied from web1)", () => {
    const copied: OciSpec = { ...runcSpec, annotations: { 'org.ferry.health': 'http:8080:/counter' }, linux: { ...runcSpec.linux, cgroupsPath: '/ferry/lab-1/web1' } };
    const s = buildFerryConfig({ kind: 'bundle', config: copied }, opts());
    expect([s.health, s.healthSource]).toEqual([{ kind: 'http', port: 8080, path: '/counter' }, 'annotation']);
    expect(s.config.linux!.cgroupsPath).toBe('/ferry/lab-1/app1');
    expect(s.changes.join('\n')).toContain('/ferry/lab-1/web1 replaced');
  });

  it('ignores a malformed health annotation and says so', () => {
    const s = buildFerryConfig({ kind: 'bundle', config: { ...runcSpec, annotations: { 'org.ferry.health': 'ftp:21' } } }, opts());
    expect(s.health).toEqual({ kind: 'none' });
    expect(s.changes.join('\n')).toContain("'ftp:21'");
  });

  it('adds the pid, ipc, uts and mount namespaces a bundle lacks', () => {
    const s = buildFerryConfig({ kind: 'bundle', config: { ...runcSpec, linux: { namespaces: [{ type: 'pid' }] } } }, opts());
    expect(s.config.linux!.namespaces).toEqual([{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }]);
    expect(s.changes.filter((c) => c.startsWith('added a'))).toHaveLength(3);
  });

  it('keeps a network namespace joined by path (the refusals name it)', () => {
    const s = buildFerryConfig({ kind: 'bundle', config: { ...runcSpec, linux: { namespaces: [{ type: 'network', path: '/var/run/netns/x' }] } } }, opts());
    expect(s.config.linux!.namespaces).toContainEqual({ type: 'network', path: '/var/run/netns/x' });
  });

  it('replaces process.args with --cmd', () => {
    expect(buildFerryConfig({ kind: 'bundle', config: runcSpec }, opts({ cmd: ['/bin/true'] })).config.process!.args).toEqual(['/bin/true']);
  });

  it.each([['/srv/rootfs'], ['../rootfs'], ['.'], ['a/../../b']])('refuses root.path %j outside the bundle', (path) => {
    catchFerry(() => buildFerryConfig({ kind: 'bundle', config: { ...runcSpec, root: { path } } }, opts()), ErrorCode.BundleInvalid);
  });

  it('normalises root.path inside the bundle', () => {
    expect(buildFerryConfig({ kind: 'bundle', config: { ...runcSpec, root: { path: './fs/' } } }, opts()).config.root!.path).toBe('fs');
  });

  it('refuses a bundle without a process or a command', () => {
    const { process: _p, ...noProcess } = runcSpec;
    catchFerry(() => buildFerryConfig({ kind: 'bundle', config: noProcess as OciSpec }, opts()), ErrorCode.BundleInvalid);
    catchFerry(() => buildFerryConfig({ kind: 'bundle', config: { ...runcSpec, process: { ...runcSpec.process!, args: [] } } }, opts()), ErrorCode.BundleInvalid);
  });
});

describe('buildFerryConfig from a rootfs', () => {
  it('needs --cmd', () => {
    expect(catchFerry(() => buildFerryConfig({ kind: 'rootfs' }, opts()), ErrorCode.BundleInvalid).message).toContain('--cmd');
  });

  it("is Ferry's own workload spec (playbooks/templates/config.json.j2) with the command", (ctx) => {
    const args = ['/bin/sh', '/start.sh'];
    const env = [DEFAULT_PATH, 'FERRY_NAME=app1'];
    const vars = { ferry_name: 'app1', ferry_args: args, ferry_env: env, ferry_cwd: '/', ferry_cgroups_path: '/ferry/lab-1/app1', ferry_criu_config: '/usr/local/libexec/ferry/criu.conf' };
    // Rendered with Jinja2 (Ansible's templating, from ansible-core), as Ansible renders it.
    const render = `import json, sys, jinja2
env = jinja2.Environment(loader=jinja2.FileSystemLoader(sys.argv[1]))
env.filters['to_json'] = json.dumps
print(env.get_template('config.json.j2').render(**json.loads(sys.argv[2])))`;
    let rendered: string;
    try {
      rendered = execFileSync('python3', ['-c', render, new URL('../../../playbooks/templates', import.meta.url).pathname, JSON.stringify(vars)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      ctx.skip(`python3 with jinja2 (ansible-core's dependency) is needed to render the template: ${(e as Error).message.split('\n')[0]}`);
      return;
    }
    const s = buildFerryConfig({ kind: 'rootfs' }, opts({ cmd: args, env: ['FERRY_NAME=app1'] }));
    const { 'org.ferry.health': health, ...annotations } = s.config.annotations!;
    expect(health).toBe('none');
    expect({ ...s.config, annotations }).toEqual(JSON.parse(rendered));
  });
});
