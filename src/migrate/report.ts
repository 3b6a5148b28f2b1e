import { formatBytes, renderTable } from '../util/table.ts';
import { PHASE_COLUMNS, type PhaseTimes } from './clock.ts';
import type { RoundReport } from './context.ts';
import { methodTitle } from './methods.ts';

export interface MigrationReport {
  id: string;
  container: string;
  from: string;
  to: string;
  method: string;
  /** The method's title (Table II's row name): a report carries it, so a method registered elsewhere still reads right. */
  methodTitle?: string;
  /** Why this method: explicit request, or auto's reasoning. */
  reason: string;
  outcome: 'migrated' | 'rolled-back';
  /** Host the container runs on at the end. */
  runsOn: string;
  /** When the target was a group (`group:NAME`): the group, and why `to` was the member picked. */
  groupTarget?: { group: string; reason: string };
  error?: string;
  /** The failure's code (a rolled-back migration). */
  errorCode?: string;
  /** What did not go cleanly after the move (cleanup steps, a lazy transfer that ended badly). */
  warnings?: string[];
  times: PhaseTimes;
  criu: { frozenMs: number; pagesWritten: number; pagesSkipped: number; pagesLazy: number } | null;
  bytes: { total: number; rsync: number; pages: number };
  rounds: RoundReport[];
  precopyStop?: string;
  health: string;
  /** How client traffic was switched (HAProxy, hold server), when it was. */
  traffic?: string;
  /** Client-side view when a load probe ran: requests, failures, latency percentiles, files. */
  probe?: { requests: number; failures: number; p50Ms: number; p99Ms: number; maxMs: number; throughput: number; csv: string; png: string };
}

export const COLUMN_TITLES: Record<keyof PhaseTimes, string> = {
  preDump: 'Pre-dump',
  preCopy: 'Pre-copy',
  preMigration: 'Pre-migration',
  checkpoint: 'Checkpoint',
  transfer: 'Transfer',
  restore: 'Restore',
  downtime: 'Downtime',
  total: 'Total',
};

export const fmtS = (s: number | null) => (s === null ? '-' : s.toFixed(2));

/** The paper's Table II row for one migration, plus what Ferry adds. */
export function renderReport(r: MigrationReport): string {
  const lines: string[] = [];
  const title = r.methodTitle ?? methodTitle(r.method);
  const head = r.outcome === 'migrated' ? `${r.container} moved from ${r.from} to ${r.to}` : `${r.container} was NOT moved: rolled back, it runs on ${r.runsOn}`;
  lines.push(`${head} (migration ${r.id})`);
  if (r.groupTarget) lines.push(`target: ${r.groupTarget.reason}`);
  lines.push(`method: ${r.method} (${title}): ${r.reason}`);
  if (r.error) lines.push(`failure: ${r.error}${r.errorCode ? ` [${r.errorCode}]` : ''}`);
  for (const w of r.warnings ?? []) lines.push(`warning: ${w}`);
  lines.push('');
  lines.push(renderTable(['Method', ...PHASE_COLUMNS.map((c) => `${COLUMN_TITLES[c]} (s)`)], [[title, ...PHASE_COLUMNS.map((c) => fmtS(r.times[c]))]]));
  lines.push('');
  const c = r.criu;
  lines.push(
    `moved: ${formatBytes(r.bytes.total)} (page server ${formatBytes(r.bytes.pages)}, rsync ${formatBytes(r.bytes.rsync)})` +
      (c ? `; CRIU: frozen ${c.frozenMs.toFixed(0)} ms, pages written ${c.pagesWritten}, skipped ${c.pagesSkipped}${c.pagesLazy ? `, lazy ${c.pagesLazy}` : ''}` : ''),
  );
  if (r.rounds.length) {
    lines.push(renderTable(['round', 'pages written', 'pages skipped', 'seconds'], r.rounds.map((x) => [x.round, x.pagesWritten, x.pagesSkipped, x.seconds.toFixed(2)])));
    if (r.precopyStop) lines.push(`pre-copy stopped: ${r.precopyStop}`);
  }
  lines.push(`health check: ${r.health}`);
  if (r.traffic) lines.push(`traffic: ${r.traffic}`);
  return lines.join('\n');
}

/** A group's move: every member's report, and the group's own window (MigrationEngine.migrateGroup). */
export interface GroupReport {
  group: string;
  outcome: 'migrated' | 'rolled-back';
  from: string;
  to: string;
  members: MigrationReport[];
  /** From the first member's freeze to the last member's healthy restore: the group's one downtime window. */
  times: { downtime: number | null; total: number };
  error?: string;
}

/** What {@link groupTable} shows. */
export interface GroupTableOptions {
  /** The Table II columns, in order. @defaultValue all of them */
  columns?: readonly (keyof PhaseTimes)[];
  /** Each member's method title after its name (`blog-db (Page Server)`). @defaultValue true */
  methods?: boolean;
}

/**
 * A group's timing table (pure): a row per member, then one for the group, which has only the
 * columns that belong to the group as a whole (its one downtime window and its total).
 */
export function groupTable(g: GroupReport, opts: GroupTableOptions = {}): string {
  const columns = opts.columns ?? PHASE_COLUMNS;
  const rows = g.members.map((r) => [opts.methods === false ? r.container : `${r.container} (${r.methodTitle ?? methodTitle(r.method)})`, r.outcome, ...columns.map((c) => fmtS(r.times[c]))]);
  rows.push([`group ${g.group}`, g.outcome, ...columns.map((c) => (c === 'downtime' ? fmtS(g.times.downtime) : c === 'total' ? fmtS(g.times.total) : ''))]);
  return renderTable(['Member', 'Outcome', ...columns.map((c) => `${COLUMN_TITLES[c]} (s)`)], rows);
}

/** A group's report: a row per member, and one for the group (its one downtime window). */
export function renderGroupReport(g: GroupReport): string {
  const head = g.outcome === 'migrated' ? `group ${g.group} moved from ${g.from} to ${g.to}` : `group ${g.group} was NOT moved: rolled back, it runs on ${g.from}`;
  const lines = [head];
  if (g.error) lines.push(`failure: ${g.error}`);
  lines.push('');
  lines.push(groupTable(g));
  lines.push('', "The group's downtime runs from the first member's freeze to the last member's healthy restore: one window for all.");
  return lines.join('\n');
}
