/**
 * Synthetic benchmark inputs: reports shaped like the engine's, results shaped like a run's.
 * Nothing here is a measurement.
 */
import type { ClientView } from '../../../src/bench/client-view.ts';
import type { LinkMeasurement } from '../../../src/bench/iperf.ts';
import { PEER_ROW, cellRows, type RowSpec } from '../../../src/bench/plan.ts';
import type { PeerMove } from '../../../src/bench/podman.ts';
import { runFromGroupReport } from '../../../src/bench/group.ts';
import { runFromPeer, runFromReport, type BenchCell, type BenchResults } from '../../../src/bench/results.ts';
import { WEB, WORDPRESS, workloadContainers } from '../../../src/bench/workloads.ts';
import { LAN } from '../../../src/infra/link/profile.ts';
import type { PhaseTimes } from '../../../src/migrate/clock.ts';
import type { GroupReport, MigrationReport } from '../../../src/migrate/report.ts';

export const NO_TIMES: PhaseTimes = { preDump: null, preCopy: null, preMigration: null, checkpoint: null, transfer: null, restore: null, downtime: null, total: null };

export function report(over: Partial<Omit<MigrationReport, 'times'>> & { times?: Partial<PhaseTimes> } = {}): MigrationReport {
  const { times, ...rest } = over;
  return {
    id: 'm-20261201000000-abcdef',
    container: 'bench-web',
    from: 'lab-1',
    to: 'lab-2',
    method: 'page-server',
    reason: 'requested explicitly',
    outcome: 'migrated',
    runsOn: 'lab-2',
    times: { ...NO_TIMES, checkpoint: 0.5, transfer: 0.5, restore: 0.3, downtime: 1.4, total: 3, ...times },
    criu: { frozenMs: 900, pagesWritten: 65536, pagesSkipped: 0, pagesLazy: 0 },
    bytes: { total: 256 * 1048576, rsync: 2 * 1048576, pages: 254 * 1048576 },
    rounds: [],
    health: 'HTTP GET :8090/counter',
    ...rest,
  };
}

export const link = (from: string, to: string, mbit: number): LinkMeasurement => ({ from, to, bitsPerSecond: mbit * 1e6, bytes: mbit * 1e6 * 1.25, seconds: 10, retransmits: 0, at: '2026-12-01T10:00:00.000Z' });

export function peerMove(over: Partial<PeerMove> = {}): PeerMove {
  return {
    from: 'lab-1',
    to: 'lab-2',
    name: 'ferry-podman-1',
    outcome: 'migrated',
    times: { checkpoint: 1.3, transfer: 1.0, restore: 2.0, downtime: 4.4, total: 4.6 },
    bytes: 260 * 1048576,
    archiveBytes: 262 * 1048576,
    checkpoint: { podmanUs: 1.3e6, runtimeUs: 1.1e6, freezingUs: 1e5, frozenUs: 1.2e6, memdumpUs: 1e5, memwriteUs: 1e5, pagesScanned: 66000, pagesWritten: 65600 },
    restore: { podmanUs: 2e6, runtimeUs: 1.8e6, forkingUs: 5000, restoreUs: 1.5e6, pagesRestored: 65600 },
    ...over,
  };
}

const client = (gapMs: number): ClientView => ({ clients: 10, requests: 4000, failures: 0, p50Ms: 7, p99Ms: 1700, maxMs: 1900, gapMs });

/**
 * A web cell of `mib` MiB on a lab without soft-dirty: normal, page-server (+ HAProxy), lazy,
 * Podman; downtimes grow with the size (lazy barely), two runs each, alternating direction.
 */
export function webCell(mib: number): BenchCell {
  const k = mib / 256;
  const rows = cellRows(WEB, ['normal', 'page-server', 'lazy'], { haproxy: true, peer: true });
  const byId = (id: string) => rows.find((r) => r.id === id)!;
  const runs = [];
  for (const run of [1, 2]) {
    const [from, to] = run === 1 ? ['lab-1', 'lab-2'] : ['lab-2', 'lab-1'];
    const j = run === 1 ? 0.95 : 1.05;
    const base = { from, to, runsOn: to, bytes: { total: mib * 1048576, rsync: 1048576, pages: (mib - 1) * 1048576 } };
    runs.push(runFromReport(byId('normal'), run, report({ ...base, method: 'normal', times: { checkpoint: 0.3 * k * j, transfer: 2.3 * k * j, restore: 0.3 * j, downtime: 2.9 * k * j, total: 4 * k * j } }), false));
    runs.push(runFromReport(byId('page-server'), run, report({ ...base, times: { checkpoint: 0.6 * k * j, transfer: 0.4 * j, restore: 0.3 * j, downtime: 1.3 * k * j, total: 3 * k * j } }), false));
    runs.push(
      runFromReport(byId('page-server+haproxy'), run, report({ ...base, times: { checkpoint: 0.6 * k * j, transfer: 0.4 * j, restore: 0.3 * j, downtime: 1.4 * k * j, total: 3.2 * k * j }, probe: { requests: 4000, failures: 0, p50Ms: 7, p99Ms: 1700, maxMs: 1900, throughput: 900, csv: '/x.csv', png: `/bench/m-${mib}-${run}.png` } }), false, client(1500 * k * j)),
    );
    runs.push(runFromReport(byId('lazy'), run, report({ ...base, method: 'lazy', criu: { frozenMs: 0, pagesWritten: 0, pagesSkipped: 0, pagesLazy: mib * 256 }, times: { checkpoint: 0.2 * j, transfer: 0.6 * j, restore: 0.2 * j, downtime: (1 + 0.02 * k) * j, total: 3 * j } }), true));
    runs.push(runFromPeer(PEER_ROW, run, peerMove({ from, to, times: { checkpoint: 1.3 * k * j, transfer: 1 * k * j, restore: 2 * k * j, downtime: 4.4 * k * j, total: 4.6 * k * j }, bytes: mib * 1048576 })));
  }
  return { workload: 'web', title: `web, ${mib} MiB (1 MiB/s dirtied)`, mib, rows, runs, skipped: [{ what: 'precopy, pc-ps, pc-ps-rsync, pc-lazy', reason: 'no soft-dirty tracking' }] };
}

