/**
 * The copy of a bundle to a host, for real: rsync over SSH into an sshd of this test's own (on
 * 127.0.0.1, in a private mount namespace so that its /run/sshd touches nothing of the machine),
 * with the host key pinned from the host spec as deployContainer does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, FerryError } from '../../src/errors.ts';
import type { HostSpec } from '../../src/hosts/inventory.ts';
import { runLocal } from '../../src/util/run-local.ts';
import { copyToHost } from '../../src/workloads/deploy.ts';
import { missing } from './helpers.ts';
import { freePort } from '../../src/util/free-port.ts';

const why = missing(['/usr/sbin/sshd', 'ssh-keygen', 'ssh', 'rsync', 'unshare']);

describe.skipIf(why !== null)('copyToHost: rsync over SSH with the host key pinned', () => {
  let dir = '';
  let sshd: ChildProcess | undefined;
  let spec: HostSpec;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hx-images-copy-'));
    await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
    await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')));
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    await writeFile(config, [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
      `PidFile ${join(dir, 'sshd.pid')}`, '',
    ].join('\n'));
    // sshd needs /run/sshd, which this machine's root namespace does not have: a private /run for it alone.
    sshd = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e -f "$1"', 'sh', config], { stdio: 'ignore' });
    await waitForPort(port);
    spec = { name: 'copy-host', address: '127.0.0.1', port, user: 'root', privateKeyFile: join(dir, 'client_key'), hostKey: (await readFile(join(dir, 'host_key.pub'), 'utf8')).trim(), environment: 'local' };
  });

  afterAll(async () => {
    if (sshd && sshd.exitCode === null) {
      const exited = new Promise((r) => sshd!.once('exit', r));
      sshd.kill('SIGTERM');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("copies a bundle with its files' numeric owners, leaves its config.json out and deletes what the source lacks", async () => {
    const src = join(dir, 'bundle');
    await mkdir(join(src, 'rootfs/srv'), { recursive: true });
    await writeFile(join(src, 'config.json'), '{"the user\'s": true}');
    await writeFile(join(src, 'rootfs/srv/data'), 'data\n');
    await chown(join(src, 'rootfs/srv/data'), 4321, 8765);
    const dest = join(dir, 'host/var/lib/ferry/containers/app1');
    await mkdir(dest, { recursive: true });
    await writeFile(join(dest, 'stale'), 'from an earlier deploy');
    await writeFile(join(dest, 'config.json'), 'written by Ferry');

    await copyToHost(spec, src, dest, { excludeConfig: true });
    expect(await readFile(join(dest, 'rootfs/srv/data'), 'utf8')).toBe('data\n');
    const st = await stat(join(dest, 'rootfs/srv/data'));
    expect([st.uid, st.gid]).toEqual([4321, 8765]);
    expect(await readFile(join(dest, 'config.json'), 'utf8')).toBe('written by Ferry');
    expect((await readdir(dest)).sort()).toEqual(['config.json', 'rootfs']);
  });

  it('copies a rootfs into a directory it creates', async () => {
    const src = join(dir, 'rootfs-only');
    await mkdir(join(src, 'bin'), { recursive: true });
    await writeFile(join(src, 'bin/app'), 'x');
    const dest = join(dir, 'host2/containers/app2/rootfs');
    await copyToHost(spec, src, dest);
    expect(await readFile(join(dest, 'bin/app'), 'utf8')).toBe('x');
  });

  it('refuses a host whose key is not the recorded one', async () => {
    await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other_key')]);
    const other = (await readFile(join(dir, 'other_key.pub'), 'utf8')).trim();
    const e = await copyToHost({ ...spec, hostKey: other }, join(dir, 'bundle'), join(dir, 'host3')).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(FerryError);
    expect((e as FerryError).code).toBe(ErrorCode.DeployFailed);
    expect((e as FerryError).message).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
  });
});

if (why) console.warn(`SKIPPED copyToHost: ${why}`);


async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port }, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port}`);
}
