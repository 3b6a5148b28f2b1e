import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, FerryError } from '../../../src/errors.ts';
import { NAME_PATTERN, validateName } from '../../../src/util/names.ts';
import { hasUnsafe } from '../../../src/util/printable.ts';
import { catchFerry } from '../catch-ferry.ts';
import { anyText, hostileName, validName } from '../hostile-text.ts';

/** What "safe to put in an argument vector, a path and a cgroup" means, spelled out without the regex under test. */
function isHarmless(name: string): boolean {
  const chars = [...name];
  return (
    chars.length >= 1 &&
    chars.length <= 31 &&
    chars[0]! >= 'a' &&
    chars[0]! <= 'z' &&
    chars.every((c) => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c === '-')
  );
}

describe('validateName: properties', () => {
  it('accepts exactly the harmless names, returns them unchanged, and refuses the rest with ferry_invalid_name only', () => {
    fc.assert(
      fc.property(fc.oneof(anyText(), validName, hostileName().map((h) => h.name)), (s) => {
        let out: unknown;
        try {
          out = validateName('container', s);
        } catch (e) {
          expect(e).toBeInstanceOf(FerryError);
          expect((e as FerryError).code).toBe(ErrorCode.InvalidName);
          expect(isHarmless(s)).toBe(false);
          return;
        }
        expect(out).toBe(s);
        expect(isHarmless(s)).toBe(true);
        expect(NAME_PATTERN.test(s)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses shell metacharacters, controls, bidi and invisible characters, lookalikes, leading dashes and paths', () => {
    fc.assert(
      fc.property(hostileName(), fc.constantFrom('container', 'host' as const), ({ name }, kind) => {
        catchFerry(() => validateName(kind, name), ErrorCode.InvalidName);
      }),
      { numRuns: 2000 },
    );
  });

  it('never echoes an unsafe character in its message, and names a lookalike or invisible culprit', () => {
    fc.assert(
      fc.property(fc.oneof(anyText(), hostileName().map((h) => h.name)), (s) => {
        fc.pre(!NAME_PATTERN.test(s));
        const e = catchFerry(() => validateName('host', s), ErrorCode.InvalidName);
        expect(hasUnsafe(e.message)).toBe(false);
        expect(e.message).toMatch(/^invalid host name '/);
        if (/[^\x20-\x7e]/u.test(s.slice(0, 64))) expect(e.message).toMatch(/character U\+[0-9A-F]{4,6} at position \d+ is not allowed/);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('validateName: hostile examples', () => {
  it('names a lookalike letter it shows', () => {
    const e = catchFerry(() => validateName('container', 'wеb1'), ErrorCode.InvalidName);
    expect(e.message).toMatch(/^invalid container name 'wеb1' \(character U\+0435 at position 2 is not allowed\): use/);
  });

  it.each([
    ['a right-to-left override', 'web\u202e1bew', 'U+202E at position 4'],
    ['a zero-width space', 'web\u200b1', 'U+200B at position 4'],
    ['an escape sequence', 'web\x1b[2J', 'U+001B at position 4'],
  ])('spells out %s instead of showing it', (_what, name, culprit) => {
    const e = catchFerry(() => validateName('container', name), ErrorCode.InvalidName);
    expect(e.message).toContain(culprit);
    expect(e.message).toContain(`\\u{${culprit.slice(2, 6)}}`);
    expect(hasUnsafe(e.message)).toBe(false);
  });

  it.each(['-oProxyCommand=sh', '--rm', '../../etc/passwd', 'web1;reboot', '$(reboot)', 'web1\nreboot'])('refuses %j', (name) => {
    catchFerry(() => validateName('host', name), ErrorCode.InvalidName);
  });
});
