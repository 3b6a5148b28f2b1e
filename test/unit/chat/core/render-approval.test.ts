import { describe, expect, it } from 'vitest';
import type { ActionsBlock, SectionBlock } from '../../../../src/chat/core/blocks.ts';
import { ACTION_IDS, approvalClosed, approvalRequest, type ApprovalView } from '../../../../src/chat/core/render.ts';
import { expectValidMessage } from '../block-kit.ts';
import { ID } from '../fixtures.ts';

const view: ApprovalView = {
  id: ID,
  requesterId: 'U0ALICE01',
  container: 'web1',
  from: 'aws-1',
  to: 'gcp-1',
  method: 'pc-ps-rsync',
  envs: ['aws', 'gcp'],
  expiresAt: new Date('2025-03-01T12:15:00Z'),
};

const actions = (blocks: unknown[]) => blocks.filter((b): b is ActionsBlock => (b as { type: string }).type === 'actions');

describe('approvalRequest', () => {
  const msg = approvalRequest(view);

  it('is valid Block Kit', () => {
    expectValidMessage(msg);
  });

  it('says who asked to move what, from where to where, with which method', () => {
    const first = msg.blocks[0] as SectionBlock;
    expect(first.type).toBe('section');
    expect(first.text.type).toBe('mrkdwn');
    expect(first.text.text).toContain(`*Migration request* \`${ID}\``);
    expect(first.text.text).toContain('<@U0ALICE01> asks to move *web1* from *aws-1* to *gcp-1* with method *pc-ps-rsync (PC &amp; PS + Rsync)*.');
  });

  it('has an Approve button (primary, confirmed) and a Reject button (danger), both carrying the request id', () => {
    const [block, ...more] = actions(msg.blocks);
    expect(more).toHaveLength(0);
    expect(block!.elements).toHaveLength(2);
    const [approve, reject] = block!.elements;
    expect(approve).toMatchObject({ type: 'button', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', action_id: 'ferry_approve', value: ID });
    expect(reject).toMatchObject({ type: 'button', text: { type: 'plain_text', text: 'Reject' }, style: 'danger', action_id: 'ferry_reject', value: ID });
    expect(reject!.confirm).toBeUndefined();
  });

  it('asks for confirmation before approving', () => {
    const confirm = actions(msg.blocks)[0]!.elements[0]!.confirm!;
    expect(confirm.title).toEqual({ type: 'plain_text', text: 'Approve this migration?', emoji: true });
    expect(confirm.text.type).toBe('mrkdwn');
    expect(confirm.text.text).toBe('Move *web1* from *aws-1* to *gcp-1* (method pc-ps-rsync)? It is frozen briefly for the switch; if a step fails it rolls back to *aws-1*.');
    expect(confirm.confirm.text).toBe('Approve');
    expect(confirm.deny.text).toBe('Not yet');
  });

  it('exports the action ids the adapter listens for', () => {
    expect(ACTION_IDS).toEqual({ approve: 'ferry_approve', reject: 'ferry_reject' });
  });

  it('shows the environments and when approval closes', () => {
    const ctx = msg.blocks.find((b) => b.type === 'context');
    expect(ctx).toBeDefined();
    const text = (ctx as { elements: { text: string }[] }).elements[0]!.text;
    expect(text).toContain('Environments: aws, gcp');
    expect(text).toContain(`<!date^${Date.parse('2025-03-01T12:15:00Z') / 1000}^{date_short_pretty} {time}|2025-03-01 12:15 UTC>`);
    expect(text).toContain('Needs an approver other than the requester');
  });

  it('has a text fallback naming the request', () => {
    expect(msg.text).toBe('<@U0ALICE01> asks to move web1 from aws-1 to gcp-1 (method pc-ps-rsync): approve or reject in Slack');
  });

  it('describes auto as Ferry’s choice', () => {
    expect((approvalRequest({ ...view, method: 'auto' }).blocks[0] as SectionBlock).text.text).toContain('with method *auto (the fastest method both hosts support)*');
  });

  it('marks a dry run everywhere', () => {
    const dry = approvalRequest({ ...view, dryRun: true });
    expectValidMessage(dry);
    expect((dry.blocks[0] as SectionBlock).text.text).toContain('asks for a *dry run* of moving *web1*');
    expect((dry.blocks[0] as SectionBlock).text.text).toContain('nothing is frozen or moved');
    expect(actions(dry.blocks)[0]!.elements[0]!.confirm!.title.text).toBe('Approve this dry run?');
    expect(dry.text).toBe('<@U0ALICE01> asks for a dry run of moving web1 from aws-1 to gcp-1 (method pc-ps-rsync): approve or reject in Slack');
  });

  it('escapes a requester that is not a Slack ID instead of mentioning it', () => {
    const m = approvalRequest({ ...view, requesterId: 'bob<@U0ADMIN01>' });
    expect((m.blocks[0] as SectionBlock).text.text).toContain('bob&lt;@U0ADMIN01&gt; asks');
    expect(m.text.startsWith('bob&lt;@U0ADMIN01&gt;')).toBe(true);
  });

  it('leaves out the optional footer parts it was not given', () => {
    const m = approvalRequest({ id: ID, requesterId: 'U0ALICE01', container: 'web1', from: 'aws-1', to: 'gcp-1', method: 'auto' });
    expectValidMessage(m);
    const text = JSON.stringify(m);
    expect(text).not.toContain('Environments');
    expect(text).not.toContain('<!date');
  });
});

describe('approvalClosed', () => {
  it.each([
    [{ status: 'approved', by: 'U0BOB0001' } as const, `:white_check_mark: Approved by <@U0BOB0001>: migration \`${ID}\` is queued.`],
    [{ status: 'rejected', by: 'U0BOB0001' } as const, ':x: Rejected by <@U0BOB0001>.'],
    [{ status: 'cancelled', by: 'U0ALICE01' } as const, ':no_entry_sign: Withdrawn by <@U0ALICE01>.'],
    [{ status: 'expired' } as const, ':hourglass: Expired without approval: ask again with `/migrate web1 from aws-1 to gcp-1 method pc-ps-rsync`.'],
  ])('%j removes the buttons and says what happened', (outcome, line) => {
    const m = approvalClosed(view, outcome);
    expectValidMessage(m);
    expect(actions(m.blocks)).toHaveLength(0);
    expect(m.blocks.map((b) => (b.type === 'section' ? b.text.text : ''))).toContain(line);
    expect(m.text).toContain(outcome.status === 'expired' ? 'expired without approval' : `${outcome.status} by <@${outcome.by}>`);
  });
});

describe('approvalRequest and approvalClosed for a group', () => {
  const { container: _c, ...rest } = view;
  const group: ApprovalView = { ...rest, group: 'blog', method: 'page-server' };
  const msg = approvalRequest(group);
  const first = (msg.blocks[0] as SectionBlock).text.text;

  it('is valid Block Kit, with the same two buttons carrying the request id', () => {
    expectValidMessage(msg);
    const [block] = actions(msg.blocks);
    expect(block!.elements.map((e) => [e.action_id, e.value])).toEqual([
      ['ferry_approve', ID],
      ['ferry_reject', ID],
    ]);
  });

  it('says it is a group, what that means, and never calls it a container', () => {
    expect(first).toContain('<@U0ALICE01> asks to move group *blog* from *aws-1* to *gcp-1* with method *page-server (Page Server)*.');
    expect(first).toContain('A group: every container of *blog* running on *aws-1* moves, frozen together (one downtime window) and restored in order; if one fails, all roll back.');
    expect(msg.text).toBe('<@U0ALICE01> asks to move group blog from aws-1 to gcp-1 (method page-server): approve or reject in Slack');
    expect(JSON.stringify(msg)).not.toContain('web1');
  });

  it('asks for confirmation in the group’s terms', () => {
    const confirm = actions(msg.blocks)[0]!.elements[0]!.confirm!;
    expect(confirm.title.text).toBe('Approve this migration?');
    expect(confirm.text.text).toBe(
      'Move group *blog* from *aws-1* to *gcp-1* (method page-server)? Every member running on *aws-1* is frozen briefly, all together, for the switch; if a step of any member fails, all of them roll back to *aws-1*.',
    );
  });

  it('keeps the same footer: environments, expiry, a second person', () => {
    const text = (msg.blocks.find((b) => b.type === 'context') as { elements: { text: string }[] }).elements[0]!.text;
    expect(text).toContain('Environments: aws, gcp');
    expect(text).toContain('Needs an approver other than the requester');
  });

  it('closes naming the group, and an expired one says how to ask again', () => {
    const expired = approvalClosed(group, { status: 'expired' });
    expectValidMessage(expired);
    expect(actions(expired.blocks)).toHaveLength(0);
    expect(expired.blocks.map((b) => (b.type === 'section' ? b.text.text : ''))).toContain(':hourglass: Expired without approval: ask again with `/migrate group blog from aws-1 to gcp-1 method page-server`.');
    expect(approvalClosed(group, { status: 'approved', by: 'U0BOB0001' }).text).toBe(`Migration request ${ID} for group blog (aws-1 → gcp-1) approved by <@U0BOB0001>`);
  });
});
