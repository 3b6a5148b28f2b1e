import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHASE_COLUMNS } from '../../src/migrate/clock.ts';
import { MigrationEvents, type MigrationEvent } from '../../src/migrate/events.ts';
import { MigrationEngine } from '../../src/migrate/MigrationEngine.ts';
import type { MigrationReport } from '../../src/migrate/report.ts';
import { newMigrationId } from '../../src/migrate/request.ts';
import { runMigration } from '../../src/app/migrate.ts';
import { BUILTIN_METHODS } from '../../src/migrate/methods/builtin.ts';
import { MethodRegistry } from '../../src/migrate/methods/registry.ts';
import { DumpCopy } from '../../src/migrate/strategies/DumpCopy.ts';
import { labUnavailable, skipNote } from '../helpers/env.ts';
import { address, clearLab, config, debris, deploy, ferry, hostsFile, httpText, labDown, labUp, onHost, provision, runcState } from '../helpers/lab.ts';

const why = labUnavailable();
skipNote(why, 'real migrations in the namespace lab');

const redis = async (host: string, ...args: string[]) => execFileSync('redis-cli', ['-h', await address(host), ...args], { encoding: 'utf8' }).trim();

async function migrateCli(name: string, from: string, to: string, method: string): Promise<MigrationReport> {
  const r = await ferry(['migrate', name, '--from', from, '--to', to, '--method', method, '--json']);
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
  return JSON.parse(r.stdout) as MigrationReport;
}

