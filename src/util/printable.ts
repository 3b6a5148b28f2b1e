/**
 * Text that came from a user, made safe to show: in a chat message, in a terminal, in an error message.
 *
 * "Unsafe" here means a character that changes how text displays rather than what it says:
 * - C0 and C1 controls and DEL (`\p{Cc}`): ESC starts terminal escape sequences, CR overwrites a line;
 * - format characters (`\p{Cf}`): bidi embeddings and overrides (U+202A–U+202E), bidi isolates
 *   (U+2066–U+2069), LRM/RLM/ALM, zero-width space/joiners (U+200B–U+200D), word joiner (U+2060),
 *   BOM (U+FEFF), soft hyphen, tag characters: they make `evil` read as `live` or hide characters;
 * - line and paragraph separators (U+2028, U+2029) and lone surrogates (`\p{Cs}`; a pair is one
 *   astral character and is kept).
 */
const UNSAFE = '[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Cs}]';
const UNSAFE_ALL = new RegExp(UNSAFE, 'gu');
/** The same set less the newline: what multi-line text may keep. */
const UNSAFE_BUT_NEWLINE = new RegExp(`(?!\\n)${UNSAFE}`, 'gu');
const HAS_UNSAFE = new RegExp(UNSAFE, 'u');
const HAS_UNSAFE_BUT_NEWLINE = new RegExp(`(?!\\n)${UNSAFE}`, 'u');

/** True when `s` holds an unsafe character (other than a newline, with `allowNewlines`). */
export function hasUnsafe(s: string, opts: { allowNewlines?: boolean } = {}): boolean {
  return (opts.allowNewlines ? HAS_UNSAFE_BUT_NEWLINE : HAS_UNSAFE).test(s);
}

/**
 * Removes unsafe characters for display. Newlines stay (messages have lines): CRLF and lone CR become
 * a newline, a tab becomes a space, anything else unsafe is dropped.
 */
export function stripUnsafe(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(/\t/g, ' ').replace(UNSAFE_BUT_NEWLINE, '');
}

/**
 * For quoting one word of user input back to them: every unsafe character (newline and tab too) is
 * spelled out as `\u{202E}`, so the user sees what was refused and nothing is hidden or reordered.
 */
export function printable(s: string): string {
  return s.replace(UNSAFE_ALL, (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}}`);
}

/**
 * At most `max` characters (code points) of `s`, the cut marked with `…`; a surrogate pair is never
 * split. Cheap on huge input: only the head is looked at.
 */
export function clipText(s: string, max: number): string {
  if (s.length <= max) return s;
  // 2·max+1 code units hold more than max code points unless all of s is shorter; only the last
  // element of head can be half of a split pair, and it is past the cut.
  const head = Array.from(s.slice(0, max * 2 + 1));
  if (head.length <= max) return s;
  return `${head.slice(0, max).join('')}…`;
}

/** `'<word>'` for a message: clipped to `max` characters, then made {@link printable}. */
export function quote(s: string, max = 40): string {
  return `'${printable(clipText(s, max))}'`;
}
