import { hasUnsafe, stripUnsafe } from '../../util/printable.ts';

/**
 * Safe pieces of Slack mrkdwn: everything that came from outside Ferry goes through `esc`, and every
 * text a block builder emits goes through `safeMrkdwn` (blocks.ts), so a caller that forgot `esc`
 * still cannot send a control character or a broadcast mention.
 */

/**
 * User text as inert mrkdwn: controls, bidi and invisible characters removed (util/printable.ts), and
 * the three characters Slack treats as markup escaped, so `<!channel>`, `<@U…>` and `<url|label>`
 * typed by a user show as text and ping no one.
 */
export function esc(s: string): string {
  return stripUnsafe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<!channel>`, `<!here|…>`, `<!everyone>`, `<!subteam^…>`: Ferry never notifies a whole channel or group. */
const BROADCAST_MARKUP = /<(!(?:channel|here|everyone|group|subteam\^)[^<>]*)>/gi;
/** `@channel` typed as a word: Slack's automatic parsing (text objects without `verbatim`) may turn it into a mention. */
const BROADCAST_WORD = /@(channel|here|everyone)\b/gi;

/**
 * A whole mrkdwn text made safe to send, whatever its parts did: unsafe characters removed, broadcast
 * mentions shown as text (`<!channel>` escaped; a bare `@here` gets a fullwidth ＠, which Slack never
 * parses). Ferry's own markup (`<@U…>` from {@link mention}, links, dates, emoji) passes unchanged.
 */
export function safeMrkdwn(text: string): string {
  return stripUnsafe(text)
    .replace(BROADCAST_MARKUP, (_m, inner: string) => `&lt;${inner}&gt;`)
    .replace(BROADCAST_WORD, '＠$1');
}

export function bold(s: string): string {
  return `*${esc(s).replace(/\*/g, '∗')}*`;
}

/** Inline code: for ids, names and commands. */
export function code(s: string): string {
  return `\`${esc(s).replace(/`/g, 'ʼ')}\``;
}

/** A fenced code block; clip the body first (see fitLines), never the fenced text. */
export function codeBlock(body: string): string {
  return `\`\`\`\n${esc(body).replace(/```/g, 'ʼʼʼ')}\n\`\`\``;
}

/** `<@U…>` for a Slack user ID, which Slack shows as the person's name; anything else as escaped text. */
export function mention(userId: string): string {
  return /^[UW][A-Z0-9]{2,20}$/.test(userId) ? `<@${userId}>` : esc(userId);
}

/** Slack's localized date (`<!date^…|fallback>`); clients that cannot render it show the UTC fallback. */
export function slackDate(d: Date): string {
  return `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${utc(d)}>`;
}

/** `2025-01-31 14:05 UTC` */
export function utc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** An https link with a label, or the bare label when the URL is not a plain https URL. */
export function link(url: string | undefined, label: string): string {
  return url && /^https:\/\/[^\s<>|]+$/.test(url) && !hasUnsafe(url) ? `<${url}|${esc(label)}>` : esc(label);
}

/**
 * Keeps as many whole lines of `lines` as fit in `max` characters (joined by newlines), then says how many
 * were left out: so a table in a code block never exceeds a section's limit and never loses its fence.
 */
export function fitLines(lines: readonly string[], max: number, keepHead = 0): string {
  const joined = lines.join('\n');
  if (joined.length <= max) return joined;
  const kept = lines.slice(0, Math.max(keepHead, 1));
  let size = kept.join('\n').length;
  for (let i = kept.length; i < lines.length; i++) {
    const note = `… ${lines.length - i - 1} more`;
    if (size + 1 + lines[i]!.length + 1 + note.length > max) break;
    kept.push(lines[i]!);
    size += 1 + lines[i]!.length;
  }
  kept.push(`… ${lines.length - kept.length} more`);
  return kept.join('\n');
}
