/**
 * The benchmark's results file: every run's raw figures, and what they were taken on. Written as
 * `bench/results/<date>-<lab>-<link>.json`; the Markdown table and the charts are derived from it.
 */
import { PHASE_COLUMNS, type PhaseTimes } from '../migrate/clock.ts';
import type { LinkProfile } from '../infra/link/profile.ts';
import type { GroupReport, MigrationReport } from '../migrate/report.ts';
import type { ClientView } from './client-view.ts';
import type { LinkMeasurement } from './iperf.ts';
import type { PeerMove } from './podman.ts';
import type { RowSpec } from './plan.ts';

/** One migration of one row, Ferry's or the peer's. */
export interface BenchRun {
  /** The row's id (RowSpec.id). */
  row: string;
  /** 1-based. */
  run: number;
  from: string;
  to: string;
  /** `failed`: it threw before a report existed (nothing was moved). */
  outcome: 'migrated' | 'rolled-back' | 'failed';
  error?: string;
  /** Table II's columns, seconds. */
  times: PhaseTimes;
  /** Bytes that crossed the link (page server and rsync; the peer: rsync of the archive). */
  bytes: number;
  /** CRIU's frozen time (its own statistics), ms; null where CRIU does not report it (lazy dumps). */
  frozenMs: number | null;
  /** Pages pre-copy round 1 wrote, and the final dump (pages written plus pages left to pull lazily). */
  pages: { round1: number | null; final: number | null };
  /** Behind HAProxy: what the load probe's clients saw. */
  client?: ClientView;
  /** The probe's response-time chart of this run (written by the migration). */
  responseTimePng?: string;
  /** Ferry's whole report. */
  report?: MigrationReport;
  /** A group's whole report: the group's window and each member's report. */
  group?: GroupReport;
  /** The peer's raw figures. */
  peer?: PeerMove;
}

/** One workload at one size: its rows and their runs. */
export interface BenchCell {
  workload: string;
  /** "web, 256 MiB (1 MiB/s dirtied)". */
  title: string;
  /** Its size; for a group, the members' memory as their cgroups charged it once deployed (the size check's figure when unread). */
  mib: number;
  /** A cell that moves a group as one: its name and members, restore order. */
  group?: { name: string; members: string[] };
  rows: RowSpec[];
  runs: BenchRun[];
  /** Rows or the whole cell left out, and why. */
  skipped: Skipped[];
}

export interface Skipped {
  what: string;
  reason: string;
}

export interface HostInfo {
  name: string;
  address: string;
  kernel: string;
  criu: string | null;
  runc: string | null;
  podman: string | null;
  softDirty: boolean;
  uffd: boolean;
}

export interface BenchMeta {
  /** ISO time the run started. */
  date: string;
  /** `namespace`, `qemu`, or the environment's name: file names use it. */
  lab: string;
  /** In words. */
  labTitle: string;
  /** The controller: where the namespace lab's hosts share a kernel, this is their machine too. */
  machine: { cores: number; cpu: string; memGiB: number; kernel: string };
  hosts: HostInfo[];
  runs: number;
  sizes: number[];
  kvMib: number;
  dirtyMiBPerS: number;
  quick: boolean;
  probeClients: number;
  ferry: { version: string; commit: string | null };
}

export interface BenchResults {
  schema: 1;
  meta: BenchMeta;
  link: {
    profile: LinkProfile;
    /** How it was emulated, in words (the shaper's own). */
    shaping: string;
    /** iperf3, each direction, before and after the migrations. */
    measurements: LinkMeasurement[];
  };
  cells: BenchCell[];
  /** Whole workloads, sizes or rows left out of the run, and why. */
  skipped: Skipped[];
  /** Set when the run stopped early (interrupted, or a step failed), saying why; the results hold what ran. */
  incomplete?: string;
}

const NO_TIMES: PhaseTimes = Object.fromEntries(PHASE_COLUMNS.map((c) => [c, null])) as unknown as PhaseTimes;

/** A Ferry migration's report as a run of its row. */
export function runFromReport(row: RowSpec, run: number, r: MigrationReport, lazy: boolean, client?: ClientView): BenchRun {
  return {
    row: row.id,
    run,
    from: r.from,
    to: r.to,
    outcome: r.outcome,
    ...(r.error ? { error: r.error } : {}),
    times: r.times,
    bytes: r.bytes.total,
    // CRIU 4.2's lazy dumps write zeros into their statistics: no frozen time to report.
    frozenMs: r.criu && !lazy ? r.criu.frozenMs : null,
    pages: { round1: r.rounds[0]?.pagesWritten ?? null, final: r.criu ? r.criu.pagesWritten + r.criu.pagesLazy : null },
    ...(client ? { client } : {}),
    ...(r.probe?.png ? { responseTimePng: r.probe.png } : {}),
    report: r,
  };
}

/** A Podman move as a run of the peer's row. */
export function runFromPeer(row: RowSpec, run: number, m: PeerMove): BenchRun {
  return {
    row: row.id,
    run,
    from: m.from,
    to: m.to,
    outcome: m.outcome,
    ...(m.error ? { error: m.error } : {}),
    times: { ...NO_TIMES, checkpoint: m.times.checkpoint, transfer: m.times.transfer, restore: m.times.restore, downtime: m.times.downtime, total: m.times.total },
    bytes: m.bytes,
    frozenMs: m.checkpoint ? m.checkpoint.frozenUs / 1000 : null,
    pages: { round1: null, final: m.checkpoint ? m.checkpoint.pagesWritten : null },
    peer: m,
  };
}

/** A migration that threw before it could report (refused, or the lab failed under it). */
export function failedRun(row: RowSpec, run: number, from: string, to: string, error: string): BenchRun {
  return { row: row.id, run, from, to, outcome: 'failed', error, times: NO_TIMES, bytes: 0, frozenMs: null, pages: { round1: null, final: null } };
}

/** `namespace` for the namespace lab (`local`), else the environment's own name. */
export function labName(environment: string): string {
  return environment === 'local' ? 'namespace' : environment;
}

export function labTitle(environment: string): string {
  if (environment === 'local') return 'namespace lab (hosts are network namespaces on one kernel, joined by a veth bridge)';
  if (environment === 'qemu') return 'qemu lab (hosts are QEMU VMs, software emulation, a stock Debian kernel, on a bridge)';
  return `environment ${environment}`;
}

/** `2026-12-01-namespace-lan`: the results' base name (UTC date). */
export function resultsBaseName(dateIso: string, lab: string, link: string): string {
  return `${dateIso.slice(0, 10)}-${lab}-${link}`;
}

/** The base name, or `-2`, `-3`, … after it when a run of the same day, lab and link is there already. */
export function uniqueBaseName(base: string, taken: (name: string) => boolean): string {
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base}-${i}`)) return `${base}-${i}`;
}
