import { runMigration } from '../../src/app/migrate.ts';
import { ErrorCode, type FerryError } from '../../src/errors.ts';
import { MigrationEvents } from '../../src/migrate/events.ts';
import { newMigrationId } from '../../src/migrate/request.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summary } from '../../src/chat/core/render-summary.ts';
import type { HostCapabilities } from '../../src/hosts/probe.ts';
import { renderReport, type MigrationReport } from '../../src/migrate/report.ts';
import { FULL_SCOPE, qemuUnavailable, skipNote } from '../helpers/env.ts';
import { address, config, debris, deploy, ferry, httpText, labDown, labUp, onHost, provision, runcState } from '../helpers/lab.ts';

// Pre-copy for real: the namespace lab's kernel has no soft-dirty tracking, so these hosts are QEMU
// VMs booting a stock Debian kernel (TCG software emulation, `ferry lab up --provider qemu`). The
// same engine, over the same SSH, runs every pre-copy method on them. Everything is slow under
// emulation (an exec ~50 ms, VM-to-VM TCP ~3 MB/s), so the workload is small: 32 MiB of ballast.
const why = qemuUnavailable();
skipNote(why, 'pre-copy migrations in the QEMU lab');

const MIB = 32;
const PAGES = (MIB * 1024 * 1024) / 4096;
const started = Date.now();

async function migrate(name: string, from: string, to: string, method: string, extra: string[] = []): Promise<{ report: MigrationReport; progress: string }> {
  const r = await ferry(['migrate', name, '--from', from, '--to', to, '--method', method, '--json', ...extra]);
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
  return { report: JSON.parse(r.stdout) as MigrationReport, progress: r.stderr };
}

/** The same process (instance id), its counter continuing, running on the target only, no debris. */
async function expectMoved(name: string, port: number, from: string, to: string, instance: string, before: number): Promise<void> {
  expect(await httpText(to, port, '/instance')).toBe(instance);
  expect(Number(await httpText(to, port, '/counter'))).toBeGreaterThanOrEqual(before);
  expect(await runcState(to, name)).toBe('running');
  expect(await runcState(from, name)).toBeNull();
  expect(await debris(from)).toEqual([]);
  expect(await debris(to)).toEqual([]);
}

/** Every round's pages written and skipped, in the report, the CLI's table and the chat summary. */
function expectRoundsShown(report: MigrationReport, progress: string): void {
  const text = renderReport(report);
  const chat = JSON.stringify(summary(report));
  for (const r of report.rounds) {
    expect(progress).toContain(`pre-copy round ${r.round}: ${r.pagesWritten} pages written, ${r.pagesSkipped} skipped`);
    expect(text).toMatch(new RegExp(`^\\s*${r.round}\\s+${r.pagesWritten}\\s+${r.pagesSkipped}\\s`, 'm'));
    expect(chat).toContain(String(r.pagesWritten));
  }
  expect(chat).toContain('Pages skipped');
  expect(report.precopyStop).toBeTruthy();
  expect(text).toContain(`pre-copy stopped: ${report.precopyStop}`);
}

