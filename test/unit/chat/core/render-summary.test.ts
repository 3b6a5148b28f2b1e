import { describe, expect, it } from 'vitest';
import type { ContextBlock, SectionBlock } from '../../../../src/chat/core/blocks.ts';
import { ChatError, ChatErrorCode } from '../../../../src/chat/core/errors.ts';
import { failure, summary, timesTable } from '../../../../src/chat/core/render.ts';
import { ErrorCode, FerryError } from '../../../../src/errors.ts';
import { PHASE_COLUMNS } from '../../../../src/migrate/clock.ts';
import { COLUMN_TITLES } from '../../../../src/migrate/report.ts';
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

  it('shows a chat error’s code', () => {
    const m = failure(new ChatError(ChatErrorCode.PolicyInvalid, 'bad policy'), { container: 'web1', runsOn: 'aws-1' });
    expect(JSON.stringify(m)).toContain('code `ferry_chat_policy_invalid`');
  });
});
