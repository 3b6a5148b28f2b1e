import { describe, expect, it } from 'vitest';
import type { ContextBlock, SectionBlock } from '../../../../src/chat/core/blocks.ts';
import { failure, groupSummary, summary, timesTable } from '../../../../src/chat/core/render.ts';
import { ErrorCode, FerryError } from '../../../../src/errors.ts';
import { PHASE_COLUMNS } from '../../../../src/migrate/clock.ts';
import { COLUMN_TITLES, type GroupReport, type MigrationReport } from '../../../../src/migrate/report.ts';
import { expectValidMessage } from '../block-kit.ts';
import { ID, report } from '../fixtures.ts';

const sectionTexts = (m: { blocks: unknown[] }) => m.blocks.filter((b): b is SectionBlock => (b as SectionBlock).type === 'section').map((b) => b.text.text);
/** The body of the first code block in the message. */
const codeBlockOf = (text: string) => /```\n([\s\S]*?)\n```/.exec(text)?.[1];

describe('summary', () => {
  const msg = summary(report());
  const all = expectValidMessage(msg);

  it('heads with what moved where, and the method and why', () => {
    expect(sectionTexts(msg)[0]).toBe(':white_check_mark: *web1* moved from *aws-1* to *gcp-1*\nMethod *pc-ps-rsync (PC &amp; PS + Rsync)*: both hosts track dirty memory');
  });

  it('has every Table II column, with its value formatted, in a code block', () => {
    const table = codeBlockOf(sectionTexts(msg)[1]!);
    expect(table).toBeDefined();
    const expected: Record<string, string> = { preDump: '1.23', preCopy: '0.50', preMigration: '1.73', checkpoint: '0.81', transfer: '0.20', restore: '0.33', downtime: '1.42', total: '9.87' };
    const lines = table!.split('\n');
    expect(lines[0]).toMatch(/^Phase\s+Seconds$/);
    for (const [i, c] of PHASE_COLUMNS.entries()) {
      expect(lines[i + 2]).toMatch(new RegExp(`^${COLUMN_TITLES[c].replace(/[-()]/g, '\\$&')} \\(s\\)\\s+${expected[c]!.replace('.', '\\.')}$`));
    }
    expect(lines).toHaveLength(PHASE_COLUMNS.length + 2);
  });

  it('shows - for phases the method does not have', () => {
    const r = report({ method: 'normal', rounds: [], precopyStop: undefined, times: { preDump: null, preCopy: null, preMigration: null, checkpoint: 1, transfer: 2, restore: 3, downtime: 4.5, total: 7 } });
    const table = timesTable(r);
    expect(table).toMatch(/Pre-dump \(s\)\s+-\n/);
    expect(table).toMatch(/Pre-migration \(s\)\s+-\n/);
    expect(table).toMatch(/Downtime \(s\)\s+4\.50\n/);
  });

  it('shows the bytes moved, CRIU figures and the health check', () => {
    expect(sectionTexts(msg)[2]).toBe('Moved *50 MiB* (page server 48 MiB, rsync 2.0 MiB)\nCRIU: frozen 812 ms, pages written 1234, skipped 56\nHealth check: tcp 8080 open');
  });

  it('lists lazy pages when there are some', () => {
    const r = report({ method: 'lazy', criu: { frozenMs: 0, pagesWritten: 10, pagesSkipped: 0, pagesLazy: 900 } });
    expect(sectionTexts(summary(r))[2]).toContain('pages written 10, skipped 0, lazy 900');
  });

  it('shows the pre-copy rounds and why pre-copy stopped', () => {
    const rounds = sectionTexts(msg)[3]!;
    expect(rounds.startsWith('*Pre-copy rounds*\n```\n')).toBe(true);
    const body = codeBlockOf(rounds)!.split('\n');
    expect(body[0]).toMatch(/^Round\s+Pages written\s+Pages skipped\s+Seconds$/);
    expect(body[2]).toMatch(/^\s*1\s+10000\s+0\s+0\.90$/);
    expect(body[3]).toMatch(/^\s*2\s+300\s+9700\s+0\.21$/);
    expect(rounds.endsWith('```\nPre-copy stopped: dirty pages under 5%')).toBe(true);
  });

  it('leaves the rounds out when there were none', () => {
    const m = summary(report({ method: 'page-server', rounds: [], precopyStop: undefined }));
    expect(JSON.stringify(m)).not.toContain('Pre-copy rounds');
    expect(sectionTexts(m)).toHaveLength(3);
  });

  it('ends with the migration id and where the container runs', () => {
    const ctx = msg.blocks.at(-1) as ContextBlock;
    expect(ctx.type).toBe('context');
    expect(ctx.elements.map((e) => e.text)).toEqual([`migration \`${ID}\``, 'runs on *gcp-1*']);
  });

  it('has a one-line text fallback with the headline numbers', () => {
    expect(msg.text).toBe('web1 moved from aws-1 to gcp-1 in 9.87 s (downtime 1.42 s, method pc-ps-rsync)');
    expect(all).toContain('Total (s)');
  });

  it('reports a rollback: not moved, where it runs, and the failure', () => {
    const m = summary(report({ outcome: 'rolled-back', runsOn: 'aws-1', error: 'restore failed on gcp-1' }));
    expectValidMessage(m);
    expect(sectionTexts(m)[0]).toBe(
      ':leftwards_arrow_with_hook: *web1* was NOT moved: rolled back, it runs on *aws-1*\nMethod *pc-ps-rsync (PC &amp; PS + Rsync)*: both hosts track dirty memory\nFailure: restore failed on gcp-1',
    );
    expect(m.text).toBe('web1 was NOT moved: rolled back, it runs on aws-1: restore failed on gcp-1');
  });

  it('keeps a thousand pre-copy rounds within one section, fences intact', () => {
    const rounds = Array.from({ length: 1000 }, (_, i) => ({ round: i + 1, pagesWritten: 100000, pagesSkipped: 5, seconds: 1.5 }));
    const m = summary(report({ rounds }));
    expectValidMessage(m);
    const text = sectionTexts(m)[3]!;
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toMatch(/… \d+ more\n```\nPre-copy stopped/);
    expect(text).toContain('Round');
  });

  it('escapes Slack markup in reasons and errors', () => {
    const m = summary(report({ reason: 'a <b> & c', outcome: 'rolled-back', error: '<!channel>' }));
    expect(sectionTexts(m)[0]).toContain('a &lt;b&gt; &amp; c');
    expect(sectionTexts(m)[0]).toContain('Failure: &lt;!channel&gt;');
    expect(JSON.stringify(m)).not.toContain('<!channel>');
  });
});

describe('failure', () => {
  it('renders a report as its summary', () => {
    const r = report({ outcome: 'rolled-back', runsOn: 'aws-1', error: 'boom' });
    expect(failure(r)).toEqual(summary(r));
  });

  it('lets the caller correct where a reported container runs', () => {
    const r = report({ outcome: 'rolled-back', runsOn: 'aws-1', error: 'boom' });
    expect(sectionTexts(failure(r, { container: 'web1', runsOn: 'aws-2' }))[0]).toContain('it runs on *aws-2*');
  });

  it('renders an error with where the container runs now and its code', () => {
    const e = new FerryError(ErrorCode.MethodUnsupported, 'method precopy cannot run from aws-1 to gcp-1: no soft-dirty');
    const m = failure(e, { container: 'web1', from: 'aws-1', to: 'gcp-1', runsOn: 'aws-1', id: ID });
    expectValidMessage(m);
    expect(sectionTexts(m)).toEqual([":x: Migration of *web1* from *aws-1* to *gcp-1* failed: method precopy cannot run from aws-1 to gcp-1: no soft-dirty\n*web1* runs on *aws-1*.\n_pick another method, or 'auto' to let Ferry choose_"]);
    expect((m.blocks[1] as ContextBlock).elements[0]!.text).toBe(`migration \`${ID}\` · code \`ferry_method_unsupported\``);
    expect(m.text).toBe('Migration of web1 failed: method precopy cannot run from aws-1 to gcp-1: no soft-dirty (runs on aws-1)');
  });

  it('says loudly when Ferry does not know where the container runs', () => {
    const m = failure(new Error('rollback failed'), { container: 'web1', from: 'aws-1', to: 'gcp-1', runsOn: null });
    expect(sectionTexts(m)[0]).toContain(':rotating_light: Ferry cannot tell where *web1* runs now: check *aws-1* and *gcp-1* before retrying.');
    expect(m.text).toContain('(location unknown)');
  });

  it('renders a bare error without context', () => {
    const m = failure('redis <down>');
    expectValidMessage(m);
    expect(sectionTexts(m)).toEqual([':x: Migration failed: redis &lt;down&gt;']);
    expect(m.blocks).toHaveLength(1);
  });

  it('shows a chat error’s code and its hint', () => {
    const m = failure(new FerryError(ErrorCode.PolicyInvalid, 'bad policy'), { container: 'web1', runsOn: 'aws-1' });
    expect(JSON.stringify(m)).toContain('code `ferry_policy_invalid`');
    expect(JSON.stringify(m)).toContain('fix the named field in the policy file');
  });
});

