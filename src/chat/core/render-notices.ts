import { clipText } from '../../util/printable.ts';
import { context, message, section, type Block, type ChatMessage } from './blocks.ts';
import { commandText } from './command-text.ts';
import { bold, code, codeBlock, esc, link } from './mrkdwn.ts';
import { USAGE } from './usage.ts';

/**
 * Help, or a usage error: the problem (if any) then the usage in a code block. Takes a `ferry_usage`
 * error's message as it is (the usage text it ends with is not repeated), or nothing for plain help.
 */
export function usage(errorMessage?: string): ChatMessage {
  const problem = (errorMessage ?? '').replace(USAGE, '').trim();
  const blocks: Block[] = [];
  if (problem) blocks.push(section(`:warning: ${esc(problem)}`));
  blocks.push(section(codeBlock(USAGE)));
  return message(problem ? `${esc(problem)} (see /migrate help)` : esc(USAGE), blocks);
}

/**
 * The policy said no. Send it ephemeral, to the person who asked. `groupsError` says why their user
 * groups could not be read, when that may be why: a group in the policy could not match them.
 */
export function denied(reason: string, opts: { groupsError?: string } = {}): ChatMessage {
  const blocks: Block[] = [section(`:no_entry: Not allowed: ${esc(reason)}`)];
  if (opts.groupsError) {
    blocks.push(section(`:warning: Ferry could not read your user groups (${esc(clipText(opts.groupsError, 300))}), so policy entries naming groups could not match you. If a group should allow you, try again in a minute; if it keeps failing, tell whoever runs Ferry.`));
  }
  return message(`Not allowed: ${esc(reason)}${opts.groupsError ? ' (your user groups could not be read)' : ''}`, blocks);
}

/** Too many commands too fast (the per-person rate limit): when to try again. */
export function slowDown(retryAfterMs: number, limit: { burst: number; perMinute: number }): ChatMessage {
  const wait = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const what = `You are asking faster than Ferry answers: ${limit.perMinute} read commands a minute per person (${limit.burst} at once). Try again in ${wait} s.`;
  return message(what, [section(`:hourglass: ${what}`)]);
}

/**
 * One migration per container (and per group) at a time: points to the one under way. `container`
 * is what is migrating, in words (`web1`, `group blog`); `link` is its status message permalink (https).
 */
export function alreadyMigrating(container: string, existingId: string, link_?: string): ChatMessage {
  const status = code(`/migrate ${commandText({ kind: 'status', id: existingId })}`);
  const follow = link_ ? `${link(link_, 'Follow it here')}, or run ${status}` : `Follow it with ${status}`;
  return message(`${esc(container)} is already being migrated (migration ${esc(existingId)})`, [
    section(
      `:warning: ${bold(container)} is already being migrated (migration ${code(existingId)}). ${follow}; to stop it before the freeze: ${code(`/migrate ${commandText({ kind: 'cancel', id: existingId })}`)}.`,
    ),
  ]);
}

/** A one-section message of mrkdwn text (thread replies, short answers), clipped to Slack's limits. */
export function note(text: string): ChatMessage {
  return message(text, [section(text)]);
}

/**
 * A request Ferry failed to handle (Slack's app.error handler): what failed, that it is logged, what to
 * do. `reason` is the error's message, shown escaped and clipped; `errorCode` its stable code.
 */
export function requestFailed(reason: string, errorCode?: string): ChatMessage {
  const what = `Ferry could not handle that request: ${esc(clipText(reason.trim() || 'unknown error', 300))}`;
  return message(what, [section(`:warning: ${what}\nIt is logged. Try again; if it fails again, tell whoever runs Ferry.`), context(errorCode ? `code ${code(errorCode)}` : '')]);
}
