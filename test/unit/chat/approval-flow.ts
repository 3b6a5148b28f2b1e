import { expect } from 'vitest';
import type { MigrationQueue } from '../../../src/queue/MigrationQueue.ts';
import type { RecordedCall, SlackStandIn } from '../../helpers/slack-standin.ts';

export const ALICE = 'UALICE';
export const BOB = 'UBOB';

/** How a test delivers Slack's requests to the app: over HTTP (signed posts) or over Socket Mode (envelopes). */
export interface SlackDriver {
  /** `/migrate <text>` from `user` in channel COPS, with response_url `<stand-in>/respond/<user>`. */
  command(user: string, text: string): Promise<void>;
  /** A click of a button (block_actions) by `user` on the message `messageTs`. */
  click(user: string, actionId: string, value: string, messageTs: string): Promise<void>;
}

/** The slash command's fields as Slack sends them (a form body over HTTP, the payload of a Socket Mode envelope). */
export function commandFields(slackUrl: string, user: string, text: string): Record<string, string> {
  return { command: '/migrate', text, user_id: user, user_name: user.toLowerCase(), channel_id: 'COPS', channel_name: 'ops', team_id: 'TFERRY', response_url: `${slackUrl}respond/${user}`, trigger_id: '1.2.3', api_app_id: 'AFERRY' };
}

/** A block_actions payload as Slack sends it for a click on a Ferry button. */
export function clickPayload(slackUrl: string, user: string, actionId: string, value: string, messageTs: string): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: { id: user },
    team: { id: 'TFERRY' },
    api_app_id: 'AFERRY',
    channel: { id: 'COPS' },
    message: { ts: messageTs },
    container: { type: 'message', message_ts: messageTs, channel_id: 'COPS' },
    trigger_id: '1.2.3',
    response_url: `${slackUrl}respond/${user}`,
    actions: [{ type: 'button', action_id: actionId, value, block_id: 'ferry_approval', action_ts: '1' }],
  };
}

const textOf = (c: RecordedCall) => JSON.stringify(c.args);

/**
 * The approval flow every Slack transport must carry (HTTP and Socket Mode run the same steps): Alice
 * asks to move web1 from lab-1 to lab-2, her own approval is refused privately (through her click's
 * response_url), Bob approves, the request message becomes the job's status and the job waits in the
 * real queue. Stops at the enqueued job: running it needs the lab. Returns the migration id.
 */
export async function approvalFlow(slack: SlackStandIn, drive: SlackDriver, queue: MigrationQueue): Promise<string> {
  const n = slack.calls.length;
  await drive.command(ALICE, 'web1 from lab-1 to lab-2 method page-server');
  const post = await slack.waitFor((c) => slack.calls.indexOf(c) >= n && c.method === 'chat.postMessage' && textOf(c).includes('ferry_approve'), 10_000);
  expect(post.args.channel).toBe('COPS');
  expect(post.token).toBe('xoxb-test');
  const id = /"value":"(m-[a-z0-9-]+)"/.exec(textOf(post))![1]!;
  const ts = String(post.result.ts);

  const s = slack.calls.length;
  await drive.click(ALICE, 'ferry_approve', id, ts);
  const self = await slack.waitFor((c) => slack.calls.indexOf(c) >= s && c.method === `respond/${ALICE}`, 10_000);
  expect(self.args).toMatchObject({ response_type: 'ephemeral', replace_original: false });
  expect(textOf(self)).toMatch(/you asked for this migration yourself/);
  expect(await queue.get(id)).toBeUndefined();

  await drive.click(BOB, 'ferry_approve', id, ts);
  const status = await slack.waitFor((c) => c.method === 'chat.update' && c.args.ts === ts, 10_000);
  expect(textOf(status)).toMatch(/queued/);
  const job = await queue.get(id);
  expect(job?.data).toMatchObject({ id, container: 'web1', from: 'lab-1', to: 'lab-2', method: 'page-server', requestedBy: ALICE, approvedBy: BOB, thread: { channel: 'COPS', statusTs: ts } });
  expect(await job!.getState()).toBe('waiting');
  // Nothing went through chat.postEphemeral: every private answer used the request's response_url.
  expect(slack.calls.slice(n).filter((c) => c.method === 'chat.postEphemeral')).toEqual([]);
  return id;
}
