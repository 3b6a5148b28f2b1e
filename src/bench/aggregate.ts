/**
 * From runs to Table II: mean ± sample standard deviation per row and column, and what the paper
 * does not show (bytes moved, CRIU's frozen time, the final dump against round 1, memory
 * throughput against the link, the clients' view). Pure.
 */
import { PHASE_COLUMNS, type PhaseTimes } from '../migrate/clock.ts';
import { METHOD_INFO } from '../migrate/methods.ts';
import type { LinkMeasurement } from './iperf.ts';
import type { RowSpec } from './plan.ts';
import type { BenchCell, BenchRun } from './results.ts';

export interface Stat {
  mean: number;
  /** Sample standard deviation (n - 1); 0 for one value. */
  sd: number;
  n: number;
}

export function stat(xs: readonly number[]): Stat | null {
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, n: xs.length };
}

const present = (xs: readonly (number | null | undefined)[]): number[] => xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));

/** What kind of transfer a row makes, for the throughput rule. */
export interface RowTraits {
  pageServer: boolean;
  lazy: boolean;
}

export function rowTraits(row: RowSpec): RowTraits {
  const t = row.method ? METHOD_INFO[row.method] : undefined;
  return { pageServer: t?.pageServer ?? false, lazy: t?.lazy ?? false };
}

/**
 * Seconds during which bytes crossed the link: transfer and pre-copy, plus checkpoint and pre-dump
 * where memory streams through the page server. Null for post-copy: its memory follows after the
 * restore, outside every timed phase. The phases include CRIU's own work, so the throughput it
 * gives is a lower bound.
 */
export function wireSeconds(t: PhaseTimes, traits: RowTraits): number | null {
  if (traits.lazy) return null;
  const parts = [t.transfer, t.preCopy, ...(traits.pageServer ? [t.checkpoint, t.preDump] : [])];
  const s = present(parts).reduce((a, b) => a + b, 0);
  return s > 0 ? s : null;
}

/** Bytes moved ÷ wire seconds, bytes per second; null where either is missing. */
export function memoryThroughput(run: BenchRun, traits: RowTraits): number | null {
  const s = wireSeconds(run.times, traits);
  return s !== null && run.bytes > 0 ? run.bytes / s : null;
}

/** The measured link per direction (`a>b`), mean of its measurements, bits per second. */
export function linkByDirection(ms: readonly LinkMeasurement[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const key of new Set(ms.map((m) => `${m.from}>${m.to}`))) {
    out.set(key, stat(ms.filter((m) => `${m.from}>${m.to}` === key).map((m) => m.bitsPerSecond))!.mean);
  }
  return out;
}

/** Mean over every measurement, both directions: the link-limit row's figure. */
export function linkMean(ms: readonly LinkMeasurement[]): Stat | null {
  return stat(ms.map((m) => m.bitsPerSecond));
}

/** Seconds to move `bytes` at `bitsPerSecond`: no method can copy memory faster. */
export function floorSeconds(bytes: number, bitsPerSecond: number): number {
  return (bytes * 8) / bitsPerSecond;
}

export interface ClientSummary {
  clients: number;
  requests: Stat;
  failures: Stat;
  p50Ms: Stat;
  p99Ms: Stat;
  gapS: Stat;
  /** Client-visible gap ÷ downtime, per run. */
  gapOverDowntime: Stat | null;
}

export interface RowSummary {
  row: RowSpec;
  runs: number;
  /** Runs that did not move the container (rolled back or failed). */
  failures: number;
  /** Over the migrated runs only. */
  columns: Record<keyof PhaseTimes, Stat | null>;
  bytes: Stat | null;
  frozenMs: Stat | null;
  /** Final dump's pages ÷ round 1's (pre-copy rows). */
  finalOverRound1: Stat | null;
  pagesRound1: Stat | null;
  pagesFinal: Stat | null;
  /** Bytes per second (see {@link memoryThroughput}). */
  throughput: Stat | null;
  /** Throughput as a percentage of the link's measured bandwidth in the run's direction. */
  linkPct: Stat | null;
  client: ClientSummary | null;
  /** The failures' messages, once each. */
  errors: string[];
}

export interface LinkLimit {
  /** Mean of iperf3's measurements, both directions. */
  bitsPerSecond: Stat;
  /** The cell's memory over that bandwidth: the least a stop-and-copy of it can take. */
  floorS: number;
}

