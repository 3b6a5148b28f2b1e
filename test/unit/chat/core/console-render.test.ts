import { describe, expect, it } from 'vitest';
import { consoleAction, mrkdwnToPlain, toConsoleText } from '../../../../src/chat/core/console-render.ts';
import { parseCommand, USAGE } from '../../../../src/chat/core/parse.ts';
import { approvalRequest, denied, failure, hostsTable, statusMessage, summary, usage } from '../../../../src/chat/core/render.ts';
import { queuedStatus } from '../../../../src/chat/core/status.ts';
import { ErrorCode } from '../../../../src/errors.ts';
import { ID, report } from '../fixtures.ts';
import { catchFerry } from '../../catch-ferry.ts';

describe('mrkdwnToPlain', () => {
  it.each([
    ['*bold* and _italic_ and ~struck~', 'bold and italic and struck'],
    ['(*a*) [_b_], *c*: *d*.', '(a) [b], c: d.'],
    ['2 * 3 * 4', '2 * 3 * 4'],
    ['ferry_migration_failed and snake_case_name', 'ferry_migration_failed and snake_case_name'],
    ['`a_b *c*`', 'a_b *c*'],
    ['run `/migrate status m-1`', 'run /migrate status m-1'],
    ['<https://x.test/a|the log>', 'the log (https://x.test/a)'],
    ['<https://x.test/a>', 'https://x.test/a'],
    ['<@U012AB3CD> and <@U012AB3CD|alice>', '@U012AB3CD and @alice'],
    ['<!date^1740831330^{date_short_pretty} {time}|2025-03-01 12:15 UTC>', '2025-03-01 12:15 UTC'],
    ['<!here> <!subteam^S012AB3CD|@sre>', '@here @sre'],
    ['a &lt;b&gt; &amp;amp;', 'a <b> &amp;'],
    ['&lt;*not bold*&gt;', '<*not bold*>'],
    [':white_check_mark: done :x: :warning: :unknown_emoji:', '✔ done ✘ ! :unknown_emoji:'],
    ['12:05:30', '12:05:30'],
    ['*Timings*\n```\nPhase  *x*\n&lt;1&gt;\n```\nafter', 'Timings\nPhase  *x*\n<1>\nafter'],
  ])('%j → %j', (input, expected) => {
    expect(mrkdwnToPlain(input)).toBe(expected);
  });
});

describe('toConsoleText', () => {
  it('shows the approval buttons as console commands', () => {
    const out = toConsoleText(approvalRequest({ id: ID, requesterId: 'U0ALICE01', container: 'web1', from: 'aws-1', to: 'gcp-1', method: 'pc-ps', expiresAt: new Date('2025-03-01T12:15:00Z') }));
    expect(out.split('\n')).toEqual([
      `⇄ Migration request ${ID}`,
      '@U0ALICE01 asks to move web1 from aws-1 to gcp-1 with method pc-ps (PC & PS).',
      `[Approve: /approve ${ID}] [Reject: /reject ${ID}]`,
      'Approval closes 2025-03-01 12:15 UTC · Needs an approver other than the requester',
    ]);
  });

  it('keeps tables intact and drops the fences', () => {
    const out = toConsoleText(summary(report()));
    expect(out).not.toContain('```');
    expect(out).not.toContain('&amp;');
    expect(out).toContain('✔ web1 moved from aws-1 to gcp-1\nMethod pc-ps-rsync (PC & PS + Rsync): both hosts track dirty memory');
    expect(out).toMatch(/\nPhase +Seconds\n-+ +-+\nPre-dump \(s\) +1\.23\n/);
    expect(out).toMatch(/\nTotal \(s\) +9\.87\nMoved 50 MiB \(page server 48 MiB, rsync 2\.0 MiB\)\n/);
    expect(out).toMatch(/\n {4}2 +300 +9700 +0\.21\nPre-copy stopped: dirty pages under 5%\n/);
    expect(out.endsWith(`migration ${ID}  runs on gcp-1`)).toBe(true);
  });

  it('shows help with the usage verbatim', () => {
    const e = catchFerry(() => parseCommand('web1 from aws-1'), ErrorCode.UsageError);
    expect(toConsoleText(usage(e.message))).toBe(`! expected 'to <host>' after 'from aws-1'\n${USAGE}`);
  });

  it('renders status, denial, failure and tables', () => {
    expect(toConsoleText(statusMessage(queuedStatus({ id: 'm-1', container: 'web1', from: 'aws-1', to: 'gcp-1', method: 'auto', requesterId: 'U0ALICE01' })))).toBe(
      '⌛ web1 aws-1 → gcp-1: queued\nmigration m-1 · requested by @U0ALICE01',
    );
    expect(toConsoleText(denied('you may not'))).toBe('✘ Not allowed: you may not');
    expect(toConsoleText(failure(new Error('a <b>'), { container: 'web1', runsOn: null }))).toBe('✘ Migration of web1 failed: a <b>\n!! Ferry cannot tell where web1 runs now: check its hosts before retrying.');
    expect(toConsoleText(hostsTable([{ name: 'lab-1', environment: 'local' }]))).toBe('Hosts (1 host)\nHost   Env\n-----  -----\nlab-1  local');
  });

  it('renders headers, dividers and fields; skips unknown blocks', () => {
    const out = toConsoleText({
      text: 'x',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'Title' } }, { type: 'divider' }, { type: 'section', text: { type: 'mrkdwn', text: '*a*' }, fields: [{ type: 'mrkdwn', text: '_b_' }] }, { type: 'image' }, { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open' }, action_id: 'other', value: 'v' }] }],
    });
    expect(out).toBe(`Title\n=====\n${'-'.repeat(40)}\na\nb\n[Open]`);
  });

  it('falls back to the text when there are no blocks', () => {
    expect(toConsoleText({ text: '*hello* <@U012AB3CD>' })).toBe('hello @U012AB3CD');
    expect(toConsoleText({ text: '*hello*', blocks: [] })).toBe('hello');
  });
});

describe('console rendering of hostile text', () => {
  it('lets no terminal escape through, from blocks or from a bare fallback', () => {
    const evil = 'web1\x1b]0;owned\x07\x1b[2J\r\u202eevil';
    expect(toConsoleText({ text: evil })).toBe('web1]0;owned[2J\nevil');
    expect(toConsoleText({ text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: evil } }, { type: 'section', text: { type: 'mrkdwn', text: evil } }] })).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
  });

  it('cannot be made to forge a code span placeholder', () => {
    expect(mrkdwnToPlain('`a` \u00000\u0000 `b`')).toBe('a 0 b');
  });
});

describe('consoleAction', () => {
  it.each([
    ['/approve m-1', { actionId: 'ferry_approve', value: 'm-1' }],
    ['  /REJECT  m-20250301120000-a1b2c3 ', { actionId: 'ferry_reject', value: 'm-20250301120000-a1b2c3' }],
    ['approve m-1', null],
    ['/approve', null],
    ['/approve m-1 m-2', null],
    ['/migrate list', null],
  ])('%j → %j', (line, expected) => {
    expect(consoleAction(line)).toEqual(expected);
  });
});
