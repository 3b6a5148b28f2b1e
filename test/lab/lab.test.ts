import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { findHost } from '../../src/hosts/inventory.ts';
import { RemoteHost } from '../../src/hosts/RemoteHost.ts';
import { HostLink } from '../../src/migrate/HostLink.ts';
import { config, deploy, ferry, hostsFile, httpText, labDown, labLeftovers, labUp, onHost, provision, runcState } from '../helpers/lab.ts';

const why = labUnavailable();
skipNote(why, 'namespace lab tests');

const sh = (file: string, args: string[]) => execFileSync(file, args, { encoding: 'utf8' });

describe.skipIf(why !== null)('namespace lab', () => {
  beforeAll(async () => {
    await labDown();
    await labUp(2);
  });
  afterAll(async () => {
    await labDown();
  });

  it('renders an inventory that Ansible reaches over real SSH with pinned host keys', async () => {
    const file = await hostsFile();
    expect(file.hosts.map((h) => h.name)).toEqual(['lab-1', 'lab-2']);
    const out = sh('ansible', ['all', '-i', file.inventoryFile, '-m', 'ping', '-o']);
    expect(out).toMatch(/lab-1 \| SUCCESS/);
    expect(out).toMatch(/lab-2 \| SUCCESS/);
    expect(readFileSync(file.inventoryFile, 'utf8')).toContain('StrictHostKeyChecking=yes');
  });

  it('gives each host its own state directory, /root and hostname', async () => {
    await onHost('lab-1', ['touch', '/var/lib/ferry/only-on-lab-1']);
    expect(await onHost('lab-1', ['ls', '/var/lib/ferry'])).toContain('only-on-lab-1');
    expect(await onHost('lab-2', ['ls', '/var/lib/ferry'])).not.toContain('only-on-lab-1');
    expect(existsSync('/var/lib/ferry/only-on-lab-1')).toBe(false);
    expect((await onHost('lab-2', ['hostname'])).trim()).toBe('lab-2');
    await onHost('lab-1', ['rm', '/var/lib/ferry/only-on-lab-1']);
  });

  it('ferry hosts reports CRIU and the kernel features probed over SSH', async () => {
    const r = await ferry(['hosts', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const caps = JSON.parse(r.stdout) as { host: string; criuVersion: string; softDirty: boolean; uffd: boolean }[];
    expect(caps.map((c) => c.host)).toEqual(['lab-1', 'lab-2']);
    const local = JSON.parse(execFileSync('criu', ['check', '--feature', 'uffd'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) ? 'true' : 'false');
    const dirty = (() => {
      try {
        execFileSync('criu', ['check', '--feature', 'mem_dirty_track'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    for (const c of caps) {
      expect(c.criuVersion).toMatch(/^4\.(2|[3-9])/);
      // The lab shares this machine's kernel: the hosts must report exactly what it can do.
      expect(c.softDirty).toBe(dirty);
      expect(c.uffd).toBe(local);
    }
  });

  it('the key pinning refuses a host whose key changed', async () => {
    const file = await hostsFile();
    const { RemoteHost } = await import('../../src/hosts/RemoteHost.ts');
    const other = file.hosts[1]!.hostKey;
    const h = new RemoteHost({ ...file.hosts[0]!, hostKey: other });
    await expect(h.run(['true'])).rejects.toMatchObject({ code: 'ferry_ssh_host_key_mismatch' });
    h.dispose();
  });

  it('provision.yml passes criu check on every host and is idempotent', async () => {
    const first = await provision();
    expect(Object.keys(first).sort()).toEqual(['lab-1', 'lab-2']);
    const second = await provision();
    for (const h of ['lab-1', 'lab-2']) {
      expect(second[h]!.failed).toBe(0);
      expect(second[h]!.changed).toBe(0);
    }
  });

  it("a running container's tree pre-syncs host to host while its files vanish; other rsync failures still fail", async () => {
    const file = await hostsFile();
    const [a, b] = (['lab-1', 'lab-2'] as const).map((n) => new RemoteHost(findHost(file, n)));
    const link = await HostLink.open('t-live-presync', a!, b!);
    const dir = '/var/lib/ferry/live-presync';
    try {
      // 2,000 files of 64 KiB: rsync lists them all first, then takes a while to send them.
      await a!.run(['sh', '-c', `mkdir -p ${dir} && cd ${dir} && head -c 131072000 /dev/urandom | split -b 65536 -a 4`]);
      // What a running container does to its rootfs (CI saw rsync exit 24 on /tmp/counter.new).
      const vanish = a!.run(['sh', '-c', `sleep 0.3; find ${dir} -type f -delete`]);
      await expect(link.push(a!, dir, dir, { delete: true, live: true })).resolves.toBeGreaterThan(0);
      await vanish;
      await expect(link.push(a!, `${dir}-missing`, dir, { live: true })).rejects.toMatchObject({ code: 'ferry_command_failed', details: { code: 23 } });
    } finally {
      await link.close();
      for (const h of [a!, b!]) {
        await h.run(['rm', '-rf', dir]);
        h.dispose();
      }
    }
  });

  it('deploys web (256 MiB) and kv workloads that answer', async () => {
    await deploy('lab-1', { workload: 'web', name: 'web1', ballast_mib: 256, port: 8080 });
    await deploy('lab-1', { workload: 'kv', name: 'kv1', kv_mib: 16, port: 6379 });
    const c1 = Number(await httpText('lab-1', 8080, '/counter'));
    expect(c1).toBeGreaterThan(0);
    const ps = await ferry(['ps', '--json']);
    const list = JSON.parse(ps.stdout) as { host: string; name: string; status: string; memoryBytes: number }[];
    const web = list.find((c) => c.name === 'web1')!;
    expect(web).toMatchObject({ host: 'lab-1', status: 'running' });
    expect(web.memoryBytes).toBeGreaterThan(256 * 1024 * 1024);
    expect(list.find((c) => c.name === 'kv1')).toMatchObject({ host: 'lab-1', status: 'running' });
    const keys = Number(sh('redis-cli', ['-h', (await hostsFile()).hosts[0]!.address, 'dbsize']).trim());
    expect(keys).toBeGreaterThanOrEqual(16 * 1024);
  });

  it('leaves a running container alone unless told to replace it, and names a port already taken', async () => {
    const instance = await httpText('lab-1', 8080, '/instance');
    const again = await ferry(['deploy', 'web', 'web1', '--on', 'lab-1', '--mib', '256']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/web container web1 kept on lab-1: pid \d+.*It was already running: left alone \(its variables are not re-applied; pass -e replace=true to recreate it\)/);
    expect(await httpText('lab-1', 8080, '/instance')).toBe(instance);
    // Another container on web1's port: refused with the reason, and web1 untouched.
    const clash = await ferry(['deploy', 'web', 'web9', '--on', 'lab-1', '--mib', '8', '--port', '8080']);
    expect(clash.code).not.toBe(0);
    expect(clash.stderr).toMatch(/port 8080 on [0-9.]+ is already in use \(by another container or service\): pick another -e port/);
    expect(await runcState('lab-1', 'web9')).toBeNull();
    expect(await httpText('lab-1', 8080, '/instance')).toBe(instance);
  });

  it('recovers hosts whose sshd was killed with SIGKILL', async () => {
    for (const h of ['lab-1', 'lab-2']) {
      const pid = readFileSync(`${config.labDir}/hosts/${h}/sshd.pid`, 'utf8').trim();
      process.kill(Number(pid), 'SIGKILL');
    }
    await new Promise((r) => setTimeout(r, 300));
    const broken = await ferry(['lab', 'status', '--json']);
    expect(broken.code).toBe(1);
    expect((JSON.parse(broken.stdout) as { hosts: { whole: boolean }[] }).hosts.every((s) => !s.whole)).toBe(true);
    await labUp(2);
    const ok = await ferry(['lab', 'status', '--json']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ topology: 'flat', hosts: [{ name: 'lab-1', cloud: 'local' }, { name: 'lab-2', cloud: 'local' }] });
    // The containers kept running and their host state survived the sshd restart.
    expect(Number(await httpText('lab-1', 8080, '/counter'))).toBeGreaterThan(0);
    expect(await onHost('lab-1', ['runc', '--root', '/run/ferry/runc', 'list', '-q'])).toContain('web1');
  });

  it('lab down leaves no namespace, process, mount, cgroup or bridge behind', async () => {
    await labDown();
    expect(labLeftovers()).toEqual([]);
    await labUp(2); // afterAll takes it down again; leave the machine as the next file expects
  });
});
