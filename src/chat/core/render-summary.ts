import { errorHint } from '../../errors.ts';
import { PHASE_COLUMNS } from '../../migrate/clock.ts';
import { COLUMN_TITLES, fmtS, groupTable, type GroupReport, type MigrationReport } from '../../migrate/report.ts';
import { subjectText, type MigrationSubject } from '../../migrate/request.ts';
import { count, formatBytes, renderTable } from '../../util/table.ts';
import { context, message, section, type Block, type ChatMessage } from './blocks.ts';
import { methodLabel } from './labels.ts';
import { bold, code, codeBlock, esc, fitLines } from './mrkdwn.ts';

/** Room for a code block's body in one section, leaving space for a title line and the fences. */
const TABLE_BODY_MAX = 2700;

/**
 * The timing summary of a finished migration: the paper's Table II columns (one row per column, so it
 * reads on a phone), bytes moved, method and why, pre-copy rounds, health check.
 */
export function summary(r: MigrationReport): ChatMessage {
  const moved = r.outcome === 'migrated';
  const head = moved
    ? `:white_check_mark: ${bold(r.container)} moved from ${bold(r.from)} to ${bold(r.to)}`
    : `:leftwards_arrow_with_hook: ${bold(r.container)} was NOT moved: rolled back, it runs on ${bold(r.runsOn)}`;
  const lines = [head];
  if (r.groupTarget) lines.push(`:dart: Target picked: ${esc(r.groupTarget.reason)}`);
  lines.push(`Method ${bold(methodLabel(r.method))}: ${esc(r.reason)}`);
  if (r.error) lines.push(`Failure: ${esc(r.error)}`);
  for (const w of r.warnings ?? []) lines.push(`:warning: ${esc(w)}`);

  const blocks: Block[] = [section(lines.join('\n')), section(`*Timings* (seconds, Table II)\n${codeBlock(timesTable(r))}`), section(transferLine(r))];
  if (r.rounds.length) {
    const rows = renderTable(
      ['Round', 'Pages written', 'Pages skipped', 'Seconds'],
      r.rounds.map((x) => [x.round, x.pagesWritten, x.pagesSkipped, x.seconds.toFixed(2)]),
    ).split('\n');
    const stop = r.precopyStop ? `\nPre-copy stopped: ${esc(r.precopyStop)}` : '';
    blocks.push(section(`*Pre-copy rounds*\n${codeBlock(fitLines(rows, TABLE_BODY_MAX - stop.length, 2))}${stop}`));
  }
  blocks.push(context(`migration ${code(r.id)}`, `runs on ${bold(r.runsOn)}`));
  const text = moved
    ? `${esc(r.container)} moved from ${esc(r.from)} to ${esc(r.to)} in ${fmtS(r.times.total)} s (downtime ${fmtS(r.times.downtime)} s, method ${r.method})`
    : `${esc(r.container)} was NOT moved: rolled back, it runs on ${esc(r.runsOn)}${r.error ? `: ${esc(r.error)}` : ''}`;
  return message(text, blocks);
}

/** The Table II columns as rows: `Pre-dump (s)  1.23`, `-` where the method has no such phase. */
export function timesTable(r: MigrationReport): string {
  return renderTable(
    ['Phase', 'Seconds'],
    PHASE_COLUMNS.map((c) => [`${COLUMN_TITLES[c]} (s)`, fmtS(r.times[c])]),
  );
}

function transferLine(r: MigrationReport): string {
  const parts = [`Moved ${bold(formatBytes(r.bytes.total))} (page server ${formatBytes(r.bytes.pages)}, rsync ${formatBytes(r.bytes.rsync)})`];
  const c = r.criu;
  if (c) parts.push(`CRIU: frozen ${c.frozenMs.toFixed(0)} ms, pages written ${c.pagesWritten}, skipped ${c.pagesSkipped}${c.pagesLazy ? `, lazy ${c.pagesLazy}` : ''}`);
  parts.push(`Health check: ${esc(r.health)}`);
  return parts.join('\n');
}

/**
 * The summary of a group's migration: what moved (or where each member runs after a rollback), the
 * method, a row per member and one for the group (the CLI's table, {@link groupTable}, without the
 * columns no member has), and each member's bytes and health check. `id` is the job's migration id.
 */
