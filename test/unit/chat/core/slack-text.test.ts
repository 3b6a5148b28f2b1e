import { describe, expect, it } from 'vitest';
import { tokenize, unSlack } from '../../../../src/chat/core/slack-text.ts';

describe('unSlack', () => {
  it.each([
    ['<http://web1|web1>', 'web1'],
    ['<http://web1.example.com>', 'web1.example.com'],
    ['<mailto:ops@example.com|ops@example.com>', 'ops@example.com'],
    ['<@U012AB3CD>', '@U012AB3CD'],
    ['<@U012AB3CD|alice>', '@alice'],
    ['<#C012AB3CD|ops>', '#ops'],
    ['<!here>', '@here'],
    ['<!subteam^S012AB3CD|@sre>', '@sre'],
    ['a &lt;b&gt; &amp;amp; c', 'a <b> &amp; c'],
  ])('%j → %j', (input, expected) => {
    expect(unSlack(input)).toBe(expected);
  });

  it('decodes entities after undoing markup, so typed brackets stay text', () => {
    expect(unSlack('&lt;http://x|y&gt;')).toBe('<http://x|y>');
  });
});

describe('tokenize', () => {
  it.each<[string, string[]]>([
    ['', []],
    ['  a  b\tc\nd ', ['a', 'b', 'c', 'd']],
    ['a\u00a0b\u2003c', ['a', 'b', 'c']],
    ['a\u200bb \ufeffc', ['ab', 'c']],
    ['`a b`', ['a', 'b']],
    ['```\na b\n```', ['a', 'b']],
    [`"a" 'b' “c” ‘d’ «e»`, ['a', 'b', 'c', 'd', 'e']],
    ['`` a ""', ['a']],
    ['—dry-run –x', ['--dry-run', '--x']],
    ['/migrate a', ['a']],
    ['/MIGRATE a', ['a']],
    ['migrate a', ['migrate', 'a']],
    ["it's", ["it's"]],
  ])('%j → %j', (input, expected) => {
    expect(tokenize(input)).toEqual(expected);
  });
});
