import { describe, expect, it } from 'vitest';
import type { ContextBlock, SectionBlock } from '../../../../src/chat/core/blocks.ts';
import { phaseReply, statusMessage } from '../../../../src/chat/core/render.ts';
import { queuedStatus, type StatusView } from '../../../../src/chat/core/status.ts';
import type { MigrationEvent } from '../../../../src/migrate/events.ts';
import { expectValidMessage } from '../block-kit.ts';
import { ID } from '../fixtures.ts';

const base = queuedStatus({ id: ID, container: 'web1', from: 'aws-1', to: 'gcp-1', method: 'auto', requesterId: 'U0ALICE01', approverId: 'U0BOB0001' });
const sections = (s: StatusView) => statusMessage(s).blocks.filter((b): b is SectionBlock => b.type === 'section').map((b) => b.text.text);
const contextText = (s: StatusView) => (statusMessage(s).blocks.find((b) => b.type === 'context') as ContextBlock).elements[0]!.text;

describe('statusMessage', () => {
  it('shows a queued migration with its queue position', () => {
    const s = { ...base, position: 2 };
    expectValidMessage(statusMessage(s));
    expect(sections(s)).toEqual([':hourglass_flowing_sand: *web1* *aws-1* → *gcp-1*: queued (position 2)']);
    expect(statusMessage(s).text).toBe(`web1 aws-1 → gcp-1: queued (migration ${ID})`);
  });

  it('shows who asked, who approved, the id, and a dry run', () => {
    expect(contextText({ ...base, dryRun: true })).toBe(`migration \`${ID}\` · requested by <@U0ALICE01> · approved by <@U0BOB0001> · dry run`);
  });

  it('shows a running migration’s current phase, method and finished phases with seconds', () => {
    const s: StatusView = {
      ...base,
      status: 'running',
      method: 'pc-ps-rsync',
      methodReason: 'both hosts track dirty memory',
      phase: 'checkpoint',
      phaseDetail: 'final dump',
      finished: [
        { phase: 'preflight', seconds: 0.4 },
        { phase: 'pre-dump', seconds: 1, detail: 'round 1' },
        { phase: 'pre-copy', seconds: 0.25 },
        { phase: 'pre-dump', seconds: 0.5, detail: 'round 2' },
        { phase: 'pre-copy', seconds: 0.125 },
      ],
    };
    expectValidMessage(statusMessage(s));
    const [head, done] = sections(s);
    expect(head).toBe(
      ':arrows_counterclockwise: *web1* *aws-1* → *gcp-1*: *Checkpoint* (final dump) …\nMethod *pc-ps-rsync (PC &amp; PS + Rsync)*: both hosts track dirty memory',
    );
    expect(done).toBe(':heavy_check_mark: Preflight checks: 0.40 s\n:heavy_check_mark: Pre-dump ×2: 1.50 s\n:heavy_check_mark: Pre-copy ×2: 0.38 s');
    expect(statusMessage(s).text).toBe(`web1 aws-1 → gcp-1: Checkpoint (migration ${ID})`);
  });

  it('says when the container is frozen and when it rolls back', () => {
    const s: StatusView = { ...base, status: 'running', phase: 'restore', frozen: true, rollbackReason: 'restore failed: <oops>' };
    expect(sections(s)[0]).toContain(':ice_cube: container frozen, downtime running\n:warning: rolling back: restore failed: &lt;oops&gt;');
  });

  it('shows the latest note while running', () => {
    expect(sections({ ...base, status: 'running', note: 'waiting for the remaining pages' })[0]).toContain('\nwaiting for the remaining pages');
  });

  it('shows a finished migration with total and downtime', () => {
    const s: StatusView = { ...base, status: 'done', method: 'normal', runsOn: 'gcp-1', totalSeconds: 9.87, downtimeSeconds: 1.4249 };
    expect(sections(s)[0]).toMatch(/^:white_check_mark: \*web1\* moved from \*aws-1\* to \*gcp-1\* in 9\.87 s \(downtime 1\.42 s\)\n/);
    expect(statusMessage(s).text).toBe(`web1 moved from aws-1 to gcp-1 in 9.87 s (downtime 1.42 s) (migration ${ID})`);
  });

  it('shows a failure and where the container runs', () => {
    const s: StatusView = { ...base, status: 'failed', error: 'ssh to gcp-1 timed out', runsOn: 'aws-1' };
    expect(sections(s)[0]).toMatch(/^:x: \*web1\* \*aws-1\* → \*gcp-1\*: failed: ssh to gcp-1 timed out\n\*web1\* runs on \*aws-1\*\.\n/);
    expect(statusMessage(s).text).toBe(`web1 aws-1 → gcp-1: failed, runs on aws-1 (migration ${ID})`);
  });

  it('raises the alarm when nobody knows where the container runs', () => {
    const s: StatusView = { ...base, status: 'failed', error: 'rollback failed' };
    expect(sections(s)[0]).toContain(':rotating_light: Ferry cannot tell where *web1* runs now: check *aws-1* and *gcp-1*.');
  });

  it('shows a rollback', () => {
    const s: StatusView = { ...base, status: 'rolled-back', error: 'health check failed', runsOn: 'aws-1' };
    expect(sections(s)[0]).toMatch(/^:leftwards_arrow_with_hook: \*web1\* was not moved: rolled back \(health check failed\)\n\*web1\* runs on \*aws-1\*\./);
  });

  it('shows a cancellation and who cancelled', () => {
    const s: StatusView = { ...base, status: 'cancelled', cancelledBy: 'U0ALICE01', runsOn: 'aws-1' };
    expect(sections(s)[0]).toMatch(/^:no_entry_sign: \*web1\* \*aws-1\* → \*gcp-1\*: cancelled by <@U0ALICE01>\n\*web1\* runs on \*aws-1\*\./);
  });

  it('stays within Slack limits with a huge error', () => {
    const s: StatusView = { ...base, status: 'failed', error: 'x'.repeat(10_000), runsOn: 'aws-1' };
    expectValidMessage(statusMessage(s));
  });
});