describe.skipIf(why !== null)('pre-copy in the QEMU lab (stock kernel, soft-dirty tracking)', () => {
  beforeAll(async () => {
    await labDown(); // one lab at a time: they share the bridge and the lab directory
    await labUp(2, 'qemu');
    await provision();
    // Slow dirtying (0.25 MiB/s): rounds shrink, so the final dump is small.
    await deploy('lab-1', { workload: 'web', name: 'web1', ballast_mib: MIB, dirty_mib_per_s: 0.25, port: 8080 });
  }, 900_000); // on a fresh machine this also installs QEMU and fetches the kernel (scripts/qemu-setup.sh)
  afterAll(async () => {
    await labDown();
    console.log(`QEMU lab part: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  it('reports soft-dirty tracking on both VMs', async () => {
    const r = await ferry(['hosts', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const caps = JSON.parse(r.stdout) as HostCapabilities[];
    expect(caps.map((c) => [c.host, c.softDirty])).toEqual([
      ['lab-1', true],
      ['lab-2', true],
    ]);
  });

  /** Round 1 copies all the memory; later rounds only what changed since; the final dump is small. */
  function expectPrecopy(report: MigrationReport, progress: string): void {
    // For the README (issue 14's ratio): the final dump's pages against round 1's.
    const first = report.rounds[0]?.pagesWritten ?? 0;
    console.log(`${report.method} (${MIB} MiB, qemu): round 1 wrote ${first} pages, rounds ${report.rounds.map((r) => r.pagesWritten).join(' → ')}, the final dump ${report.criu?.pagesWritten} (${first ? ((100 * (report.criu?.pagesWritten ?? 0)) / first).toFixed(1) : '?'} %); downtime ${report.times.downtime?.toFixed(2)} s`);
    expect(report.times.preDump).toBeGreaterThan(0);
    expect(report.times.preCopy).toBeGreaterThan(0);
    expect(report.rounds.length).toBeGreaterThanOrEqual(2);
    expect(report.rounds[0]!.pagesWritten).toBeGreaterThan(PAGES);
    expect(report.rounds[0]!.pagesSkipped).toBe(0);
    for (const r of report.rounds.slice(1)) expect(r.pagesSkipped).toBeGreaterThan(PAGES / 2);
    expect(report.criu!.pagesWritten).toBeLessThan(report.rounds[0]!.pagesWritten / 4);
    expect(report.criu!.pagesSkipped).toBeGreaterThan(PAGES / 2);
    if (report.method !== 'precopy') expect(report.bytes.pages).toBeGreaterThan(MIB * 1024 * 1024); // through the page server
    expectRoundsShown(report, progress);
  }

  // In the CI subset, pc-ps-rsync (auto, below) and pc-lazy stand for the pre-copy family; the full
  // run (npm run test:full) moves web1 with precopy and pc-ps too.
  for (const [method, from, to] of [
    ['precopy', 'lab-1', 'lab-2'],
    ['pc-ps', 'lab-2', 'lab-1'],
  ] as const) {
    it.runIf(FULL_SCOPE)(`moves web1 ${from} → ${to} with ${method}: rounds shrink, the final dump is far smaller than round 1`, async () => {
      const instance = await httpText(from, 8080, '/instance');
      const before = Number(await httpText(from, 8080, '/counter'));
      const { report, progress } = await migrate('web1', from, to, method);
      expect(report).toMatchObject({ outcome: 'migrated', method, runsOn: to });
      expectPrecopy(report, progress);
      await expectMoved('web1', 8080, from, to, instance, before);
    });
  }

  // The CI subset moves web1 without clients (the hold server under load is test/migrate/hold.test.ts
  // and the two-cloud lab's); under emulation the clients' requests slow every round. The full run
  // puts HAProxy, the hold server and 10 clients in front.
  it(`auto picks pc-ps-rsync${FULL_SCOPE ? ' and, with HAProxy and the hold server in front, 10 clients see no failure' : ''}`, async () => {
    if (FULL_SCOPE) {
      const front = await ferry(['front', 'web1', '--on', 'lab-1']);
      expect(front.code, front.stderr).toBe(0);
    }
    const instance = await httpText('lab-1', 8080, '/instance');
    const before = Number(await httpText('lab-1', 8080, '/counter'));
    const { report, progress } = await migrate('web1', 'lab-1', 'lab-2', 'auto', FULL_SCOPE ? ['--hold', '--probe', '10'] : []);
    expect(report).toMatchObject({ outcome: 'migrated', method: 'pc-ps-rsync', runsOn: 'lab-2' });
    expect(report.reason).toMatch(/both hosts track dirty memory/);
    expectPrecopy(report, progress);
    if (FULL_SCOPE) {
      expect(report.traffic).toMatch(/^HAProxy on lab-1 with the hold server: \d+ requests held and forwarded, 0 expired, 0 rejected/);
      expect(report.probe!.requests).toBeGreaterThan(100);
      expect(report.probe!.failures).toBe(0);
      // HAProxy on lab-1 now sends its clients to lab-2.
      const r = await fetch(`http://${await address('lab-1')}:80/instance`, { signal: AbortSignal.timeout(10_000) });
      expect((await r.text()).trim()).toBe(instance);
    }
    await expectMoved('web1', 8080, 'lab-1', 'lab-2', instance, before);
  });

  // lazy runs in the namespace lab (test/migrate); on these hosts it is in the full run only.
  it.runIf(FULL_SCOPE)('moves web1 lab-2 → lab-1 with lazy (post-copy) on these hosts too', async () => {
    const instance = await httpText('lab-2', 8080, '/instance');
    const before = Number(await httpText('lab-2', 8080, '/counter'));
    const { report } = await migrate('web1', 'lab-2', 'lab-1', 'lazy');
    expect(report).toMatchObject({ outcome: 'migrated', method: 'lazy', runsOn: 'lab-1' });
    expect(report.criu!.pagesLazy).toBeGreaterThan(0);
    await expectMoved('web1', 8080, 'lab-2', 'lab-1', instance, before);
  });

  it('moves web1 with pc-lazy: pre-copy rounds, then only the pages dirtied since travel lazily', async () => {
    // From wherever the tests before left it (lazy, before this one, runs in the full run only).
    const from = (await runcState('lab-1', 'web1')) === 'running' ? 'lab-1' : 'lab-2';
    const to = from === 'lab-1' ? 'lab-2' : 'lab-1';
    const instance = await httpText(from, 8080, '/instance');
    const before = Number(await httpText(from, 8080, '/counter'));
    const { report, progress } = await migrate('web1', from, to, 'pc-lazy');
    expect(report).toMatchObject({ outcome: 'migrated', method: 'pc-lazy', runsOn: to });
    expect(report.rounds.length).toBeGreaterThanOrEqual(2);
    expect(report.rounds[0]!.pagesWritten).toBeGreaterThan(PAGES);
    // The final dump names the last round as its parent: most pages are there already.
    expect(report.criu!.pagesSkipped).toBeGreaterThan(PAGES / 2);
    expect(report.criu!.pagesLazy).toBeGreaterThan(0);
    expect(report.criu!.pagesLazy).toBeLessThan(report.rounds[0]!.pagesWritten / 4);
    expectRoundsShown(report, progress);
    await expectMoved('web1', 8080, from, to, instance, before);
  });

  it('stops pre-copy by its convergence rule when memory is dirtied faster than the link copies it', async () => {
    // 16 MiB/s of dirtying over a ~3 MB/s link: every round rewrites about all of the ballast.
    await deploy('lab-1', { workload: 'web', name: 'fast1', ballast_mib: MIB, dirty_mib_per_s: 16, port: 8082 });
    const instance = await httpText('lab-1', 8082, '/instance');
    const before = Number(await httpText('lab-1', 8082, '/counter'));
    const { report, progress } = await migrate('fast1', 'lab-1', 'lab-2', 'precopy');
    expect(report).toMatchObject({ outcome: 'migrated', method: 'precopy', runsOn: 'lab-2' });
    expect(report.precopyStop).toMatch(/^not converging: round \d+ wrote \d+ pages, \d+ % of round \d+/);
    expect(progress).toContain(`pre-copy stops after round ${report.rounds.length}: not converging`);
    // It gave up early instead of running to the round limit.
    expect(report.rounds.length).toBeLessThanOrEqual(3);
    const last = report.rounds.at(-1)!;
    expect(last.pagesWritten).toBeGreaterThan(0.8 * report.rounds.at(-2)!.pagesWritten);
    expectRoundsShown(report, progress);
    await expectMoved('fast1', 8082, 'lab-1', 'lab-2', instance, before);
  });

  // The fault matrix's pre-copy phase in CI (issue 11), on the one lab where pre-copy runs. The
  // whole pc-ps matrix (pre-copy and checkpoint × every fault, through the worker) is
  // test/faults/faults-precopy.test.ts, in `npm run faults`.
  it('pc-ps × pre-copy × page server killed: refused before the freeze, fast1 runs on with its state, nothing left, and the move then succeeds', async () => {
    const instance = await httpText('lab-2', 8082, '/instance');
    const before = Number(await httpText('lab-2', 8082, '/counter'));
    const events = new MigrationEvents();
    let killed = false;
    events.on('event', (e) => {
      if (e.type === 'phase-start' && e.phase === 'pre-dump' && !killed) {
        killed = true;
        void onHost('lab-1', ['pkill', '-KILL', '-f', 'criu page-server'], { allowFail: true });
      }
    });
    const id = newMigrationId();
    const err = await runMigration({ id, container: 'fast1', from: 'lab-2', to: 'lab-1', method: 'pc-ps' }, { config, events, provision: false }).then(
      () => null,
      (e: unknown) => e as FerryError,
    );
    expect(killed).toBe(true);
    expect(err?.code, String(err)).toBe(ErrorCode.CriuDumpFailed);
    expect(await runcState('lab-2', 'fast1')).toBe('running');
    expect(await runcState('lab-1', 'fast1')).toBeNull();
    expect(await httpText('lab-2', 8082, '/instance')).toBe(instance);
    expect(Number(await httpText('lab-2', 8082, '/counter'))).toBeGreaterThanOrEqual(before);
    expect(await debris('lab-1')).toEqual([]);
    expect(await debris('lab-2')).toEqual([]);
  });
});
