/**
 * Images in, a running container out: a busybox-static rootfs becomes an OCI layout (umoci) and
 * a `docker save` archive, an OCI archive and a gzip'd archive (skopeo); src/workloads imports each
 * into a bundle; the bundle then runs with runc (our own --root, a cgroup under /ferry-helper and a
 * network namespace of our own), and the preflight and exec health check read the live container.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, FerryError } from '../../src/errors.ts';
import { runLocal } from '../../src/util/run-local.ts';
import { inCgroup } from '../../src/workloads/deploy.ts';
import { probeExec } from '../../src/workloads/health-exec.ts';
import { detectImageFormat } from '../../src/workloads/image.ts';
import type { OciSpec } from '../../src/workloads/oci.ts';
import { containerPids, preflightContainer } from '../../src/workloads/preflight-read.ts';
import { prepareContainer, type PreparedContainer } from '../../src/workloads/prepare.ts';
import { localHost, missing } from './helpers.ts';

const why = missing(['skopeo', 'umoci', 'runc', 'ip', 'nsenter', 'curl', 'tar']) ?? busyboxMissing();
const PORT = 18080;
const opts = { name: 'app1', host: 'lab-1' };

function busyboxMissing(): string | null {
  try {
    return /statically linked|static-pie/.test(execFileSync('file', ['-L', '/bin/busybox'], { encoding: 'utf8' })) ? null : '/bin/busybox is not static (apt-get install busybox-static)';
  } catch {
    try {
      execFileSync('ldd', ['/bin/busybox'], { stdio: 'ignore' });
      return '/bin/busybox is not static (apt-get install busybox-static)';
    } catch {
      return null; // ldd fails on a static binary
    }
  }
}

async function expectFerryError(p: Promise<unknown>, code: ErrorCode): Promise<FerryError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(FerryError);
  expect((e as FerryError).code).toBe(code);
  return e as FerryError;
}

describe.skipIf(why !== null)('images to bundles to a running container', () => {
  let dir = '';
  let n = 0;
  const work = async () => {
    const d = join(dir, `work-${n++}`);
    await mkdir(d);
    return d;
  };
  const layout = () => join(dir, 'layout');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hx-images-'));
    // A busybox-static rootfs, as playbooks/files/mkrootfs.sh builds its web one, with a user of its own.
    const rootfs = join(dir, 'rootfs');
    for (const d of ['bin', 'etc', 'www', 'tmp', 'proc', 'sys', 'dev']) await mkdir(join(rootfs, d), { recursive: true });
    await runLocal('cp', ['/bin/busybox', join(rootfs, 'bin/busybox')]);
    for (const applet of ['sh', 'httpd', 'test', 'cat', 'sleep']) await symlink('busybox', join(rootfs, 'bin', applet));
    await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nwww:x:1000:1000:www:/www:/bin/sh\n');
    await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nwww:x:1000:\n');
    await writeFile(join(rootfs, 'www/index.html'), 'hello from app1\n');
    await chmod(join(rootfs, 'tmp'), 0o1777);

    // An OCI layout with umoci, its config as a Dockerfile would set it.
    const img = `${layout()}:app`;
    await runLocal('umoci', ['init', '--layout', layout()]);
    await runLocal('umoci', ['new', '--image', img]);
    await runLocal('umoci', ['insert', '--image', img, rootfs, '/']);
    await runLocal('umoci', [
      'config', '--image', img,
      '--config.entrypoint', '/bin/busybox',
      '--config.cmd', 'httpd', '--config.cmd', '-f', '--config.cmd', '-p', '--config.cmd', String(PORT), '--config.cmd', '-h', '--config.cmd', '/www',
      '--config.env', 'GREETING=hello world',
      '--config.workingdir', '/www',
      '--config.user', 'www',
      '--config.exposedports', `${PORT}/tcp`,
    ]);
    // The same image in the other formats --image takes.
    await runLocal('skopeo', ['copy', '--quiet', '--insecure-policy', `oci:${img}`, `docker-archive:${join(dir, 'app.tar')}:hx/app:1`]);
    await runLocal('skopeo', ['copy', '--quiet', '--insecure-policy', `oci:${img}`, `oci-archive:${join(dir, 'app-oci.tar')}:app`]);
    await pipeline(createReadStream(join(dir, 'app.tar')), createGzip(), createWriteStream(join(dir, 'app.tar.gz')));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('tells the formats apart', async () => {
    expect(await detectImageFormat(join(dir, 'app.tar'))).toBe('docker-archive');
    expect(await detectImageFormat(join(dir, 'app-oci.tar'))).toBe('oci-archive');
    expect(await detectImageFormat(layout())).toBe('oci');
    expect(await detectImageFormat(join(dir, 'app.tar.gz'))).toBeNull();
  });

  let prepared: PreparedContainer;

  it("imports a docker save archive and honours the image's entrypoint, cmd, env, workdir, user and port", async () => {
    prepared = await prepareContainer({ image: join(dir, 'app.tar') }, opts, await work());
    const c = prepared.spec.config;
    expect(c.process!.args).toEqual(['/bin/busybox', 'httpd', '-f', '-p', String(PORT), '-h', '/www']);
    expect(c.process!.env).toContain('GREETING=hello world');
    expect(c.process!.env!.some((e) => e.startsWith('PATH='))).toBe(true);
    expect(c.process!.cwd).toBe('/www');
    expect(c.process!.user).toMatchObject({ uid: 1000, gid: 1000 });
    expect(c.process!.terminal).toBe(false);
    expect(c.linux!.cgroupsPath).toBe('/ferry/lab-1/app1');
    expect(c.linux!.namespaces!.some((ns) => ns.type === 'network')).toBe(false);
    expect(c.annotations).toMatchObject({ 'org.criu.config': '/usr/local/libexec/ferry/criu.conf', 'org.ferry.health': `tcp:${PORT}`, 'org.ferry.ports': String(PORT) });
    expect([prepared.spec.healthSource, prepared.spec.healthReason]).toEqual(['exposed-port', `TCP connect to the image's one exposed port ${PORT}/tcp`]);
    expect(prepared.upload.into).toBe('rootfs');
    expect(await readFile(join(prepared.upload.localDir, 'www/index.html'), 'utf8')).toBe('hello from app1\n');
    expect(prepared.image).toMatchObject({ format: 'docker-archive', platform: { os: 'linux' }, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
  });

  it.each([['an OCI archive', 'app-oci.tar', 'oci-archive'], ['an OCI layout', 'layout', 'oci'], ["a gzip'd docker archive", 'app.tar.gz', 'docker-archive']])(
    'imports %s to the same config',
    async (_what, file, format) => {
      const p = await prepareContainer({ image: join(dir, file) }, opts, await work());
      expect(p.image!.format).toBe(format);
      expect(p.spec.config).toEqual(prepared.spec.config);
    },
  );

  it('applies the options over the image', async () => {
    const p = await prepareContainer({ image: join(dir, 'app.tar') }, { ...opts, env: ['GREETING=hi'], cmd: ['sleep', '1000'], memoryBytes: 64 * 1024 * 1024, health: { kind: 'exec', argv: ['test', '-s', '/www/index.html'], port: 0 } }, await work());
    expect(p.spec.config.process!.args).toEqual(['/bin/busybox', 'sleep', '1000']);
    expect(p.spec.config.process!.env).toContain('GREETING=hi');
    expect(p.spec.config.linux!.resources!.memory!.limit).toBe(64 * 1024 * 1024);
    expect(p.spec.health).toEqual({ kind: 'exec', argv: ['test', '-s', '/www/index.html'], port: PORT });
  });

  it('picks one image of several with a reference, and asks for one otherwise', async () => {
    const several = join(dir, 'several');
    await runLocal('skopeo', ['copy', '--quiet', '--insecure-policy', `oci:${layout()}:app`, `oci:${several}:one`]);
    await runLocal('skopeo', ['copy', '--quiet', '--insecure-policy', `oci:${layout()}:app`, `oci:${several}:two`]);
    expect((await prepareContainer({ image: several, ref: 'two' }, opts, await work())).spec.config.process!.args![0]).toBe('/bin/busybox');
    await expectFerryError(prepareContainer({ image: several }, opts, await work()), ErrorCode.ImageInvalid);
  });

  it('refuses what is not an image, with the reason', async () => {
    await writeFile(join(dir, 'not.tar'), 'plain text');
    expect((await expectFerryError(prepareContainer({ image: join(dir, 'not.tar') }, opts, await work()), ErrorCode.ImageInvalid)).message).toContain('not a tar archive');
    expect((await expectFerryError(prepareContainer({ image: join(dir, 'rootfs') }, opts, await work()), ErrorCode.ImageInvalid)).message).toContain('--rootfs');
    await expectFerryError(prepareContainer({ image: join(dir, 'missing.tar') }, opts, await work()), ErrorCode.ImageInvalid);
  });

  it('takes a bundle, normalised, and refuses its host bind mount', async () => {
    const bundle = join(dir, 'bundle');
    await runLocal('umoci', ['unpack', '--image', `${layout()}:app`, bundle]);
    const own = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as OciSpec;
    // umoci writes terminal true: the operator sets it false, as the refusal says.
    own.process!.terminal = false;
    await writeFile(join(bundle, 'config.json'), JSON.stringify(own));
    const p = await prepareContainer({ bundle }, opts, await work());
    expect(p.upload).toEqual({ localDir: bundle, into: 'bundle' });
    expect(p.spec.config.process!.args).toEqual(own.process!.args);
    expect(p.spec.config.linux!.namespaces!.some((ns) => ns.type === 'network')).toBe(false);
    expect([p.spec.health, p.spec.healthSource]).toEqual([{ kind: 'tcp', port: PORT }, 'exposed-port']);

    own.process!.terminal = true;
    own.mounts!.push({ destination: '/data', type: 'bind', source: '/srv', options: ['rbind'] });
    await writeFile(join(bundle, 'config.json'), JSON.stringify(own));
    const e = await expectFerryError(prepareContainer({ bundle }, opts, await work()), ErrorCode.RefusedTerminal);
    expect((e.details!.refusals as { code: string }[]).map((r) => r.code)).toEqual([ErrorCode.RefusedTerminal, ErrorCode.RefusedBindMount]);
    await expectFerryError(prepareContainer({ bundle: join(dir, 'rootfs') }, opts, await work()), ErrorCode.BundleInvalid);
  });

  it('takes a rootfs with --cmd, and checks the command is in it', async () => {
    const p = await prepareContainer({ rootfs: join(dir, 'rootfs') }, { ...opts, cmd: ['/bin/sh', '-c', 'sleep 1000'] }, await work());
    expect(p.upload).toEqual({ localDir: join(dir, 'rootfs'), into: 'rootfs' });
    expect(p.spec.healthSource).toBe('none');
    await expectFerryError(prepareContainer({ rootfs: join(dir, 'rootfs') }, { ...opts, cmd: ['/usr/bin/nope'] }, await work()), ErrorCode.BundleInvalid);
  });

  describe('the imported bundle runs with runc', () => {
    const id = `hx-images-${process.pid}`;
    const netns = id;
    const cgroupsPath = `/ferry-helper/images-${process.pid}`;
    let runcRoot = '';
    let config: OciSpec;
    let pid = 0;
    const runc = (...args: string[]) => runLocal('runc', ['--root', runcRoot, ...args], { timeoutMs: 60_000 });

    beforeAll(async () => {
      runcRoot = join(dir, 'runc');
      const bundle = join(dir, 'run-bundle');
      await mkdir(bundle);
      // Ferry's config with three changes for this machine: the rootfs where it was unpacked, a
      // cgroup outside /ferry, and a network namespace of this test's (the lab owns the host's ports).
      config = structuredClone(prepared.spec.config);
      config.root = { path: prepared.upload.localDir, readonly: false };
      config.linux!.cgroupsPath = cgroupsPath;
      config.linux!.namespaces!.push({ type: 'network', path: `/run/netns/${netns}` });
      await writeFile(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
      await runLocal('ip', ['netns', 'add', netns]);
      await runLocal('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
      // Started as Ferry's hosts start containers: through the detached helper (stdio on /dev/null).
      const detached = new URL('../../playbooks/files/detached', import.meta.url).pathname;
      await runLocal('sh', [detached, 'runc', '--root', runcRoot, '--log', join(dir, 'runc.log'), 'run', '-d', '--pid-file', join(dir, 'app.pid'), '--bundle', bundle, id], { cwd: bundle, timeoutMs: 60_000 });
      pid = Number((await readFile(join(dir, 'app.pid'), 'utf8')).trim());
    });

    afterAll(async () => {
      if (runcRoot) await runLocal('runc', ['--root', runcRoot, 'delete', '--force', id]).catch(() => undefined);
      await runLocal('ip', ['netns', 'del', netns]).catch(() => undefined);
      // Other helpers may use /ferry-helper too: remove it only where it is empty.
      for (const c of ['freezer', 'memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'devices', 'systemd', 'unified']) {
        await runLocal('rmdir', [`/sys/fs/cgroup/${c}/ferry-helper`]).catch(() => undefined);
      }
    });

    it('serves HTTP as the image said: its user, workdir, env and cgroup', async () => {
      let body = '';
      for (let i = 0; i < 100 && !body; i++) {
        body = (await runLocal('nsenter', [`--net=/run/netns/${netns}`, 'curl', '-s', '-m', '2', `http://127.0.0.1:${PORT}/index.html`], { okCodes: [0, 7, 28] })).stdout;
        if (!body) await new Promise((r) => setTimeout(r, 100));
      }
      expect(body).toBe('hello from app1'); // runLocal drops the final newline
      expect((await runc('state', id)).stdout).toContain('"status": "running"');
      expect(await readFile(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+1000\s+1000/m);
      expect(await readlink(`/proc/${pid}/cwd`)).toBe('/www');
      expect((await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0')).toContain('GREETING=hello world');
      expect(inCgroup(await readFile(`/proc/${pid}/cgroup`, 'utf8'), cgroupsPath)).toBe(true);
    });

    it('passes and fails exec health checks in the container', async () => {
      expect(await probeExec(localHost, id, { kind: 'exec', argv: ['test', '-s', '/www/index.html'], port: PORT }, { runcRoot })).toBe(true);
      expect(await probeExec(localHost, id, { kind: 'exec', argv: ['test', '-e', '/www/missing'], port: PORT }, { runcRoot })).toBe(false);
    });

    it('finds nothing CRIU cannot dump in it, and sizes its dump', async () => {
      expect(await containerPids(localHost, cgroupsPath)).toEqual([pid]);
      const pre = await preflightContainer(localHost, id, { config, cgroupsPath });
      expect(pre.pids).toEqual([pid]);
      expect(pre.tree.processes[0]).toMatchObject({ pid, name: 'busybox' });
      // The mounts runc made from the config, as the container sees them, are all explained.
      expect(pre.tree.mounts.map((m) => m.mountPoint)).toEqual(expect.arrayContaining(['/', '/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys']));
      expect(pre.blockers).toEqual([]);
      expect(pre.estimate.processes).toBe(1);
      expect(pre.estimate.pageBytes).toBeGreaterThan(0);
      // A mount made into the running container from outside, which its config does not name: refused.
      const inside = ['nsenter', '--target', String(pid), '--mount', '--root', '/bin/busybox'];
      await runLocal(inside[0]!, [...inside.slice(1), 'mount', '--bind', '/www', '/tmp']);
      try {
        const refused = (await preflightContainer(localHost, id, { config, cgroupsPath })).blockers;
        expect(refused).toEqual([{ code: ErrorCode.RefusedMount, reason: expect.stringMatching(/mount of .* at \/tmp is not in the container's config/) }]);
      } finally {
        await runLocal(inside[0]!, [...inside.slice(1), 'umount', '/tmp']);
      }
    });
  });
});

if (why) console.warn(`SKIPPED images to bundles to a running container: ${why}`);
