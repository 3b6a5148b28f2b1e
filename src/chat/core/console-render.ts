import { stripUnsafe } from '../../util/printable.ts';
import { ACTION_IDS } from './render-approval.ts';

/** Console commands standing in for the approval buttons: `/approve <id>`, `/reject <id>`. */
const BUTTON_COMMANDS: Record<string, string> = { [ACTION_IDS.approve]: 'approve', [ACTION_IDS.reject]: 'reject' };

/** Slack emoji Ferry uses, as terminal symbols. Others stay as `:name:`. */
const EMOJI: Record<string, string> = {
  white_check_mark: '✔',
  heavy_check_mark: '✔',
  x: '✘',
  warning: '!',
  no_entry: '✘',
  no_entry_sign: '✘',
  hourglass: '⌛',
  hourglass_flowing_sand: '⌛',
  arrows_counterclockwise: '↻',
  leftwards_arrow_with_hook: '↩',
  rotating_light: '!!',
  ice_cube: '❄',
  twisted_rightwards_arrows: '⇄',
  dart: '◎',
};

/**
 * Terminal text for a chat message (anything shaped `{ text, blocks }`): sections as paragraphs, code
 * blocks as they are, mrkdwn markers removed, buttons as `[Approve: /approve <id>] [Reject: /reject <id>]`.
 * Nothing unsafe for a terminal survives (util/printable.ts): an ESC in a message cannot move the
 * cursor, recolour or retitle the operator's terminal, whoever built the message.
 */
export function toConsoleText(msg: { text: string; blocks?: readonly unknown[] }): string {
  const blocks = msg.blocks ?? [];
  if (blocks.length === 0) return mrkdwnToPlain(msg.text);
  return stripUnsafe(
    blocks
      .map(blockText)
      .filter((t) => t !== '')
      .join('\n'),
  );
}

function blockText(b: unknown): string {
  const block = b as { type?: string; text?: { text?: string }; fields?: { text?: string }[]; elements?: unknown[] };
  switch (block.type) {
    case 'header':
      return `${block.text?.text ?? ''}\n${'='.repeat((block.text?.text ?? '').length)}`;
    case 'section':
      return [block.text?.text, ...(block.fields ?? []).map((f) => f.text)].filter((t): t is string => !!t).map(mrkdwnToPlain).join('\n');
    case 'context':
      return (block.elements ?? []).map((e) => mrkdwnToPlain((e as { text?: string }).text ?? '')).join('  ');
    case 'divider':
      return '-'.repeat(40);
    case 'actions':
      return (block.elements ?? []).map(buttonText).join(' ');
    default:
      return '';
  }
}

function buttonText(e: unknown): string {
  const el = e as { text?: { text?: string }; action_id?: string; value?: string };
  const label = el.text?.text ?? el.action_id ?? 'button';
  const command = el.action_id ? BUTTON_COMMANDS[el.action_id] : undefined;
  return command ? `[${label}: /${command} ${el.value ?? ''}]` : `[${label}]`;
}

/** Reads a console line `/approve <id>` or `/reject <id>`: what a click on the matching button would do. */
export function consoleAction(line: string): { actionId: string; value: string } | null {
  const m = /^\s*\/(approve|reject)\s+(\S+)\s*$/i.exec(line);
  if (!m) return null;
  const actionId = Object.keys(BUTTON_COMMANDS).find((k) => BUTTON_COMMANDS[k] === m[1]!.toLowerCase())!;
  return { actionId, value: m[2]! };
}

/** Slack mrkdwn to plain text: code fences and inline code unwrapped, *bold* _italic_ ~strike~ markers dropped, links and mentions spelled out, entities decoded. */
export function mrkdwnToPlain(s: string): string {
  // Stripped first: inline() marks code spans with NUL, which the text itself must not be able to forge.
  return stripUnsafe(s)
    .split(/```/)
    .map((part, i, parts) => {
      if (i % 2 === 1) return unescape(part.replace(/^\n/, '').replace(/\n$/, ''));
      // Text around a fence: the fence's own line break is already the join.
      let text = part;
      if (i > 0) text = text.replace(/^\n/, '');
      if (i < parts.length - 1) text = text.replace(/\n$/, '');
      return inline(text);
    })
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\n+$/g, '');
}

function inline(s: string): string {
  const codes: string[] = [];
  let t = s.replace(/`([^`\n]+)`/g, (_m, c: string) => `\u0000${codes.push(c) - 1}\u0000`);
  t = t.replace(/<([^<>]*)>/g, (_m, inner: string) => angle(inner));
  for (const mark of ['*', '_', '~']) {
    const m = `\\${mark}`;
    // Slack's rule: the marker hugs the text (`*bold*`, not `2 * 3 * 4`) and sits at word boundaries.
    t = t.replace(new RegExp(`(^|[\\s(\\[])${m}([^\\s${m}](?:[^${m}\\n]*?[^\\s${m}])?)${m}(?=$|[\\s).,:;!?\\]])`, 'gm'), '$1$2');
  }
  t = t.replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m);
  t = t.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => codes[Number(i)]!);
  return unescape(t);
}

/** `<@U1>` → `@U1`, `<!date^…|fallback>` → fallback, `<url|label>` → `label (url)`. */
function angle(inner: string): string {
  const bar = inner.indexOf('|');
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? '' : inner.slice(bar + 1);
  if (target.startsWith('@') || target.startsWith('#')) return label ? `${target[0]}${label.replace(/^[@#]/, '')}` : target;
  if (target.startsWith('!')) return label || `@${target.slice(1).split('^')[0]}`;
  return label && label !== target ? `${label} (${target})` : target;
}

function unescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * The lines of `next` that `prev` did not show, in `next`'s order: what a status update says that is
 * new (the headline when the phase changes, a finished phase's line). Lines count as often as they
 * occur, so a repeated line is new only beyond the times it was shown.
 */
export function changedLines(prev: string, next: string): string[] {
  const seen = new Map<string, number>();
  for (const l of prev.split('\n')) seen.set(l, (seen.get(l) ?? 0) + 1);
  return next.split('\n').filter((l) => {
    const n = seen.get(l) ?? 0;
    if (n === 0) return true;
    seen.set(l, n - 1);
    return false;
  });
}