export interface CellSummary {
  workload: string;
  title: string;
  mib: number;
  /** A group's cell: its rows are the group's moves (see groupTimes in group.ts). */
  group?: { name: string; members: string[] };
  rows: RowSummary[];
  link: LinkLimit | null;
}

function clientSummary(ok: readonly BenchRun[]): ClientSummary | null {
  const withClient = ok.filter((r) => r.client);
  if (withClient.length === 0) return null;
  const c = withClient.map((r) => r.client!);
  return {
    clients: c[0]!.clients,
    requests: stat(c.map((x) => x.requests))!,
    failures: stat(c.map((x) => x.failures))!,
    p50Ms: stat(c.map((x) => x.p50Ms))!,
    p99Ms: stat(c.map((x) => x.p99Ms))!,
    gapS: stat(c.map((x) => x.gapMs / 1000))!,
    gapOverDowntime: stat(present(withClient.map((r) => (r.times.downtime ? r.client!.gapMs / 1000 / r.times.downtime : null)))),
  };
}

export function summarizeRow(row: RowSpec, runs: readonly BenchRun[], link: Map<string, number>): RowSummary {
  const all = runs.filter((r) => r.row === row.id);
  const ok = all.filter((r) => r.outcome === 'migrated');
  const traits = rowTraits(row);
  const col = (c: keyof PhaseTimes) => stat(present(ok.map((r) => r.times[c])));
  const overall = link.size ? [...link.values()].reduce((a, b) => a + b, 0) / link.size : null;
  const pct = ok.map((r) => {
    const tp = memoryThroughput(r, traits);
    const bps = link.get(`${r.from}>${r.to}`) ?? overall;
    return tp !== null && bps ? ((tp * 8) / bps) * 100 : null;
  });
  return {
    row,
    runs: all.length,
    failures: all.length - ok.length,
    columns: Object.fromEntries(PHASE_COLUMNS.map((c) => [c, col(c)])) as Record<keyof PhaseTimes, Stat | null>,
    bytes: stat(ok.map((r) => r.bytes)),
    frozenMs: stat(present(ok.map((r) => r.frozenMs))),
    finalOverRound1: stat(present(ok.map((r) => (r.pages.round1 && r.pages.final !== null ? r.pages.final / r.pages.round1 : null)))),
    pagesRound1: stat(present(ok.map((r) => r.pages.round1))),
    pagesFinal: stat(present(ok.map((r) => (r.pages.round1 !== null ? r.pages.final : null)))),
    throughput: stat(present(ok.map((r) => memoryThroughput(r, traits)))),
    linkPct: stat(present(pct)),
    client: clientSummary(ok),
    errors: [...new Set(all.filter((r) => r.error).map((r) => r.error!))],
  };
}

export function summarizeCell(cell: BenchCell, measurements: readonly LinkMeasurement[]): CellSummary {
  const link = linkByDirection(measurements);
  const mean = linkMean(measurements);
  return {
    workload: cell.workload,
    title: cell.title,
    mib: cell.mib,
    ...(cell.group ? { group: cell.group } : {}),
    rows: cell.rows.map((r) => summarizeRow(r, cell.runs, link)),
    link: mean ? { bitsPerSecond: mean, floorS: floorSeconds(cell.mib * 1048576, mean.mean) } : null,
  };
}

/** One of the figures the README states, with what it compares; null value when this run could not measure it, saying why. */
export interface Headline {
  key: 'best-vs-normal' | 'lazy-scaling' | 'best-vs-podman' | 'throughput-vs-link' | 'final-vs-round1' | 'gap-vs-downtime';
  label: string;
  value: number | null;
  /** The numbers behind it, or why it is missing. */
  detail: string;
}

const dt = (r: RowSummary | undefined) => r?.columns.downtime?.mean;
const s2 = (x: number) => `${x.toFixed(2)} s`;

function bestFerry(c: CellSummary): RowSummary | undefined {
  return c.rows.filter((r) => r.row.kind === 'ferry' && dt(r) !== undefined).sort((a, b) => dt(a)! - dt(b)!)[0];
}

/**
 * The ratios issue 14 asks the README to state, from one run's summaries (web cells; the largest
 * size where a ratio is "at 1 GiB"). Pure; each says what it compared.
 */
