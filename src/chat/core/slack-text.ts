/**
 * Undoes what Slack and chat clients do to typed text before a command sees it:
 * `<url|label>` links, `<@U…>` mentions, `&lt;` entities, zero-width characters, smart quotes,
 * backticks and `—` autocorrected from `--`.
 */

const ZERO_WIDTH = /[\u200B-\u200D\u2060\uFEFF]/g;
/** Characters stripped from both ends of the whole text and of every word. */
const WRAPPERS = /^[`'"“”‘’«»]+|[`'"“”‘’«»]+$/g;

/** Replaces Slack's angle-bracket markup with what the user saw: a link's label, `@U123`, `#general`. */
export function unSlack(text: string): string {
  const replaced = text.replace(/<([^<>]*)>/g, (_m, inner: string) => {
    const bar = inner.indexOf('|');
    const target = bar < 0 ? inner : inner.slice(0, bar);
    const label = bar < 0 ? '' : inner.slice(bar + 1);
    if (target.startsWith('@') || target.startsWith('#')) return label ? `${target[0]}${label.replace(/^[@#]/, '')}` : target;
    if (target.startsWith('!')) return label || `@${target.slice(1).split('^')[0]}`;
    if (label) return label;
    return target.replace(/^[a-z][a-z0-9+.-]*:(\/\/)?/i, '').replace(/\/$/, '');
  });
  return replaced.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Normalized words of a command: Slack markup undone, wrappers stripped, whitespace of any kind collapsed. */
export function tokenize(text: string): string[] {
  let t = unSlack(text).replace(ZERO_WIDTH, '').trim();
  t = t.replace(/^```+|```+$/g, '').replace(WRAPPERS, '').trim();
  const words = t
    .split(/\s+/)
    .map((w) => w.replace(WRAPPERS, '').replace(/^[—–]/, '--'))
    .filter((w) => w !== '');
  if (words[0]?.toLowerCase() === '/migrate') words.shift();
  return words;
}
