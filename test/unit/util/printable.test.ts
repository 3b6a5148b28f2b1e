import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clipText, hasUnsafe, printable, quote, stripUnsafe } from '../../../src/util/printable.ts';
import { anyText, BIDI, CONTROLS, INVISIBLE } from '../hostile-text.ts';

describe('stripUnsafe', () => {
  it.each([
    ['a\x1b[31mred\x1b[0m', 'a[31mred[0m'],
    ['line1\r\nline2\rline3', 'line1\nline2\nline3'],
    ['a\tb', 'a b'],
    ['evil\u202eexe.txt', 'evilexe.txt'],
    ['in\u2066vis\u2069ible', 'invisible'],
    ['zero\u200bwidth\ufeff', 'zerowidth'],
    ['bell\x07 nul\x00 del\x7f c1\x85\x9b', 'bell nul del c1'],
    ['para\u2029line\u2028', 'paraline'],
    ['emoji 😀 stays, é stays, 中文 stays', 'emoji 😀 stays, é stays, 中文 stays'],
    ['lone \ud800 surrogate', 'lone  surrogate'],
  ])('%j → %j', (input, expected) => {
    expect(stripUnsafe(input)).toBe(expected);
  });

  it('leaves nothing unsafe but newlines, and changes safe text not at all', () => {
    fc.assert(
      fc.property(anyText(200), (s) => {
        const out = stripUnsafe(s);
        expect(hasUnsafe(out, { allowNewlines: true })).toBe(false);
        if (!hasUnsafe(s)) expect(out).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('removes every control, bidi and invisible character Ferry knows of', () => {
    for (const c of [...CONTROLS.filter((x) => x !== '\n' && x !== '\t' && x !== '\r'), ...BIDI, ...INVISIBLE]) expect(stripUnsafe(`a${c}b`), JSON.stringify(c)).toBe('ab');
  });
});

describe('printable', () => {
  it('spells out unsafe characters, newlines and tabs included', () => {
    expect(printable('a\u202eb\nc\td\x1b')).toBe('a\\u{202E}b\\u{000A}c\\u{0009}d\\u{001B}');
    expect(printable('\u{e0041}')).toBe('\\u{E0041}');
  });

  it('leaves no unsafe character at all', () => {
    fc.assert(
      fc.property(anyText(200), (s) => {
        expect(hasUnsafe(printable(s))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('clipText and quote', () => {
  it('clips by characters, never splitting a surrogate pair', () => {
    expect(clipText('😀'.repeat(50), 40)).toBe(`${'😀'.repeat(40)}…`);
    expect(clipText('😀'.repeat(30), 40)).toBe('😀'.repeat(30));
    expect(clipText('a'.repeat(41), 40)).toBe(`${'a'.repeat(40)}…`);
    expect(clipText('a'.repeat(40), 40)).toBe('a'.repeat(40));
  });

  it('keeps at most max characters plus the mark, from any input', () => {
    fc.assert(
      fc.property(anyText(300), fc.integer({ min: 1, max: 80 }), (s, max) => {
        const out = clipText(s, max);
        expect([...out].length).toBeLessThanOrEqual(max + 1);
        if ([...s].length <= max) expect(out).toBe(s);
        else expect(out.endsWith('…')).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('quotes a word clipped and printable', () => {
    expect(quote('web\u202e1')).toBe("'web\\u{202E}1'");
    expect(quote('x'.repeat(100))).toBe(`'${'x'.repeat(40)}…'`);
    expect(quote('a'.repeat(1_000_000)).length).toBe(43);
  });
});