export function groupSummary(g: GroupReport, opts: { id?: string } = {}): ChatMessage {
  const moved = g.outcome === 'migrated';
  const names = g.members.map((m) => m.container);
  const head = moved
    ? `:white_check_mark: group ${bold(g.group)} moved from ${bold(g.from)} to ${bold(g.to)}: ${count(names.length, 'container')} (${names.map(esc).join(', ')})`
    : `:leftwards_arrow_with_hook: group ${bold(g.group)} was NOT moved: rolled back`;
  const lines = [head];
  const methods = [...new Map(g.members.map((m) => [`${m.method}\u0000${m.reason}`, m])).values()];
  if (methods.length === 1) lines.push(`Method ${bold(methodLabel(methods[0]!.method))}: ${esc(methods[0]!.reason)}`);
  else for (const m of g.members) lines.push(`${bold(m.container)}: method ${bold(methodLabel(m.method))}: ${esc(m.reason)}`);
  if (g.error) lines.push(`Failure: ${esc(g.error)}`);
  for (const m of g.members) for (const w of m.warnings ?? []) lines.push(`:warning: ${bold(m.container)}: ${esc(w)}`);
  if (!moved) lines.push(g.members.map((m) => `${bold(m.container)} runs on ${bold(m.runsOn)}.`).join(' '));

  // Only the columns some member has (a page-server move has no pre-copy): the table stays narrow enough to read.
  const columns = PHASE_COLUMNS.filter((c) => c === 'downtime' || c === 'total' || g.members.some((m) => m.times[c] !== null));
  const table = groupTable(g, { columns, methods: false }).split('\n');
  const title = `*Timings* (seconds, Table II): a row per member, then the group's one downtime window, from the first freeze to the last healthy restore`;
  const blocks: Block[] = [section(fitLines(lines, TABLE_BODY_MAX)), section(`${title}\n${codeBlock(fitLines(table, TABLE_BODY_MAX - title.length, 2))}`)];
  const moves = g.members.map((m) => `${bold(m.container)}: moved ${formatBytes(m.bytes.total)} (page server ${formatBytes(m.bytes.pages)}, rsync ${formatBytes(m.bytes.rsync)}); health check: ${esc(m.health)}`);
  if (moves.length) blocks.push(section(fitLines(moves, TABLE_BODY_MAX)));
  blocks.push(context(...(opts.id ? [`migration ${code(opts.id)}`] : []), `group ${bold(g.group)}`, moved ? `runs on ${bold(g.to)}` : 'rolled back'));
  const text = moved
    ? `group ${esc(g.group)} moved from ${esc(g.from)} to ${esc(g.to)} in ${fmtS(g.times.total)} s (downtime ${fmtS(g.times.downtime)} s, ${count(names.length, 'container')})`
    : `group ${esc(g.group)} was NOT moved: rolled back${g.error ? `: ${esc(g.error)}` : ''}`;
  return message(text, blocks);
}

/** Where a failed migration leaves things, for errors that came without a report: a container's, or a group's. */
export type FailureWhere = FailureFields & MigrationSubject;

export interface FailureFields {
  from?: string;
  to?: string;
  /** Host the container runs on now; null when Ferry cannot tell (say so loudly). */
  runsOn: string | null;
  id?: string;
}

/**
 * A failed migration. Given a MigrationReport (rolled back), the summary with its failure; given an
 * error (thrown before or outside the engine's report), what failed and where the container runs now.
 */
export function failure(cause: MigrationReport | unknown, where?: FailureWhere): ChatMessage {
  if (isReport(cause)) return summary(where?.runsOn ? { ...cause, runsOn: where.runsOn } : cause);
  const msg = cause instanceof Error ? cause.message : String(cause);
  const errCode = typeof (cause as { code?: unknown })?.code === 'string' ? (cause as { code: string }).code : undefined;
  const what = where
    ? `Migration of ${subjectText(where, bold)}${where.from && where.to ? ` from ${bold(where.from)} to ${bold(where.to)}` : ''} failed`
    : 'Migration failed';
  const lines = [`:x: ${what}: ${esc(msg)}`];
  if (where) {
    lines.push(
      where.runsOn
        ? `${subjectText(where, bold)} runs on ${bold(where.runsOn)}.`
        : `:rotating_light: Ferry cannot tell where ${subjectText(where, bold)} runs now: check ${where.from && where.to ? `${bold(where.from)} and ${bold(where.to)}` : 'its hosts'} before retrying.`,
    );
  }
  const hint = errorHint(errCode);
  if (hint) lines.push(`_${esc(hint)}_`);
  const about = [];
  if (where?.id) about.push(`migration ${code(where.id)}`);
  if (errCode) about.push(`code ${code(errCode)}`);
  const fallback = `${where ? `Migration of ${subjectText(where, esc)} failed` : 'Migration failed'}: ${esc(msg)}${where ? (where.runsOn ? ` (runs on ${esc(where.runsOn)})` : ' (location unknown)') : ''}`;
  return message(fallback, [section(lines.join('\n')), context(about.join(' · '))]);
}

function isReport(x: unknown): x is MigrationReport {
  const r = x as Partial<MigrationReport> | null;
  return typeof r === 'object' && r !== null && typeof r.outcome === 'string' && typeof r.runsOn === 'string' && typeof r.times === 'object' && r.times !== null;
}
