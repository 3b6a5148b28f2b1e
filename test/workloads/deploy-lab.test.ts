/**
 * LAB TEST (needs root, CRIU >= 4.2 and the namespace lab; `npm test` brings the lab up): bring
 * your own container, end to end through the `ferry` CLI. A busybox rootfs becomes an OCI layout
 * (umoci) and a `docker save`-format archive (skopeo); `ferry deploy img1 --image` runs it on
 * lab-1; a second deploy of the name on lab-2 is refused, naming lab-1; `ferry migrate` moves it
 * with page-server and back with lazy, its instance id and in-memory counter continuing; a second
 * container with an exec health check is moved too (the engine runs that check in the container);
 * `ferry rm` leaves nothing on either host.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationReport } from '../../src/migrate/report.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { clearLab, debris, ferry, httpText, labUp, onHost, provision, runcState } from '../helpers/lab.ts';
import { buildBusyboxImage, IMAGE_PORT } from './busybox-image.ts';
import { missing } from './helpers.ts';

const why = labUnavailable() ?? missing(['skopeo', 'umoci', 'rsync', 'curl']);
skipNote(why, 'test/workloads/deploy-lab.test.ts (lab test: ferry deploy --image, migrate, rm)');

const NAMES = ['img1', 'img2'];
/** img2 listens here: both share their host's network namespace with img1's 8095 during the test. */
const EXEC_PORT = 8096;

async function migrate(name: string, from: string, to: string, method: string): Promise<MigrationReport> {
  const r = await ferry(['migrate', name, '--from', from, '--to', to, '--method', method, '--json']);
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
  return JSON.parse(r.stdout) as MigrationReport;
}

/** Nothing of NAME on HOST: no runc container, no bundle, no pid file or runc log. */
async function nothingOf(host: string, name: string): Promise<void> {
  expect(await runcState(host, name)).toBeNull();
  const left = await onHost(host, ['ls', '-d', `/var/lib/ferry/containers/${name}`, `/run/ferry/${name}.pid`, `/run/ferry/${name}.runc.log`, `/run/ferry/runc/${name}`], { allowFail: true });
  expect(left.trim()).toBe('');
}

describe.skipIf(why !== null)('LAB: ferry deploy --image, ferry migrate, ferry rm', () => {
  let dir = '';
  let archive = '';

  beforeAll(async () => {
    await labUp(2);
    await provision();
    await clearLab(NAMES);
    dir = await mkdtemp(join(tmpdir(), 'hx-deploy-lab-'));
    archive = await buildBusyboxImage(dir);
  });

  afterAll(async () => {
    await clearLab(NAMES).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('deploys a docker-save archive on lab-1 and waits until it is healthy', async () => {
    const r = await ferry(['deploy', 'img1', '--image', archive, '--on', 'lab-1', '--port', String(IMAGE_PORT), '--health', `http:${IMAGE_PORT}:/`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { name: string; host: string; ports: number[]; health: string; movable: { blockers: unknown[] } };
    expect(out).toMatchObject({ name: 'img1', host: 'lab-1', ports: [IMAGE_PORT], health: `HTTP GET :${IMAGE_PORT}/` });
    expect(out.movable.blockers).toEqual([]);
    expect(await runcState('lab-1', 'img1')).toBe('running');
    expect(await httpText('lab-1', IMAGE_PORT, '/')).toBe('img1');
    expect(await httpText('lab-1', IMAGE_PORT, '/cgi-bin/instance')).toMatch(/^[0-9a-f-]{36}$/);
    const config = JSON.parse(await onHost('lab-1', ['cat', '/var/lib/ferry/containers/img1/config.json'])) as { linux: { cgroupsPath: string }; annotations: Record<string, string>; process: { terminal: boolean } };
    expect(config.linux.cgroupsPath).toBe('/ferry/lab-1/img1');
    expect(config.process.terminal).toBe(false);
    expect(config.annotations).toMatchObject({ 'org.ferry.health': `http:${IMAGE_PORT}:/`, 'org.ferry.ports': String(IMAGE_PORT), 'org.criu.config': '/usr/local/libexec/ferry/criu.conf' });
  });

  it('refuses the same name on another host, naming where it runs, and touches nothing there', async () => {
    const r = await ferry(['deploy', 'img1', '--image', archive, '--on', 'lab-2', '--port', String(IMAGE_PORT)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('img1 already exists on lab-1 (running)');
    expect(r.stderr).toContain('[ferry_container_exists]');
    await nothingOf('lab-2', 'img1');
    expect(await runcState('lab-1', 'img1')).toBe('running');
  });

  for (const [method, from, to] of [
    ['page-server', 'lab-1', 'lab-2'],
    ['lazy', 'lab-2', 'lab-1'],
  ] as const) {
    it(`moves it ${from} → ${to} with ${method}: the same process, its counter continuing`, async () => {
      const instance = await httpText(from, IMAGE_PORT, '/cgi-bin/instance');
      const before = Number(await httpText(from, IMAGE_PORT, '/cgi-bin/counter'));
      const report = await migrate('img1', from, to, method);
      expect(report).toMatchObject({ outcome: 'migrated', method, runsOn: to, container: 'img1' });
      expect(report.health).toContain(`HTTP GET :${IMAGE_PORT}/`);
      expect(await httpText(to, IMAGE_PORT, '/cgi-bin/instance')).toBe(instance);
      expect(Number(await httpText(to, IMAGE_PORT, '/cgi-bin/counter'))).toBeGreaterThanOrEqual(before);
      expect(await runcState(to, 'img1')).toBe('running');
      expect(await runcState(from, 'img1')).toBeNull();
      expect(await debris(from)).toEqual([]);
      expect(await debris(to)).toEqual([]);
    });
  }

  it('moves a container whose health check runs in it (exec), and the check is what the engine ran', async () => {
    const d = await ferry(['deploy', 'img2', '--image', archive, '--on', 'lab-2', '--env', `PORT=${EXEC_PORT}`, '--port', String(EXEC_PORT), '--health', 'exec:test -s /tmp/instance']);
    expect(d.code, d.stderr).toBe(0);
    const instance = await httpText('lab-2', EXEC_PORT, '/cgi-bin/instance');
    const report = await migrate('img2', 'lab-2', 'lab-1', 'page-server');
    expect(report.health).toBe('exit 0 from ["test","-s","/tmp/instance"] run in the container');
    expect(await httpText('lab-1', EXEC_PORT, '/cgi-bin/instance')).toBe(instance);
    const r = await ferry(['rm', 'img2']);
    expect(r.code, r.stderr).toBe(0);
    await nothingOf('lab-1', 'img2');
  });

  it('ferry rm removes it and its files, wherever it runs; a second rm finds nothing', async () => {
    const r = await ferry(['rm', 'img1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('removed img1 from lab-1 (was running)');
    for (const h of ['lab-1', 'lab-2']) await nothingOf(h, 'img1');
    const again = await ferry(['rm', 'img1']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[ferry_container_not_found]');
  });
});