describe('groupSummary', () => {
  const member = (container: string, over: Partial<MigrationReport> = {}): MigrationReport =>
    report({
      id: `m-${container}`,
      container,
      method: 'page-server',
      reason: 'requested explicitly',
      runsOn: 'gcp-1',
      rounds: [],
      precopyStop: undefined,
      criu: null,
      bytes: { total: 3 * 1048576, rsync: 1048576, pages: 2 * 1048576 },
      health: `tcp ${container === 'blog-db' ? 3306 : 8081} open`,
      times: { preDump: null, preCopy: null, preMigration: null, checkpoint: 0.5, transfer: 0.4, restore: container === 'blog-db' ? 0.6 : 0.7, downtime: container === 'blog-db' ? 1.5 : 1.9, total: 4 },
      ...over,
    });
  const group = (over: Partial<GroupReport> = {}): GroupReport => ({ group: 'blog', outcome: 'migrated', from: 'aws-1', to: 'gcp-1', members: [member('blog-db'), member('blog-web')], times: { downtime: 2.1, total: 6 }, ...over });
  const msg = groupSummary(group(), { id: ID });
  const all = expectValidMessage(msg);

  it('heads with the group, where it moved, its members, and the method once when they share it', () => {
    expect(sectionTexts(msg)[0]).toBe(':white_check_mark: group *blog* moved from *aws-1* to *gcp-1*: 2 containers (blog-db, blog-web)\nMethod *page-server (Page Server)*: requested explicitly');
  });

  it('has a row per member and one for the group, the CLI table without the columns no member has', () => {
    const text = sectionTexts(msg)[1]!;
    expect(text.startsWith("*Timings* (seconds, Table II): a row per member, then the group's one downtime window")).toBe(true);
    const lines = codeBlockOf(text)!.split('\n');
    expect(lines[0]).toMatch(/^Member\s+Outcome\s+Checkpoint \(s\)\s+Transfer \(s\)\s+Restore \(s\)\s+Downtime \(s\)\s+Total \(s\)$/);
    expect(lines[2]).toMatch(/^blog-db\s+migrated\s+0\.50\s+0\.40\s+0\.60\s+1\.50\s+4\.00$/);
    expect(lines[3]).toMatch(/^blog-web\s+migrated\s+0\.50\s+0\.40\s+0\.70\s+1\.90\s+4\.00$/);
    expect(lines[4]).toMatch(/^group blog\s+migrated\s+2\.10\s+6\.00$/);
    expect(lines).toHaveLength(5);
    expect(all).not.toContain('Pre-dump');
  });

  it('keeps the pre-copy columns when a member has them', () => {
    const m = groupSummary(group({ members: [member('blog-db', { times: { preDump: 1, preCopy: 0.5, preMigration: 1.5, checkpoint: 0.5, transfer: 0.4, restore: 0.6, downtime: 1.5, total: 4 } }), member('blog-web')] }));
    expect(codeBlockOf(sectionTexts(m)[1]!)!.split('\n')[0]).toMatch(/^Member\s+Outcome\s+Pre-dump \(s\)\s+Pre-copy \(s\)\s+Pre-migration \(s\)\s+Checkpoint/);
  });

  it('shows each member’s bytes and health check, and ends with the migration id and the group', () => {
    expect(sectionTexts(msg)[2]).toBe('*blog-db*: moved 3.0 MiB (page server 2.0 MiB, rsync 1.0 MiB); health check: tcp 3306 open\n*blog-web*: moved 3.0 MiB (page server 2.0 MiB, rsync 1.0 MiB); health check: tcp 8081 open');
    expect((msg.blocks.at(-1) as ContextBlock).elements.map((e) => e.text)).toEqual([`migration \`${ID}\``, 'group *blog*', 'runs on *gcp-1*']);
    expect(msg.text).toBe('group blog moved from aws-1 to gcp-1 in 6.00 s (downtime 2.10 s, 2 containers)');
  });

  it('reports a rollback: not moved, the failure, where each member runs, member warnings', () => {
    const back = group({
      outcome: 'rolled-back',
      error: 'blog-web: restore failed',
      members: [member('blog-db', { outcome: 'rolled-back', runsOn: 'aws-1', warnings: ['cleanup of gcp-1 left <debris>'] }), member('blog-web', { outcome: 'rolled-back', runsOn: 'aws-1' })],
    });
    const m = groupSummary(back);
    expectValidMessage(m);
    expect(sectionTexts(m)[0]).toBe(
      ':leftwards_arrow_with_hook: group *blog* was NOT moved: rolled back\nMethod *page-server (Page Server)*: requested explicitly\nFailure: blog-web: restore failed\n:warning: *blog-db*: cleanup of gcp-1 left &lt;debris&gt;\n*blog-db* runs on *aws-1*. *blog-web* runs on *aws-1*.',
    );
    expect(codeBlockOf(sectionTexts(m)[1]!)).toMatch(/group blog\s+rolled-back/);
    expect((m.blocks.at(-1) as ContextBlock).elements.map((e) => e.text)).toEqual(['group *blog*', 'rolled back']);
    expect(m.text).toBe('group blog was NOT moved: rolled back: blog-web: restore failed');
  });

  it('names each member’s method when they differ', () => {
    const m = groupSummary(group({ members: [member('blog-db'), member('blog-web', { method: 'normal', reason: 'no page server' })] }));
    expect(sectionTexts(m)[0]).toContain('*blog-db*: method *page-server (Page Server)*: requested explicitly\n*blog-web*: method *normal (Normal)*: no page server');
  });

  it('stays within Slack’s limits for a large group', () => {
    const many = group({ members: Array.from({ length: 200 }, (_, i) => member(`member-${i}`)) });
    const m = groupSummary(many, { id: ID });
    expectValidMessage(m);
    expect(sectionTexts(m)[1]).toMatch(/… \d+ more\n```$/);
  });
});

describe('failure of a group', () => {
  it('names the group, and says when Ferry cannot tell where it runs', () => {
    const m = failure(new FerryError(ErrorCode.RollbackFailed, 'group blog failed and could not be rolled back whole'), { group: 'blog', from: 'aws-1', to: 'gcp-1', runsOn: null, id: ID });
    expectValidMessage(m);
    expect(sectionTexts(m)[0]).toContain(':x: Migration of group *blog* from *aws-1* to *gcp-1* failed: group blog failed and could not be rolled back whole');
    expect(sectionTexts(m)[0]).toContain(':rotating_light: Ferry cannot tell where group *blog* runs now: check *aws-1* and *gcp-1* before retrying.');
    expect(m.text).toBe('Migration of group blog failed: group blog failed and could not be rolled back whole (location unknown)');
  });
});
