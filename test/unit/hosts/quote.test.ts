import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { commandLine, shellQuote } from '../../../src/hosts/quote.ts';
import { catchFerry } from '../catch-ferry.ts';

describe('shellQuote', () => {
  it.each(['runc', '--root', '/run/ferry/runc', 'a_b-c.d', 'user@host:/path', '10.0.0.1:27000', '%s', 'a+b,c'])(
    'leaves the safe argument %j unquoted',
    (arg) => {
      expect(shellQuote(arg)).toBe(arg);
    },
  );

  it('quotes an argument with a space', () => {
    expect(shellQuote('hello world')).toBe("'hello world'");
  });

  it('closes, escapes and reopens for a single quote', () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it.each(['$(rm -rf /)', '`id`', 'a;b', 'a\nb', 'a|b', 'a&b', '$HOME', '*', '~root', 'a"b', 'a\\b', '!x', '>out'])(
    'single-quotes the shell-significant argument %j',
    (arg) => {
      const q = shellQuote(arg);
      expect(q.startsWith("'")).toBe(true);
      expect(q.endsWith("'")).toBe(true);
      expect(q).toBe(`'${arg}'`);
    },
  );

  it('quotes the empty string as two single quotes', () => {
    expect(shellQuote('')).toBe("''");
  });

  it('rejects a NUL byte, as a usage error (it came from what a user gave)', () => {
    expect(catchFerry(() => shellQuote('a\0b'), ErrorCode.UsageError).message).toMatch(/NUL/);
  });
});

describe('commandLine', () => {
  it('joins quoted arguments with single spaces', () => {
    expect(commandLine(['echo', 'a b', 'c'])).toBe("echo 'a b' c");
  });

  it('refuses an empty argv, as a bug', () => {
    expect(catchFerry(() => commandLine([]), ErrorCode.Internal).message).toBe('empty command');
  });

  it('refuses an argv with a NUL byte anywhere', () => {
    expect(() => commandLine(['echo', 'ok', 'x\0'])).toThrow(/NUL/);
  });

  const nasty = [
    '',
    ' ',
    'plain',
    'two words',
    "it's",
    "''",
    "'\\''",
    '$(touch /tmp/ferry-quote-pwned)',
    '`touch /tmp/ferry-quote-pwned`',
    '${HOME}',
    '$HOME',
    'a; echo injected',
    'a && echo injected',
    'a | cat',
    'line1\nline2',
    'trailing newline\n',
    '\ttab',
    '"double" quotes',
    'back\\slash',
    '\\',
    '*',
    '?',
    '[a-z]',
    '~',
    '~root',
    '!',
    '#comment',
    '-n',
    '--',
    '%s%d%%',
    '>redirect',
    '<in',
    '{a,b}',
    'x=1',
    'ünïcødé ✓',
    "mixed '\"$`\\ \n end",
  ];

  const shells = ['/bin/sh', '/bin/bash'].filter((s) => existsSync(s));

  for (const sh of shells) {
    it(`${sh} -c receives every nasty string verbatim as one argument`, () => {
      for (const s of nasty) {
        const out = execFileSync(sh, ['-c', commandLine(['printf', '%s', s])], { encoding: 'utf8' });
        expect(out, `argument ${JSON.stringify(s)}`).toBe(s);
      }
    });

    it(`${sh} -c sees each argument as a separate word`, () => {
      const out = execFileSync(sh, ['-c', commandLine(['printf', '<%s>', 'a b', '', "c'd", '$(x)'])], { encoding: 'utf8' });
      expect(out).toBe("<a b><><c'd><$(x)>");
    });
  }

  it('never runs an injected command', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-quote-'));
    const marker = path.join(dir, 'pwned');
    try {
      execFileSync('/bin/sh', ['-c', commandLine(['printf', '%s', `$(touch ${marker})`, `\`touch ${marker}\``, `; touch ${marker}`])]);
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
