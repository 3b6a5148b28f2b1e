import type { Phase } from '../../migrate/clock.ts';
import type { MigrationEvent } from '../../migrate/events.ts';
import { subjectText } from '../../migrate/request.ts';
import { context, message, section, type Block, type ChatMessage } from './blocks.ts';
import { methodLabel, PHASE_LABELS, seconds } from './labels.ts';
import { clipText } from '../../util/printable.ts';
import { bold, code, codeBlock, esc, fitLines, mention } from './mrkdwn.ts';
import type { FinishedPhase, StatusView } from './status.ts';

/** The live status message, updated in place (chat.update) as the migration advances. */
export function statusMessage(s: StatusView): ChatMessage {
  const route = `${subjectText(s, bold)} ${bold(s.from)} → ${targetText(s, bold)}`;
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
      if (s.frozen) extra.push(s.group !== undefined ? ':ice_cube: members frozen, downtime running' : ':ice_cube: container frozen, downtime running');
      if (s.rollbackReason) extra.push(`:warning: rolling back: ${esc(s.rollbackReason)}`);
      else if (s.note) extra.push(esc(s.note));
      return [`:arrows_counterclockwise: ${route}${now}`, ...extra].join('\n');
    }
    case 'done':
      // A dry run moves nothing: never say it did.
      if (s.dryRun) return `:white_check_mark: ${route}: dry run done, nothing was frozen or moved`;
      return `:white_check_mark: ${subjectText(s, bold)} moved from ${bold(s.from)} to ${targetText(s, bold)}${timing(s)}`;
    case 'failed':
      return `:x: ${route}: failed${s.error ? `: ${esc(s.error)}` : ''}\n${whereNow(s)}`;
    case 'rolled-back':
      return `:leftwards_arrow_with_hook: ${subjectText(s, bold)} was not moved: rolled back${s.error ? ` (${esc(s.error)})` : ''}\n${whereNow(s)}`;
    case 'cancelled':
      return `:no_entry_sign: ${route}: cancelled${s.cancelledBy ? ` by ${mention(s.cancelledBy)}` : ''}\n${whereNow(s)}`;
  }
}

function fallbackHead(s: StatusView): string {
  const route = `${subjectText(s, esc)} ${esc(s.from)} → ${targetText(s, esc)}`;
  switch (s.status) {
    case 'queued':
      return `${route}: queued`;
    case 'running':
      return `${route}: ${s.phase ? PHASE_LABELS[s.phase] : 'running'}`;
    case 'done':
      if (s.dryRun) return `${route}: dry run done, nothing moved`;
      return `${subjectText(s, esc)} moved from ${esc(s.from)} to ${targetText(s, esc)}${timing(s)}`;
    default:
      return `${route}: ${s.status}${s.runsOn ? `, runs on ${esc(s.runsOn)}` : ''}`;
  }
}

/** The target: `lab-2`, `group:cloud-b` until a member is picked, then `lab-2 (from group cloud-b)`. */
function targetText(s: StatusView, fmt: (t: string) => string): string {
  return s.targetGroup === undefined ? fmt(s.to) : `${fmt(s.to)} (from group ${fmt(s.targetGroup)})`;
}

function timing(s: StatusView): string {
  const parts = [];
  if (s.totalSeconds !== undefined) parts.push(`in ${seconds(s.totalSeconds)}`);
  if (s.downtimeSeconds !== undefined) parts.push(`(downtime ${seconds(s.downtimeSeconds)})`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

function whereNow(s: StatusView): string {
  if (s.membersOn?.length) return s.membersOn.map((m) => `${bold(m.container)} runs on ${bold(m.runsOn)}.`).join(' ');
  return s.runsOn
    ? `${subjectText(s, bold)} runs on ${bold(s.runsOn)}.`
    : `:rotating_light: Ferry cannot tell where ${subjectText(s, bold)} runs now: check ${bold(s.from)} and ${bold(s.to)}.`;
}

/**
 * Finished phases, repeated ones (pre-copy rounds) summed into one line: `✓ Pre-dump ×3: 1.20 s`;
 * a group member's phases on lines of their own (`✓ blog-db: Checkpoint: 0.80 s`), members in the
 * order they first finished a phase.
 */
function finishedLines(finished: readonly FinishedPhase[]): string[] {
  const sums = new Map<string, { member?: string; phase: Phase; n: number; s: number }>();
  for (const f of finished) {
    const key = `${f.member ?? ''}\u0000${f.phase}`;
    const cur = sums.get(key) ?? { member: f.member, phase: f.phase, n: 0, s: 0 };
    sums.set(key, { ...cur, n: cur.n + 1, s: cur.s + f.seconds });
  }
  const lines = [...sums.values()].map((x) => ({ member: x.member, line: `:heavy_check_mark: ${x.member === undefined ? '' : `${bold(x.member)}: `}${PHASE_LABELS[x.phase]}${x.n > 1 ? ` ×${x.n}` : ''}: ${seconds(x.s)}` }));
  const members = [...new Set(lines.map((l) => l.member))];
  return members.flatMap((m) => lines.filter((l) => l.member === m).map((l) => l.line));
}

/**
 * One line for a thread reply, or null for events the status message already shows (phase starts,
 * the per-round pre-dump and pre-copy phase ends, which the `round` event sums up). A group
 * member's event is prefixed with the member's name.
 */
export function phaseReply(e: MigrationEvent, member?: string): string | null {
  const line = eventLine(e);
  return line !== null && member !== undefined ? `${bold(member)}: ${line}` : line;
}

function eventLine(e: MigrationEvent): string | null {
  switch (e.type) {
    case 'target':
      return `:dart: Target picked: ${esc(e.reason)}`;
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