export function headlines(cells: readonly CellSummary[]): Headline[] {
  const web = cells.filter((c) => c.workload === 'web').sort((a, b) => a.mib - b.mib);
  const big = web.at(-1);
  const small = web[0];
  const row = (c: CellSummary | undefined, id: string) => c?.rows.find((r) => r.row.id === id);
  const at = (c: CellSummary | undefined) => (c ? `web at ${c.mib} MiB` : 'no web cell ran');
  const out: Headline[] = [];

  const best = big ? bestFerry(big) : undefined;
  const normal = row(big, 'normal');
  out.push(
    best && dt(normal)
      ? { key: 'best-vs-normal', label: "Ferry's best downtime against normal's", value: dt(best)! / dt(normal)!, detail: `${best.row.title} ${s2(dt(best)!)} against Normal ${s2(dt(normal)!)}, ${at(big)}` }
      : { key: 'best-vs-normal', label: "Ferry's best downtime against normal's", value: null, detail: `not measured (${big ? 'normal did not run or never migrated' : at(big)})` },
  );

  const lazyBig = row(big, 'lazy');
  const lazySmall = row(small, 'lazy');
  out.push(
    big && small && big !== small && dt(lazyBig) && dt(lazySmall)
      ? { key: 'lazy-scaling', label: `lazy's downtime at ${big.mib} MiB against at ${small.mib} MiB`, value: dt(lazyBig)! / dt(lazySmall)!, detail: `${s2(dt(lazyBig)!)} against ${s2(dt(lazySmall)!)}` }
      : { key: 'lazy-scaling', label: "lazy's downtime, largest size against smallest", value: null, detail: 'not measured (needs lazy at two sizes or more)' },
  );

  const podman = row(big, 'podman');
  out.push(
    best && dt(podman)
      ? { key: 'best-vs-podman', label: "Ferry's best downtime against Podman's", value: dt(best)! / dt(podman)!, detail: `${best.row.title} ${s2(dt(best)!)} against Podman ${s2(dt(podman)!)}, ${at(big)}` }
      : { key: 'best-vs-podman', label: "Ferry's best downtime against Podman's", value: null, detail: 'not measured (no Podman row)' },
  );

  const tp = big?.rows.filter((r) => r.linkPct).sort((a, b) => b.linkPct!.mean - a.linkPct!.mean)[0];
  out.push(
    tp && big?.link
      ? { key: 'throughput-vs-link', label: 'memory throughput against the link', value: tp.linkPct!.mean / 100, detail: `${tp.row.title} moved memory at ${tp.linkPct!.mean.toFixed(0)} % of the measured ${(big.link.bitsPerSecond.mean / 1e6).toFixed(0)} Mbit/s, ${at(big)}` }
      : { key: 'throughput-vs-link', label: 'memory throughput against the link', value: null, detail: 'not measured (no link measurement or no timed transfer)' },
  );

  const pre = big?.rows.filter((r) => r.finalOverRound1 && r.row.kind === 'ferry' && !r.row.front);
  const preBest = pre?.sort((a, b) => a.finalOverRound1!.mean - b.finalOverRound1!.mean)[0];
  out.push(
    preBest
      ? {
          key: 'final-vs-round1',
          label: "the final dump's pages against round 1's",
          value: preBest.finalOverRound1!.mean,
          detail: `${preBest.row.title}: ${preBest.pagesFinal!.mean.toFixed(0)} pages against ${preBest.pagesRound1!.mean.toFixed(0)}, ${at(big)}`,
        }
      : { key: 'final-vs-round1', label: "the final dump's pages against round 1's", value: null, detail: 'not measured (no pre-copy row ran: the hosts lack soft-dirty tracking)' },
  );

  const fronted = big?.rows.find((r) => r.row.front && r.client?.gapOverDowntime);
  out.push(
    fronted
      ? {
          key: 'gap-vs-downtime',
          label: 'the client-visible gap with the hold server against the downtime',
          value: fronted.client!.gapOverDowntime!.mean,
          detail: `${fronted.row.title}: gap ${s2(fronted.client!.gapS.mean)}, downtime ${s2(dt(fronted)!)}, ${fronted.client!.failures.mean.toFixed(1)} failed of ${fronted.client!.requests.mean.toFixed(0)} requests, ${at(big)}`,
        }
      : { key: 'gap-vs-downtime', label: 'the client-visible gap with the hold server against the downtime', value: null, detail: 'not measured (no HAProxy row ran)' },
  );
  return out;
}