/**
 * A group's report as migrateGroup makes it: the database and the web server, each with its own
 * phases, and the group's one window (longer than either member's: they are restored in turn).
 */
export function groupReport(over: { from?: string; to?: string; k?: number; outcome?: GroupReport['outcome']; error?: string } = {}): GroupReport {
  const { from = 'lab-1', to = 'lab-2', k = 1, outcome = 'migrated' } = over;
  const [db, web] = workloadContainers(WORDPRESS);
  const member = (container: string, t: Partial<PhaseTimes>, mib: number, frozenMs: number) =>
    report({ container, from, to, runsOn: outcome === 'migrated' ? to : from, outcome, times: t, bytes: { total: mib * 1048576, rsync: (mib - 80) * 1048576, pages: 80 * 1048576 }, criu: { frozenMs, pagesWritten: 20480, pagesSkipped: 0, pagesLazy: 0 }, health: 'tcp' });
  return {
    group: WORDPRESS.group,
    outcome,
    from,
    to,
    members: [
      member(db!, { checkpoint: 0.7 * k, transfer: 2.0 * k, restore: 0.9 * k, downtime: 3.7 * k, total: 5 * k }, 230, 700),
      member(web!, { checkpoint: 1.2 * k, transfer: 4.5 * k, restore: 2.2 * k, downtime: 8.1 * k, total: 9 * k }, 452, 1200),
    ],
    times: { downtime: 9.0 * k, total: 11 * k },
    ...(over.error ? { error: over.error } : {}),
  };
}

/** The WordPress cell: normal and page-server, two runs each, back and forth. */
export function wordpressCell(): BenchCell {
  const rows = cellRows(WORDPRESS, ['normal', 'page-server'], { haproxy: true, peer: true });
  const runs = [];
  for (const run of [1, 2]) {
    const [from, to] = run === 1 ? ['lab-1', 'lab-2'] : ['lab-2', 'lab-1'];
    const j = run === 1 ? 0.95 : 1.05;
    for (const row of rows) runs.push(runFromGroupReport(row, run, groupReport({ from, to, k: (row.id === 'normal' ? 1.2 : 1) * j }), false));
  }
  return { workload: 'wordpress', title: WORDPRESS.title, mib: 180, group: { name: WORDPRESS.group, members: workloadContainers(WORDPRESS) }, rows, runs, skipped: [{ what: 'the Podman row', reason: "the peer's image is Ferry's web rootfs; wordpress is not built for Podman" }] };
}

export function results(cells: BenchCell[] = [webCell(64), webCell(256), webCell(1024)]): BenchResults {
  return {
    schema: 1,
    meta: {
      date: '2026-12-01T10:00:00.000Z',
      lab: 'namespace',
      labTitle: 'namespace lab (hosts are network namespaces on one kernel, joined by a veth bridge)',
      machine: { cores: 2, cpu: 'Example CPU', memGiB: 24, kernel: '6.18.0' },
      hosts: [
        { name: 'lab-1', address: '10.247.0.11', kernel: '6.18.0', criu: '4.2.1', runc: '1.1.5', podman: '4.3.1', softDirty: false, uffd: true },
        { name: 'lab-2', address: '10.247.0.12', kernel: '6.18.0', criu: '4.2.1', runc: '1.1.5', podman: '4.3.1', softDirty: false, uffd: true },
      ],
      runs: 2,
      sizes: [64, 256, 1024],
      kvMib: 64,
      dirtyMiBPerS: 1,
      quick: false,
      probeClients: 10,
      ferry: { version: '0.1.0', commit: '0123456789abcdef' },
    },
    link: { profile: LAN, shaping: 'none (the bare link)', measurements: [link('lab-1', 'lab-2', 1000), link('lab-2', 'lab-1', 800)] },
    cells,
    skipped: [{ what: 'web at 4096 MiB', reason: '4096 MiB needs about 6144 MiB free on lab-1' }],
  };
}

export type { RowSpec };
