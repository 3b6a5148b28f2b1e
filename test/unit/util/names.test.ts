import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { NAME_PATTERN, validateName } from '../../../src/util/names.ts';
import { catchFerry } from '../catch-ferry.ts';

describe('validateName', () => {
  it.each(['web1', 'a', 'kv-store', 'lab-2', 'x'.repeat(31), 'a1-2-3'])('accepts %j and returns it', (name) => {
    expect(validateName('container', name)).toBe(name);
  });

  it.each([
    ['uppercase', 'Web1'],
    ['leading digit', '1web'],
    ['leading dash', '-web'],
    ['32 characters', 'x'.repeat(32)],
    ['path traversal', '../etc'],
    ['slash', 'a/b'],
    ['space', 'web 1'],
    ['shell metacharacter', 'web1;rm'],
    ['underscore', 'web_1'],
    ['dot', 'web.1'],
    ['empty', ''],
    ['trailing newline', 'web1\n'],
  ])('rejects a name with %s (%j) with ferry_invalid_name', (_what, name) => {
    const e = catchFerry(() => validateName('container', name), ErrorCode.InvalidName);
    expect(e.message).toContain('invalid container name');
  });

  it('names the kind it validated', () => {
    const e = catchFerry(() => validateName('host', 'Lab-1'), ErrorCode.InvalidName);
    expect(e.message).toMatch(/^invalid host name 'Lab-1'/);
  });

  it('truncates a very long name in the message', () => {
    const long = 'a'.repeat(100);
    const e = catchFerry(() => validateName('container', long), ErrorCode.InvalidName);
    expect(e.message).toContain(`'${'a'.repeat(40)}…'`);
    expect(e.message).not.toContain('a'.repeat(41));
  });

  it('exports the same pattern it enforces', () => {
    expect(NAME_PATTERN.test('web1')).toBe(true);
    expect(NAME_PATTERN.test('Web1')).toBe(false);
  });
});
