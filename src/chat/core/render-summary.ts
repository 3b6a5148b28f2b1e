import { errorHint } from '../../errors.ts';
import { PHASE_COLUMNS } from '../../migrate/clock.ts';
import { COLUMN_TITLES, fmtS, type MigrationReport } from '../../migrate/report.ts';
import { formatBytes, renderTable } from '../../util/table.ts';
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
  const lines = [head, `Method ${bold(methodLabel(r.method))}: ${esc(r.reason)}`];
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

/** Where a failed migration leaves things, for errors that came without a report. */
export interface FailureWhere {
  container: string;
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
    ? `Migration of ${bold(where.container)}${where.from && where.to ? ` from ${bold(where.from)} to ${bold(where.to)}` : ''} failed`
    : 'Migration failed';
  const lines = [`:x: ${what}: ${esc(msg)}`];
  if (where) {
    lines.push(
      where.runsOn
        ? `${bold(where.container)} runs on ${bold(where.runsOn)}.`
        : `:rotating_light: Ferry cannot tell where ${bold(where.container)} runs now: check ${where.from && where.to ? `${bold(where.from)} and ${bold(where.to)}` : 'its hosts'} before retrying.`,
    );
  }
  const hint = errorHint(errCode);
  if (hint) lines.push(`_${esc(hint)}_`);
  const about = [];
  if (where?.id) about.push(`migration ${code(where.id)}`);
  if (errCode) about.push(`code ${code(errCode)}`);
  const fallback = `${where ? `Migration of ${esc(where.container)} failed` : 'Migration failed'}: ${esc(msg)}${where ? (where.runsOn ? ` (runs on ${esc(where.runsOn)})` : ' (location unknown)') : ''}`;
  return message(fallback, [section(lines.join('\n')), context(about.join(' · '))]);
}

function isReport(x: unknown): x is MigrationReport {
  const r = x as Partial<MigrationReport> | null;
  return typeof r === 'object' && r !== null && typeof r.outcome === 'string' && typeof r.runsOn === 'string' && typeof r.times === 'object' && r.times !== null;
}
