/**
 * Exec health checks as the engine runs them after a restore (waitHealthy with a HealthTarget):
 * a busybox container started by runc as Ferry starts its containers (its own --root, a cgroup
 * under /ferry-helper, the host's network namespace: it opens no port), the check run in it with
 * `runc exec` through the same argument arrays RemoteHost sends over SSH (helpers.ts localHost).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitHealthy, type HealthSpec, type HealthTarget } from '../../src/migrate/health.ts';
import { runLocal } from '../../src/util/run-local.ts';
import { buildFerryConfig } from '../../src/workloads/ferry-config.ts';
import { localHost, missing } from './helpers.ts';

function busyboxMissing(): string | null {
  try {
    execFileSync('ldd', ['/bin/busybox'], { stdio: 'ignore' });
    return '/bin/busybox is not static (apt-get install busybox-static)';
  } catch {
    return null; // ldd fails on a static binary (or there is no ldd: runc will say)
  }
}

const why = missing(['runc', 'ldd']) ?? busyboxMissing();
if (why) console.warn(`SKIPPED exec health checks in a runc container: ${why}`);

describe.skipIf(why !== null)('exec health checks in a runc container', () => {
  const id = `hx-health-${process.pid}`;
  const cgroupsPath = `/ferry-helper/health-${process.pid}`;
  let dir = '';
  let rootfs = '';
  let target: HealthTarget;
  const ready: HealthSpec = { kind: 'exec', argv: ['test', '-e', '/tmp/ready'], port: 0 };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hx-health-'));
    rootfs = join(dir, 'bundle', 'rootfs');
    for (const d of ['bin', 'tmp', 'proc', 'dev', 'sys']) await mkdir(join(rootfs, d), { recursive: true });
    await runLocal('cp', ['/bin/busybox', join(rootfs, 'bin/busybox')]);
    for (const applet of ['sh', 'sleep', 'test']) await symlink('busybox', join(rootfs, 'bin', applet));
    const config = buildFerryConfig({ kind: 'rootfs' }, { name: id, host: 'lab-1', cmd: ['/bin/sleep', '1000'] }).config;
    config.linux!.cgroupsPath = cgroupsPath; // not /ferry/…: the lab's
    await writeFile(join(dir, 'bundle', 'config.json'), JSON.stringify(config, null, 2));
    const runcRoot = join(dir, 'runc');
    const detached = new URL('../../playbooks/files/detached', import.meta.url).pathname;
    await runLocal('sh', [detached, 'runc', '--root', runcRoot, '--log', join(dir, 'runc.log'), 'run', '-d', '--bundle', join(dir, 'bundle'), id], { cwd: join(dir, 'bundle'), timeoutMs: 60_000 });
    target = { address: '127.0.0.1', exec: { host: localHost, name: id, runcRoot } };
  });

  afterAll(async () => {
    if (target) await runLocal('runc', ['--root', target.exec!.runcRoot!, 'delete', '--force', id]).catch(() => undefined);
    for (const c of ['freezer', 'memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'devices', 'systemd', 'unified']) {
      await runLocal('rmdir', [`/sys/fs/cgroup/${c}${cgroupsPath}`]).catch(() => undefined);
      await runLocal('rmdir', [`/sys/fs/cgroup/${c}/ferry-helper`]).catch(() => undefined); // only where empty: other helpers use it too
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails while the command exits non-zero in the container, and passes once it exits 0', async () => {
    expect(await waitHealthy(target, ready, 1)).toBeNull();
    const later = new Promise<void>((resolve) => setTimeout(() => void writeFile(join(rootfs, 'tmp/ready'), '').then(() => resolve()), 500));
    const waited = await waitHealthy(target, ready, 30);
    await later;
    expect(waited).not.toBeNull();
    expect(waited!).toBeGreaterThan(0);
  });

  it('counts a command that hangs as failing, within the wait', async () => {
    expect(await waitHealthy(target, { kind: 'exec', argv: ['sleep', '30'], port: 0 }, 2)).toBeNull();
  });

  it('does not run an exec check without the host: only an address', async () => {
    await expect(waitHealthy('127.0.0.1', ready, 1)).rejects.toThrow(/runc exec/);
  });
});
