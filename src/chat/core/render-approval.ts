import type { MethodRequest } from '../../migrate/methods.ts';
import { subjectText, type MigrationSubject } from '../../migrate/request.ts';
import { GROUP_TARGET_PREFIX } from '../../util/names.ts';
import { button, confirmDialog, context, message, section, type ChatMessage } from './blocks.ts';
import { commandText } from './command-text.ts';
import { methodLabel } from './labels.ts';
import { bold, code, esc, mention, slackDate } from './mrkdwn.ts';

/** Action ids of the approval buttons; the adapter registers handlers for these. The button value is the request id. */
export const ACTION_IDS = { approve: 'ferry_approve', reject: 'ferry_reject' } as const;

/** A migration waiting for a second person: of a container, or of a group (`group` set). */
export type ApprovalView = ApprovalFields & MigrationSubject;

export interface ApprovalFields {
  /** Request id: the value of both buttons (use the migration id it will run under). */
  id: string;
  requesterId: string;
  from: string;
  /** A host, or `group:NAME` (a member is picked when the migration runs). */
  to: string;
  method: MethodRequest;
  /** Checks and method choice only; nothing is frozen. @defaultValue false */
  dryRun?: boolean;
  /** Environments the migration touches (both hosts', or the source's and every member's of a target group). */
  envs?: readonly string[];
  /** When approval closes (createdAt + the policy's approvalTtlMinutes). */
  expiresAt?: Date;
}

export type ApprovalOutcome = { status: 'approved'; by: string } | { status: 'rejected'; by: string } | { status: 'expired' } | { status: 'cancelled'; by: string };

/** The request message: who asks to move what, where and how, with Approve (confirmed) and Reject buttons. */
export function approvalRequest(req: ApprovalView): ChatMessage {
  const verb = req.dryRun ? 'asks for a dry run of moving' : 'asks to move';
  const what = subjectText(req, bold);
  const confirmText = req.dryRun
    ? `Run a dry run for ${what} from ${bold(req.from)} to ${bold(req.to)}? Ferry checks both hosts and picks a method; nothing is frozen or moved.`
    : req.group !== undefined
      ? `Move ${what} from ${bold(req.from)} to ${bold(req.to)} (method ${esc(req.method)})? Every member running on ${bold(req.from)} is frozen briefly, all together, for the switch; if a step of any member fails, all of them roll back to ${bold(req.from)}.`
      : `Move ${what} from ${bold(req.from)} to ${bold(req.to)} (method ${esc(req.method)})? It is frozen briefly for the switch; if a step fails it rolls back to ${bold(req.from)}.`;
  return message(`${mention(req.requesterId)} ${verb} ${subjectText(req, esc)} from ${esc(req.from)} to ${esc(req.to)} (method ${esc(req.method)}): approve or reject in Slack`, [
    describe(req),
    {
      type: 'actions',
      block_id: 'ferry_approval',
      elements: [
        button({
          text: 'Approve',
          actionId: ACTION_IDS.approve,
          value: req.id,
          style: 'primary',
          confirm: confirmDialog({ title: req.dryRun ? 'Approve this dry run?' : 'Approve this migration?', text: confirmText, confirm: 'Approve', deny: 'Not yet' }),
        }),
        button({ text: 'Reject', actionId: ACTION_IDS.reject, value: req.id, style: 'danger' }),
      ],
    },
    context(...footer(req)),
  ]);
}

/** The same request once it is decided: no buttons left to click, and who decided. */
export function approvalClosed(req: ApprovalView, outcome: ApprovalOutcome): ChatMessage {
  const line =
    outcome.status === 'approved'
      ? `:white_check_mark: Approved by ${mention(outcome.by)}: migration ${code(req.id)} is queued.`
      : outcome.status === 'rejected'
        ? `:x: Rejected by ${mention(outcome.by)}.`
        : outcome.status === 'cancelled'
          ? `:no_entry_sign: Withdrawn by ${mention(outcome.by)}.`
          : `:hourglass: Expired without approval: ask again with ${code(`/migrate ${again(req)}`)}.`;
  const decided = outcome.status === 'expired' ? 'expired without approval' : `${outcome.status} by ${mention(outcome.by)}`;
  return message(`Migration request ${esc(req.id)} for ${subjectText(req, esc)} (${esc(req.from)} → ${esc(req.to)}) ${decided}`, [describe(req), section(line), context(`request ${code(req.id)}`)]);
}

/** The same request, to type again. */
function again(req: ApprovalView): string {
  const route = { kind: 'migrate' as const, from: req.from, to: req.to, method: req.method };
  return commandText(req.group !== undefined ? { ...route, group: req.group, dryRun: false } : { ...route, container: req.container, dryRun: req.dryRun ?? false });
}

function describe(req: ApprovalView) {
  const ask = req.dryRun ? 'asks for a *dry run* of moving' : 'asks to move';
  const lines = [
    `:twisted_rightwards_arrows: *Migration request* ${code(req.id)}`,
    `${mention(req.requesterId)} ${ask} ${subjectText(req, bold)} from ${bold(req.from)} to ${bold(req.to)} with method ${bold(methodLabel(req.method))}.`,
  ];
  if (req.group !== undefined) {
    lines.push(`A group: every container of ${bold(req.group)} running on ${bold(req.from)} moves, frozen together (one downtime window) and restored in order; if one fails, all roll back.`);
  }
  if (req.to.startsWith(GROUP_TARGET_PREFIX)) {
    const group = req.to.slice(GROUP_TARGET_PREFIX.length);
    lines.push(`A target group: when it runs, Ferry picks the member of group ${bold(group)} best able to take it (never ${bold(req.from)}), and says which and why in the thread.`);
  }
  if (req.dryRun) lines.push('Dry run: Ferry checks both hosts and picks the method; nothing is frozen or moved.');
  return section(lines.join('\n'));
}

function footer(req: ApprovalView): string[] {
  const parts = [];
  if (req.envs?.length) parts.push(`Environments: ${req.envs.map(esc).join(', ')}`);
  if (req.expiresAt) parts.push(`Approval closes ${slackDate(req.expiresAt)}`);
  parts.push('Needs an approver other than the requester');
  return [parts.join(' · ')];
}