describe.skipIf(why !== null)('live migration between lab hosts', () => {
  beforeAll(async () => {
    await labUp(2);
    await provision();
    await clearLab(); // a known state, whatever ran before (npm start's demo moves web1 around)
    await deploy('lab-1', { workload: 'web', name: 'web1', ballast_mib: 256, dirty_mib_per_s: 1, port: 8080 });
    await deploy('lab-1', { workload: 'kv', name: 'kv1', kv_mib: 32, port: 6379 });
  });
  afterAll(async () => {
    await labDown();
  });

  for (const [method, from, to] of [
    ['page-server', 'lab-1', 'lab-2'],
    ['normal', 'lab-2', 'lab-1'],
    ['lazy', 'lab-1', 'lab-2'],
    ['page-server', 'lab-2', 'lab-1'],
  ] as const) {
    it(`moves the 256 MiB web container ${from} → ${to} with ${method}, its counter continuing`, async () => {
      const instance = await httpText(from, 8080, '/instance');
      const before = Number(await httpText(from, 8080, '/counter'));
      const report = await migrateCli('web1', from, to, method);
      expect(report).toMatchObject({ outcome: 'migrated', method, runsOn: to, container: 'web1' });
      for (const c of PHASE_COLUMNS) expect(report.times).toHaveProperty(c);
      for (const c of ['checkpoint', 'transfer', 'restore', 'downtime', 'total'] as const) expect(report.times[c]).toBeGreaterThan(0);
      expect(report.times.preDump).toBeNull(); // no pre-copy on this kernel
      expect(report.bytes.total).toBeGreaterThan(0);
      if (method !== 'lazy') {
        // All 256 MiB of ballast went through the dump: page server or disk.
        expect(report.criu!.pagesWritten).toBeGreaterThan((256 * 1024 * 1024) / 4096);
        expect(report.bytes.total).toBeGreaterThan(256 * 1024 * 1024);
      }
      if (method === 'page-server') expect(report.bytes.pages).toBeGreaterThan(256 * 1024 * 1024);
      // Same process (not a restart), memory intact, serving on the target.
      expect(await httpText(to, 8080, '/instance')).toBe(instance);
      expect(Number(await httpText(to, 8080, '/counter'))).toBeGreaterThanOrEqual(before);
      expect(await runcState(to, 'web1')).toBe('running');
      expect(await runcState(from, 'web1')).toBeNull();
      expect(await debris(from)).toEqual([]);
      expect(await debris(to)).toEqual([]);
    });
  }

  it('moves the kv container with every key written before the freeze', async () => {
    const keysBefore = Number(await redis('lab-1', 'dbsize'));
    const marker = await redis('lab-1', 'get', 'ferry:marker');
    await redis('lab-1', 'set', 'written-just-before', 'the-freeze');
    const sample = await redis('lab-1', 'get', 'ferry:1234');
    const report = await migrateCli('kv1', 'lab-1', 'lab-2', 'page-server');
    expect(report.outcome).toBe('migrated');
    expect(report.health).toMatch(/Redis PING/);
    expect(Number(await redis('lab-2', 'dbsize'))).toBe(keysBefore + 1);
    expect(await redis('lab-2', 'get', 'ferry:marker')).toBe(marker);
    expect(await redis('lab-2', 'get', 'written-just-before')).toBe('the-freeze');
    expect(await redis('lab-2', 'get', 'ferry:1234')).toBe(sample);
    const back = await migrateCli('kv1', 'lab-2', 'lab-1', 'lazy');
    expect(back.outcome).toBe('migrated');
    expect(await redis('lab-1', 'get', 'written-just-before')).toBe('the-freeze');
    expect(Number(await redis('lab-1', 'dbsize'))).toBe(keysBefore + 1);
  });

  it('refuses pre-copy before the freeze where the kernel has no soft-dirty tracking', async () => {
    const caps = JSON.parse((await ferry(['hosts', '--json'])).stdout) as { softDirty: boolean }[];
    if (caps[0]!.softDirty) return; // a kernel with soft-dirty runs pre-copy: the qemu lab tests it
    const instance = await httpText('lab-1', 8080, '/instance');
    const r = await ferry(['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2', '--method', 'precopy']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/soft-dirty/);
    expect(r.stderr).toContain('ferry_method_unsupported');
    expect(r.stderr).not.toMatch(/container frozen/);
    expect(await runcState('lab-1', 'web1')).toBe('running');
    expect(await httpText('lab-1', 8080, '/instance')).toBe(instance);
    expect(await debris('lab-2')).toEqual([]);
  });

  it('runs a method registered through the registry alone (a toy strategy defined here)', async () => {
    // The toy: Normal's moves, plus a count of the strategy calls the engine made. One record, no other change.
    const calls: string[] = [];
    class Toy extends DumpCopy {
      override async checkpoint(ctx: Parameters<DumpCopy['checkpoint']>[0]) {
        calls.push('checkpoint');
        return super.checkpoint(ctx);
      }
      override async restore(ctx: Parameters<DumpCopy['restore']>[0]) {
        calls.push('restore');
        return super.restore(ctx);
      }
    }
    const registry = new MethodRegistry(BUILTIN_METHODS).register({
      name: 'toy',
      title: 'Toy (Normal, counted)',
      summary: 'a method registered by a test',
      needs: { softDirty: false, uffd: false },
      traits: { preCopy: false, pageServer: false, lazy: false },
      bundle: 'freeze',
      create: () => new Toy(false),
    });
    const from = (await runcState('lab-1', 'web1')) === 'running' ? 'lab-1' : 'lab-2';
    const to = from === 'lab-1' ? 'lab-2' : 'lab-1';
    const instance = await httpText(from, 8080, '/instance');
    const report = await runMigration({ id: newMigrationId(), container: 'web1', from, to, method: 'toy' }, { config, registry, provision: false });
    expect(report).toMatchObject({ outcome: 'migrated', method: 'toy', methodTitle: 'Toy (Normal, counted)', runsOn: to });
    expect(calls).toEqual(['checkpoint', 'restore']);
    expect(await httpText(to, 8080, '/instance')).toBe(instance);
    // Put it back where the next test expects it.
    const back = await runMigration({ id: newMigrationId(), container: 'web1', from: to, to: from, method: 'page-server' }, { config, provision: false });
    expect(back.outcome).toBe('migrated');
  });

  it('auto picks the best method the hosts support and says why', async () => {
    const report = await migrateCli('web1', 'lab-1', 'lab-2', 'auto');
    expect(report.method).toBe('page-server');
    expect(report.reason).toMatch(/pre-copy is out/);
    const back = await migrateCli('web1', 'lab-2', 'lab-1', 'auto');
    expect(back.outcome).toBe('migrated');
  });

  it('refuses bad requests with precise errors and touches nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['migrate', 'nope1', '--from', 'lab-1', '--to', 'lab-2'], /no container 'nope1' on lab-1/],
      [['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-9'], /unknown host 'lab-9'/],
      [['migrate', 'Web1;rm', '--from', 'lab-1', '--to', 'lab-2'], /invalid container name/],
      [['migrate', 'web1', '--from', 'lab-1', '--to', 'lab-2', '--method', 'teleport'], /unknown method 'teleport'/],
      [['migrate', 'web1', '--from', 'lab-2', '--to', 'lab-1'], /no container 'web1' on lab-2/],
    ];
    for (const [args, msg] of cases) {
      const r = await ferry(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(msg);
    }
    expect(await runcState('lab-1', 'web1')).toBe('running');
  });

  describe('faults after the freeze roll back to the source', () => {
    const engine = async () => new MigrationEngine(await hostsFile(), config);

    /** After a rollback: the same process runs on the source only, its counter went on, and neither host keeps debris. */
    async function expectStillOn(source: string, target: string, instance: string, before: number): Promise<void> {
      expect(await runcState(source, 'web1')).toBe('running');
      expect(await runcState(target, 'web1')).toBeNull();
      expect(await httpText(source, 8080, '/instance')).toBe(instance);
      expect(Number(await httpText(source, 8080, '/counter'))).toBeGreaterThanOrEqual(before);
      expect(await debris(source)).toEqual([]);
      expect(await debris(target)).toEqual([]);
    }
    const expectStillOnLab1 = (instance: string, before: number) => expectStillOn('lab-1', 'lab-2', instance, before);

    /** A real fault: once frozen, something else takes web1's port on the target, so CRIU cannot restore its socket. */
    function squatPortOnFreeze(events: MigrationEvents, target: string): () => void {
      const squatter = `import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',8080))\ns.listen()\ntime.sleep(120)`;
      let squat: ChildProcess | undefined;
      events.on('event', (e) => {
        if (e.type === 'frozen') squat = spawn('nsenter', [`--net=/run/netns/ferry-${target}`, 'python3', '-c', squatter], { stdio: 'ignore' });
      });
      return () => squat?.kill('SIGKILL');
    }

    it('the target page server killed mid-dump: web1 keeps running on lab-1 with its state', async () => {
      const instance = await httpText('lab-1', 8080, '/instance');
      const before = Number(await httpText('lab-1', 8080, '/counter'));
      const id = `m-fault-ps-${Date.now()}`;
      const events = new MigrationEvents();
      const seen: MigrationEvent[] = [];
      let killed = '';
      events.on('event', (e) => {
        seen.push(e);
        if (e.type === 'frozen') {
          // A real fault: SIGKILL the page server on lab-2 while the dump streams into it.
          void onHost('lab-2', ['pkill', '-9', '-f', `criu page-server --images-dir /var/lib/ferry/images/${id}/`], { allowFail: true }).then((o) => (killed = o || 'sent'));
        }
      });
      const report = await (await engine()).migrate({ container: 'web1', from: 'lab-1', to: 'lab-2', method: 'page-server', id }, { events });
      expect(killed).not.toBe('');
      expect(report.outcome).toBe('rolled-back');
      expect(report.runsOn).toBe('lab-1');
      expect(report.error).toMatch(/checkpoint of web1 failed|page/i);
      expect(seen.some((e) => e.type === 'rollback')).toBe(true);
      await expectStillOnLab1(instance, before);
    });

    it('runc restore failing on the target: web1 is restored on lab-1 with its state', async () => {
      const instance = await httpText('lab-1', 8080, '/instance');
      const before = Number(await httpText('lab-1', 8080, '/counter'));
      const events = new MigrationEvents();
      const unsquat = squatPortOnFreeze(events, 'lab-2');
      try {
        const report = await (await engine()).migrate({ id: newMigrationId(), container: 'web1', from: 'lab-1', to: 'lab-2', method: 'page-server' }, { events });
        expect(report.outcome).toBe('rolled-back');
        expect(report.error).toMatch(/restore failed on lab-2/);
        expect(report.runsOn).toBe('lab-1');
      } finally {
        unsquat();
      }
      await expectStillOnLab1(instance, before);
      // And the container still migrates afterwards: nothing was left to block it.
      const again = await migrateCli('web1', 'lab-1', 'lab-2', 'page-server');
      expect(again.outcome).toBe('migrated');
    });

    it('lazy restore failing on the target: the source CRIU, still serving pages, releases web1 on lab-2', async () => {
      // The memory never left lab-2's frozen tasks: ending that CRIU (never just disconnecting its
      // lazy page server, which it would take for success and kill them) lets them run on.
      const instance = await httpText('lab-2', 8080, '/instance');
      const before = Number(await httpText('lab-2', 8080, '/counter'));
      const events = new MigrationEvents();
      const seen: string[] = [];
      events.on('event', (e) => e.type === 'info' && seen.push(e.message));
      const unsquat = squatPortOnFreeze(events, 'lab-1');
      try {
        const report = await (await engine()).migrate({ id: newMigrationId(), container: 'web1', from: 'lab-2', to: 'lab-1', method: 'lazy' }, { events });
        expect(report.outcome).toBe('rolled-back');
        expect(report.runsOn).toBe('lab-2');
        expect(report.error).toMatch(/restore failed on lab-1/);
      } finally {
        unsquat();
      }
      expect(seen.join('\n')).toMatch(/the lazy dump on lab-2 still holds web1's memory: ending its CRIU lets the container run on from the freeze/);
      await expectStillOn('lab-2', 'lab-1', instance, before);
    });
  });
});