describe('phaseReply', () => {
  it.each<[MigrationEvent, string | null]>([
    [{ type: 'method', method: 'page-server', reason: 'pre-copy is out' }, 'Method *page-server (Page Server)*: pre-copy is out'],
    [{ type: 'phase-start', phase: 'checkpoint' }, null],
    [{ type: 'phase-end', phase: 'checkpoint', seconds: 0.806 }, ':heavy_check_mark: Checkpoint done in 0.81 s'],
    [{ type: 'phase-end', phase: 'transfer', seconds: 2, detail: 'rsync' }, ':heavy_check_mark: Transfer (rsync) done in 2.00 s'],
    [{ type: 'phase-end', phase: 'health', seconds: 0.1 }, ':heavy_check_mark: Health check done in 0.10 s'],
    [{ type: 'phase-end', phase: 'pre-dump', seconds: 1, detail: 'round 1' }, null],
    [{ type: 'phase-end', phase: 'pre-copy', seconds: 1 }, null],
    [{ type: 'round', round: 2, pagesWritten: 300, pagesSkipped: 9700, seconds: 0.214 }, 'Pre-copy round 2: 300 pages written, 9700 skipped, 0.21 s'],
    [{ type: 'info', message: 'pre-copy stops after round 3: <5% dirty' }, 'pre-copy stops after round 3: &lt;5% dirty'],
    [{ type: 'frozen' }, ':ice_cube: Container frozen: downtime starts now'],
    [{ type: 'rollback', reason: 'restore failed' }, ':warning: Rolling back: restore failed'],
  ])('%j → %j', (event, line) => {
    expect(phaseReply(event)).toBe(line);
  });
});

describe('statusMessage and phaseReply for a group', () => {
  const g = queuedStatus({ id: ID, group: 'blog', from: 'aws-1', to: 'gcp-1', method: 'page-server', requesterId: 'U0ALICE01', approverId: 'U0BOB0001' });

  it('names the group in every state', () => {
    expect(sections(g)[0]).toBe(':hourglass_flowing_sand: group *blog* *aws-1* → *gcp-1*: queued');
    expect(statusMessage(g).text).toBe(`group blog aws-1 → gcp-1: queued (migration ${ID})`);
    expect(sections({ ...g, status: 'running', phase: 'checkpoint', frozen: true })[0]).toContain(':arrows_counterclockwise: group *blog* *aws-1* → *gcp-1*: *Checkpoint* …\n:ice_cube: members frozen, downtime running');
    expect(sections({ ...g, status: 'done', runsOn: 'gcp-1', totalSeconds: 6, downtimeSeconds: 2.1 })[0]).toMatch(/^:white_check_mark: group \*blog\* moved from \*aws-1\* to \*gcp-1\* in 6\.00 s \(downtime 2\.10 s\)/);
    expect(sections({ ...g, status: 'failed', error: 'boom' })[0]).toContain(':rotating_light: Ferry cannot tell where group *blog* runs now: check *aws-1* and *gcp-1*.');
  });

  it('lists each member’s finished phases on lines of their own', () => {
    const s: StatusView = {
      ...g,
      status: 'running',
      finished: [
        { phase: 'preflight', seconds: 0.4, member: 'blog-db' },
        { phase: 'preflight', seconds: 0.3, member: 'blog-web' },
        { phase: 'checkpoint', seconds: 0.5, member: 'blog-db' },
        { phase: 'checkpoint', seconds: 0.6, member: 'blog-web' },
      ],
    };
    expectValidMessage(statusMessage(s));
    expect(sections(s)[1]).toBe(
      ':heavy_check_mark: *blog-db*: Preflight checks: 0.40 s\n:heavy_check_mark: *blog-db*: Checkpoint: 0.50 s\n:heavy_check_mark: *blog-web*: Preflight checks: 0.30 s\n:heavy_check_mark: *blog-web*: Checkpoint: 0.60 s',
    );
  });

  it('says where each member runs when they ended on different hosts', () => {
    const s: StatusView = { ...g, status: 'rolled-back', error: 'x', membersOn: [{ container: 'blog-db', runsOn: 'gcp-1' }, { container: 'blog-web', runsOn: 'aws-1' }] };
    expect(sections(s)[0]).toContain('\n*blog-db* runs on *gcp-1*. *blog-web* runs on *aws-1*.');
  });

  it('prefixes a member’s thread reply with its name, and leaves out what it leaves out for a container', () => {
    expect(phaseReply({ type: 'frozen' }, 'blog-db')).toBe('*blog-db*: :ice_cube: Container frozen: downtime starts now');
    expect(phaseReply({ type: 'phase-start', phase: 'checkpoint' }, 'blog-db')).toBeNull();
    expect(phaseReply({ type: 'info', message: '<b>' }, 'blog-web')).toBe('*blog-web*: &lt;b&gt;');
  });
});
