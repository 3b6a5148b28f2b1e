import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { parseCommandLine } from '../../../src/workloads/options.ts';
import { catchFerry } from '../catch-ferry.ts';

describe('parseCommandLine (--cmd)', () => {
  it.each([
    ['words', 'httpd -f -p 8080', ['httpd', '-f', '-p', '8080']],
    ['quotes', `/bin/sh -c 'echo "a b"; sleep 1000'`, ['/bin/sh', '-c', 'echo "a b"; sleep 1000']],
    ['a variable, kept for the container', 'echo $HOME', ['echo', '$HOME']],
    ['a JSON array', '["/bin/sh","-c","exec httpd -f"]', ['/bin/sh', '-c', 'exec httpd -f']],
    ['a JSON array after spaces', '  ["sleep","1"]', ['sleep', '1']],
  ])('reads %s', (_what, text, want) => {
    expect(parseCommandLine(text)).toEqual(want);
  });

  it.each([
    ['a pipe', 'a | b', /one program/],
    ['a redirection', 'a > /tmp/x', /one program/],
    ['a glob', 'ls *', /one program/],
    ['nothing', '   ', /no command/],
    ['an empty JSON array', '[]', /no command/],
    ['a JSON array of numbers', '[1,2]', /JSON array of strings/],
    ['broken JSON', '["a",', /JSON array of strings/],
    ['an empty program', '[""]', /no command/],
  ])('refuses %s', (_what, text, message) => {
    expect(catchFerry(() => parseCommandLine(text), ErrorCode.UsageError).message).toMatch(message);
  });
});
