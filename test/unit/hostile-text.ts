import fc from 'fast-check';

/**
 * fast-check arbitraries for text a hostile (or unlucky) user could type. Shared by the property
 * tests of name validation, the command parser and the renderers.
 */

/** Shell metacharacters and quoting: anything a shell, ssh's remote command line or a glob would read. */
export const SHELL_META = [';', '|', '&', '$', '`', '\\', '"', "'", '<', '>', '(', ')', '{', '}', '[', ']', '*', '?', '!', '~', '#', '%', '=', ',', ':', '^'];

/** C0 and C1 controls and DEL. */
export const CONTROLS = [...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)), '\x7f', ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(0x80 + i))];

/** Bidi embeddings, overrides, isolates and marks: they reorder what the reader sees. */
export const BIDI = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c'];

/** Zero-width and other invisible format characters. */
export const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u180e', '\u2061', '\u{e0041}'];

/** Letters and signs that look like ASCII but are not: Cyrillic, Greek, fullwidth, mathematical, dashes. */
export const LOOKALIKES = ['а', 'е', 'о', 'р', 'с', 'х', 'у', 'і', 'ο', 'α', 'ν', 'ａ', 'ｗ', '０', 'ı', 'ﬁ', '𝐚', '𝟷', '‐', '‑', '−', '–', 'ℓ', 'ⅰ'];

/** Unsafe characters a renderer must never pass through (newline aside). */
export const UNSAFE_FOR_DISPLAY = [...CONTROLS.filter((c) => c !== '\n'), ...BIDI, ...INVISIBLE, '\u2028', '\u2029'];

/** Slack mention and markup injection: these must never reach a message as live markup. */
export const MENTIONS = ['<!channel>', '<!here>', '<!everyone>', '<!subteam^S0ADMINS|@admins>', '<@U0ADMIN01>', '<@W0ADMIN01|boss>', '<#C0GENERAL>', '<https://evil.example|click me>', '@channel', '@here', '@everyone', '<!date^1^{date}|x>'];

/** A name the strict pattern accepts. */
export const validName = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/);

/** One hostile piece inserted into an otherwise valid name, for each family the validator must refuse. */
export function hostileName(): fc.Arbitrary<{ family: string; name: string }> {
  const around = (family: string, bad: fc.Arbitrary<string>) =>
    fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), bad, fc.stringMatching(/^[a-z0-9]{0,8}$/)).map(([a, b, c]) => ({ family, name: `${a}${b}${c}` }));
  return fc.oneof(
    around('shell metacharacter', fc.constantFrom(...SHELL_META, ' ', '$(id)', '`id`', '&&', '||')),
    around('control character', fc.constantFrom(...CONTROLS)),
    around('bidi control', fc.constantFrom(...BIDI)),
    around('invisible character', fc.constantFrom(...INVISIBLE)),
    around('lookalike letter', fc.constantFrom(...LOOKALIKES)),
    around('path traversal', fc.constantFrom('/', '../', '/..', '/../../', '.', '..', './')),
    fc.tuple(fc.constantFrom('-', '--', '-o', '--rm', '-oProxyCommand='), validName).map(([d, n]) => ({ family: 'leading dash', name: `${d}${n}` })),
    fc.tuple(fc.constantFrom('../', '/', './', '~/'), validName).map(([d, n]) => ({ family: 'path prefix', name: `${d}${n}` })),
    validName.map((n) => ({ family: 'uppercase', name: n.toUpperCase() })).filter((x) => /[A-Z]/.test(x.name)),
    fc.stringMatching(/^[a-z][a-z0-9-]{31,60}$/).map((n) => ({ family: 'too long', name: n })),
  );
}

/** One character or short string that should never survive into a name. */
export const hostilePiece = fc.constantFrom(...SHELL_META, ...CONTROLS, ...BIDI, ...INVISIBLE, ...LOOKALIKES, '.', '/', '../', ' -', ' --', '\u2028', 'A');

/** `text` with `piece` spliced in at some position: near-misses of valid input. */
export function spliced(text: fc.Arbitrary<string>, piece: fc.Arbitrary<string> = hostilePiece): fc.Arbitrary<string> {
  return fc.tuple(text, fc.nat(), piece).map(([t, i, p]) => {
    const at = i % (t.length + 1);
    return t.slice(0, at) + p + t.slice(at);
  });
}

/** Arbitrary text from every part of Unicode, lone surrogates included. */
export const anyText = (maxLength = 120) => fc.string({ unit: 'binary', maxLength });

/** Text made of pieces that reach deeper into a parser or renderer than random characters do. */
export function trickyText(words: readonly string[] = []): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...words, 'web1', 'lab-1', 'lab-2', 'from', 'to', 'method', 'dry-run', 'status', 'cancel', 'list', 'hosts', 'help', 'm-20250101120000-a1b2c3') },
    { weight: 2, arbitrary: fc.constantFrom(...MENTIONS, '&lt;', '&gt;', '&amp;', '`', '```', '"', '“', '—', '*', '_', '~', ':warning:') },
    { weight: 2, arbitrary: fc.constantFrom(...UNSAFE_FOR_DISPLAY, ...LOOKALIKES, ...SHELL_META, '.', '/', '../', '-', '--') },
    { weight: 1, arbitrary: anyText(8) },
  );
  const sep = fc.constantFrom(' ', ' ', ' ', '', '\n', '\t', '\u00a0', '\u200b');
  return fc.array(fc.tuple(piece, sep), { maxLength: 14 }).map((ps) => ps.map(([p, s]) => p + s).join(''));
}
