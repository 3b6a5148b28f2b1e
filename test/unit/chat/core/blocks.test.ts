import { describe, expect, it } from 'vitest';
import { button, clip, context, LIMITS, message, plain, section } from '../../../../src/chat/core/blocks.ts';
import { bold, code, codeBlock, esc, fitLines, link, mention, safeMrkdwn, slackDate } from '../../../../src/chat/core/mrkdwn.ts';

describe('message', () => {
  it('caps a message at 50 blocks and says how many were left out', () => {
    const m = message('many', Array.from({ length: 60 }, (_, i) => section(`block ${i}`)));
    expect(m.blocks).toHaveLength(LIMITS.blocks);
    expect(m.blocks[48]).toEqual(section('block 48'));
    expect(m.blocks[49]).toEqual(context('… 11 more blocks left out'));
  });

  it('keeps 50 blocks as they are', () => {
    expect(message('x', Array.from({ length: 50 }, () => section('s'))).blocks.every((b) => b.type === 'section')).toBe(true);
  });

  it('drops empty context blocks', () => {
    expect(message('x', [section('a'), context(''), context()]).blocks).toEqual([section('a')]);
  });

  it('never sends an empty fallback', () => {
    expect(message('  ', [section('a')]).text).toBe('Ferry');
  });

  it('clips the fallback', () => {
    expect(message('y'.repeat(5000), [section('a')]).text).toHaveLength(LIMITS.fallbackText);
  });
});

describe('block builders', () => {
  it('clips section text to 3000 characters with an ellipsis', () => {
    const s = section('z'.repeat(4000));
    expect(s.text.text).toHaveLength(3000);
    expect(s.text.text.endsWith('…')).toBe(true);
  });

  it('leaves style and confirm out of a plain button', () => {
    expect(button({ text: 'Go', actionId: 'go', value: 'v' })).toEqual({ type: 'button', text: { type: 'plain_text', text: 'Go', emoji: true }, action_id: 'go', value: 'v' });
  });

  it('keeps at most 10 context elements', () => {
    expect(context(...Array.from({ length: 12 }, (_, i) => `e${i}`)).elements).toHaveLength(10);
  });

  it('clip leaves short text alone', () => {
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('abcd', 3)).toBe('ab…');
  });

  it('clip never splits a surrogate pair', () => {
    expect(clip('a😀b', 3)).toBe('a…');
    expect(clip('ab😀', 3)).toBe('ab…');
  });

  it('sends every mrkdwn text verbatim, so Slack makes no mention or link out of typed words', () => {
    expect(section('x').text).toEqual({ type: 'mrkdwn', text: 'x', verbatim: true });
    expect(context('y').elements[0]).toEqual({ type: 'mrkdwn', text: 'y', verbatim: true });
  });

  it('strips controls from every text a builder emits, whoever composed it', () => {
    expect(section('a\x1b[2Jb\u202ec\nd').text.text).toBe('a[2Jbc\nd');
    expect(plain('Ap\u200bprove\x07').text).toBe('Approve');
    expect(message('fall\x00back\u2066', [section('s')]).text).toBe('fallback');
    expect(message('\u200b\x01', [section('s')]).text).toBe('Ferry');
  });

  it('neutralises broadcast mentions in the fallback and in blocks, even unescaped ones', () => {
    const m = message('hi <!channel> and <!here|here> @everyone', [section('<!subteam^S0ADMINS|@admins> @here <@U012AB3CD>')]);
    expect(m.text).toBe('hi &lt;!channel&gt; and &lt;!here|here&gt; ＠everyone');
    expect((m.blocks[0] as { text: { text: string } }).text.text).toBe('&lt;!subteam^S0ADMINS|@admins&gt; ＠here <@U012AB3CD>');
  });
});

describe('mrkdwn helpers', () => {
  it('escapes Slack control characters', () => {
    expect(esc('a & <b> &amp;')).toBe('a &amp; &lt;b&gt; &amp;amp;');
  });
  it('makes typed mentions and links inert text', () => {
    expect(esc('<!channel> <@U0ADMIN01> <https://evil.example|click>')).toBe('&lt;!channel&gt; &lt;@U0ADMIN01&gt; &lt;https://evil.example|click&gt;');
  });
  it.each([
    ['an escape sequence', 'web1\x1b[31m', 'web1[31m'],
    ['a right-to-left override', 'cod\u202egnp.exe', 'codgnp.exe'],
    ['bidi isolates', '\u2066a\u2069\u2067b\u2068', 'ab'],
    ['zero-width characters', 'w\u200be\u200cb\u200d1\u2060\ufeff', 'web1'],
    ['C1 controls', 'a\x85b\x9bc', 'abc'],
    ['carriage returns', 'over\rwrite\r\n', 'over\nwrite\n'],
  ])('removes %s from user text', (_what, input, expected) => {
    expect(esc(input)).toBe(expected);
  });
  it('safeMrkdwn keeps Ferry\'s own markup', () => {
    const own = `<@U012AB3CD> ${slackDate(new Date(0))} <https://x.test/a|link> :warning: *bold* \`code\``;
    expect(safeMrkdwn(own)).toBe(own);
  });
  it('wraps bold and code safely', () => {
    expect(bold('a*b')).toBe('*a∗b*');
    expect(code('a`b<')).toBe('`aʼb&lt;`');
    expect(codeBlock('x ``` y')).toBe('```\nx ʼʼʼ y\n```');
  });
  it('mentions only Slack user IDs', () => {
    expect(mention('U012AB3CD')).toBe('<@U012AB3CD>');
    expect(mention('W012AB3CD')).toBe('<@W012AB3CD>');
    expect(mention('S012AB3CD')).toBe('S012AB3CD');
    expect(mention('<!channel>')).toBe('&lt;!channel&gt;');
  });
  it('formats dates for Slack with a UTC fallback', () => {
    expect(slackDate(new Date('2025-03-01T12:15:30Z'))).toBe('<!date^1740831330^{date_short_pretty} {time}|2025-03-01 12:15 UTC>');
  });
  it('links only plain https URLs', () => {
    expect(link('https://x.test/a', 'here')).toBe('<https://x.test/a|here>');
    expect(link('http://x.test/a', 'here')).toBe('here');
    expect(link('https://x.test/a|evil', 'here')).toBe('here');
    expect(link(undefined, 'a<b')).toBe('a&lt;b');
    expect(link('https://x.test/\u202ea', 'here')).toBe('here');
  });
  it('fitLines keeps whole lines and the header, and counts the rest', () => {
    const lines = ['head', '----', ...Array.from({ length: 100 }, (_, i) => `row ${i}`)];
    const out = fitLines(lines, 60, 2).split('\n');
    expect(out.slice(0, 2)).toEqual(['head', '----']);
    expect(out.join('\n').length).toBeLessThanOrEqual(60);
    expect(out.at(-1)).toBe(`… ${100 - (out.length - 3)} more`);
    expect(fitLines(['a', 'b'], 60)).toBe('a\nb');
  });
});
