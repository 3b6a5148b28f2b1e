import type { Phase } from '../../migrate/clock.ts';
import type { MigrationEvent } from '../../migrate/events.ts';
import { context, message, section, type Block, type ChatMessage } from './blocks.ts';
import { methodLabel, PHASE_LABELS, seconds } from './labels.ts';
import { clipText } from '../../util/printable.ts';
import { bold, code, codeBlock, esc, fitLines, mention } from './mrkdwn.ts';
import type { FinishedPhase, StatusView } from './status.ts';

/** The live status message, updated in place (chat.update) as the migration advances. */
export function statusMessage(s: StatusView): ChatMessage {
  const route = `${bold(s.container)} ${bold(s.from)} → ${bold(s.to)}`;
  const head = headline(s, route);
  const lines = [head];
  if (s.status !== 'queued') lines.push(`Method ${bold(methodLabel(s.method))}${s.methodReason ? `: ${esc(s.methodReason)}` : ''}`);
  const blocks: Block[] = [section(lines.join('\n'))];
  const done = finishedLines(s.finished);
  if (done.length) blocks.push(section(fitLines(done, 2900)));
  const about = [`migration ${code(s.id)}`];
  if (s.requesterId) about.push(`requested by ${mention(s.requesterId)}`);
  if (s.approverId) about.push(`approved by ${mention(s.approverId)}`);
  if (s.dryRun) about.push('dry run');
  blocks.push(context(about.join(' · ')));
  return message(`${fallbackHead(s)} (migration ${esc(s.id)})`, blocks);
}

function headline(s: StatusView, route: string): string {
  switch (s.status) {
    case 'queued':
      return `:hourglass_flowing_sand: ${route}: queued${s.position ? ` (position ${s.position})` : ''}`;
    case 'running': {
      const now = s.phase ? `: ${bold(PHASE_LABELS[s.phase])}${s.phaseDetail ? ` (${esc(s.phaseDetail)})` : ''} …` : ': running …';
      const extra = [];
      if (s.frozen) extra.push(':ice_cube: container frozen, downtime running');
      if (s.rollbackReason) extra.push(`:warning: rolling back: ${esc(s.rollbackReason)}`);
      else if (s.note) extra.push(esc(s.note));
      return [`:arrows_counterclockwise: ${route}${now}`, ...extra].join('\n');
    }
    case 'done':
      // A dry run moves nothing: never say it did.
      if (s.dryRun) return `:white_check_mark: ${route}: dry run done, nothing was frozen or moved`;
      return `:white_check_mark: ${bold(s.container)} moved from ${bold(s.from)} to ${bold(s.to)}${timing(s)}`;
    case 'failed':
      return `:x: ${route}: failed${s.error ? `: ${esc(s.error)}` : ''}\n${whereNow(s)}`;
    case 'rolled-back':
      return `:leftwards_arrow_with_hook: ${bold(s.container)} was not moved: rolled back${s.error ? ` (${esc(s.error)})` : ''}\n${whereNow(s)}`;
    case 'cancelled':
      return `:no_entry_sign: ${route}: cancelled${s.cancelledBy ? ` by ${mention(s.cancelledBy)}` : ''}\n${whereNow(s)}`;
  }
}

function fallbackHead(s: StatusView): string {
  const route = `${esc(s.container)} ${esc(s.from)} → ${esc(s.to)}`;
  switch (s.status) {
    case 'queued':
      return `${route}: queued`;
    case 'running':
      return `${route}: ${s.phase ? PHASE_LABELS[s.phase] : 'running'}`;
    case 'done':
      if (s.dryRun) return `${route}: dry run done, nothing moved`;
      return `${esc(s.container)} moved from ${esc(s.from)} to ${esc(s.to)}${timing(s)}`;
    default:
      return `${route}: ${s.status}${s.runsOn ? `, runs on ${esc(s.runsOn)}` : ''}`;
  }
}

function timing(s: StatusView): string {
  const parts = [];
  if (s.totalSeconds !== undefined) parts.push(`in ${seconds(s.totalSeconds)}`);
  if (s.downtimeSeconds !== undefined) parts.push(`(downtime ${seconds(s.downtimeSeconds)})`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

function whereNow(s: StatusView): string {
  return s.runsOn
    ? `${bold(s.container)} runs on ${bold(s.runsOn)}.`
    : `:rotating_light: Ferry cannot tell where ${bold(s.container)} runs now: check ${bold(s.from)} and ${bold(s.to)}.`;
}

/** Finished phases, repeated ones (pre-copy rounds) summed into one line: `✓ Pre-dump ×3: 1.20 s`. */
function finishedLines(finished: readonly FinishedPhase[]): string[] {
  const sums = new Map<Phase, { n: number; s: number }>();
  for (const f of finished) {
    const cur = sums.get(f.phase) ?? { n: 0, s: 0 };
    sums.set(f.phase, { n: cur.n + 1, s: cur.s + f.seconds });
  }
  return [...sums].map(([phase, { n, s }]) => `:heavy_check_mark: ${PHASE_LABELS[phase]}${n > 1 ? ` ×${n}` : ''}: ${seconds(s)}`);
}

/**
 * One line for a thread reply, or null for events the status message already shows (phase starts,
 * the per-round pre-dump and pre-copy phase ends, which the `round` event sums up).
 */
export function phaseReply(e: MigrationEvent): string | null {
  switch (e.type) {
    case 'method':
      return `Method ${bold(methodLabel(e.method))}: ${esc(e.reason)}`;
    case 'phase-start':
      return null;
    case 'phase-end':
      if (e.phase === 'pre-dump' || e.phase === 'pre-copy') return null;
      return `:heavy_check_mark: ${PHASE_LABELS[e.phase]}${e.detail ? ` (${esc(e.detail)})` : ''} done in ${seconds(e.seconds)}`;
    case 'round':
      return `Pre-copy round ${e.round}: ${e.pagesWritten} pages written, ${e.pagesSkipped} skipped, ${seconds(e.seconds)}`;
    case 'info':
      return esc(e.message);
    case 'frozen':
      return ':ice_cube: Container frozen: downtime starts now';
    case 'rollback':
      return `:warning: Rolling back: ${esc(e.reason)}`;
  }
}

/** Room for a hook's output in one section, leaving space for the title line and the fences. */
const HOOK_BODY_MAX = 2800;

/**
 * A batch of a hook playbook's output, for a thread reply: the hook, then its lines in a code
 * block (each line clipped, the block kept within a section, saying how many lines were left out).
 */
export function hookReply(hook: string, lines: readonly string[]): string {
  return `:scroll: ${code(hook)} hook\n${codeBlock(fitLines(lines.map((l) => clipText(l, 400)), HOOK_BODY_MAX))}`;
}

/** The thread reply once the worker has provisioned both hosts; `detail` is the playbook's summary (`2 changes`). */
export function provisionReply(from: string, to: string, detail?: string): string {
  return `Provisioned ${bold(from)} and ${bold(to)}: ${esc(detail ?? 'done')}`;
}
