import { describe, expect, it } from 'vitest';
import type { SectionBlock } from '../../../../src/chat/core/blocks.ts';
import { toConsoleText } from '../../../../src/chat/core/console-render.ts';
import { approvalClosed, approvalRequest, dryRunReport, note, phaseReply, statusMessage, summary, type ApprovalView } from '../../../../src/chat/core/render.ts';
import { applyEvent, queuedStatus, reportStatus, type StatusView } from '../../../../src/chat/core/status.ts';
import type { MigrationEvent } from '../../../../src/migrate/events.ts';
import { expectValidMessage } from '../block-kit.ts';
import { ID, report } from '../fixtures.ts';

/**
 * A migration to a target group (`/migrate web1 from aws-1 to group:cloud-b`) in chat: the approval
 * card and the status show `group:cloud-b` until the worker picks a member; then the status names the
 * member, and the thread and the summary say which and why.
 */

const REASON = 'gcp-2 from group cloud-b: it has the most free memory (6.0 GiB, against 2.0 GiB on gcp-1). Passed over: aws-1 (the source).';
const picked: MigrationEvent = { type: 'target', group: 'cloud-b', host: 'gcp-2', reason: REASON };
const sections = (m: { blocks: unknown[] }) => m.blocks.filter((b): b is SectionBlock => (b as SectionBlock).type === 'section').map((b) => b.text.text);

describe('a target group in the approval card', () => {
  const view: ApprovalView = { id: ID, requesterId: 'U0ALICE01', container: 'web1', from: 'aws-1', to: 'group:cloud-b', method: 'auto', envs: ['aws', 'gcp'] };

  it('shows the target as asked for, and says a member is picked when it runs', () => {
    const msg = approvalRequest(view);
    expectValidMessage(msg);
    const [first] = sections(msg);
    expect(first).toContain('asks to move *web1* from *aws-1* to *group:cloud-b*');
    expect(first).toContain('A target group: when it runs, Ferry picks the member of group *cloud-b* best able to take it (never *aws-1*), and says which and why in the thread.');
    expect(msg.text).toContain('from aws-1 to group:cloud-b');
  });

  it('says how to ask again with the group, once expired', () => {
    expect(sections(approvalClosed(view, { status: 'expired' })).join('\n')).toContain('`/migrate web1 from aws-1 to group:cloud-b`');
  });

  it('has no such line for a host target', () => {
    expect(sections(approvalRequest({ ...view, to: 'gcp-1' })).join('\n')).not.toContain('target group');
  });
});

describe('a target group in the status and the thread', () => {
  const queued = queuedStatus({ id: ID, container: 'web1', from: 'aws-1', to: 'group:cloud-b', method: 'auto' });

  it('shows group:cloud-b until the pick, then the member and where it came from', () => {
    expect(sections(statusMessage(queued))[0]).toBe(':hourglass_flowing_sand: *web1* *aws-1* → *group:cloud-b*: queued');
    const s = applyEvent(queued, picked);
    expect(s).toMatchObject({ status: 'running', to: 'gcp-2', targetGroup: 'cloud-b' });
    expect(sections(statusMessage(s))[0]).toMatch(/^:arrows_counterclockwise: \*web1\* \*aws-1\* → \*gcp-2\* \(from group \*cloud-b\*\): running …/);
    expect(statusMessage(s).text).toBe(`web1 aws-1 → gcp-2 (from group cloud-b): running (migration ${ID})`);
  });

  it('posts the pick and its reason to the thread', () => {
    expect(phaseReply(picked)).toBe(`:dart: Target picked: ${REASON}`);
    expect(phaseReply({ ...picked, reason: 'gcp-2 <!channel> & co' })).toBe(':dart: Target picked: gcp-2 &lt;!channel&gt; &amp; co');
    // The console chat shows the emoji as a character of its own.
    expect(toConsoleText(note(phaseReply(picked)!))).toBe(`◎ Target picked: ${REASON}`);
  });

  it('ends naming the member, even when the pick event was missed', () => {
    const r = report({ from: 'aws-1', to: 'gcp-2', runsOn: 'gcp-2', groupTarget: { group: 'cloud-b', reason: REASON } });
    const s: StatusView = reportStatus(queued, r);
    expect(s).toMatchObject({ status: 'done', to: 'gcp-2', targetGroup: 'cloud-b' });
    expect(sections(statusMessage(s))[0]).toMatch(/^:white_check_mark: \*web1\* moved from \*aws-1\* to \*gcp-2\* \(from group \*cloud-b\*\) in 9\.87 s/);
  });
});

describe('a target group in the summary and the dry run', () => {
  it('the summary says which member and why, under its head line', () => {
    const msg = summary(report({ from: 'aws-1', to: 'gcp-2', runsOn: 'gcp-2', groupTarget: { group: 'cloud-b', reason: REASON } }));
    expectValidMessage(msg);
    expect(sections(msg)[0]!.split('\n').slice(0, 2)).toEqual([':white_check_mark: *web1* moved from *aws-1* to *gcp-2*', `:dart: Target picked: ${REASON}`]);
  });

  it('the dry run says which member would be picked and why', () => {
    const m = dryRunReport('web1', {
      plan: 'move web1 from aws-1 to gcp-2 (picked from group cloud-b) with page-server; terraform plan (local): no changes',
      reason: 'no soft-dirty tracking on aws-1',
      provisionCheck: {},
      blockers: [],
      target: { reason: REASON },
    });
    expectValidMessage(m);
    expect((m.blocks[0] as SectionBlock).text.text.split('\n')).toEqual([
      '*Dry run* for *web1*: would move web1 from aws-1 to gcp-2 (picked from group cloud-b) with page-server; terraform plan (local): no changes.',
      'Why: no soft-dirty tracking on aws-1',
      `:dart: Target: ${REASON}`,
    ]);
  });
});
