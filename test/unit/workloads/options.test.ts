import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { mergeEnv, parseEnvAssignment, parseMemorySize, parsePort } from '../../../src/workloads/options.ts';
import { catchFerry } from '../catch-ferry.ts';

describe('parseEnvAssignment', () => {
  it.each([
    ['A=1', { key: 'A', value: '1' }],
    ['A=', { key: 'A', value: '' }],
    ['URL=a=b&c=d', { key: 'URL', value: 'a=b&c=d' }],
    ['lower.case-ok=x y', { key: 'lower.case-ok', value: 'x y' }],
  ])('reads %j', (text, want) => {
    expect(parseEnvAssignment(text)).toEqual(want);
  });

  it.each(['A', '=1', 'A B=1', '', 'A=\0'])('refuses %j', (text) => {
    expect(catchFerry(() => parseEnvAssignment(text), ErrorCode.UsageError).message).toContain('KEY=VALUE');
  });
});

describe('mergeEnv', () => {
  it('replaces a key in place and appends new ones in order, the last repeat winning', () => {
    expect(mergeEnv(['PATH=/bin', 'A=1', 'B=2'], ['A=9', 'C=3', 'C=4'])).toEqual(['PATH=/bin', 'A=9', 'B=2', 'C=4']);
  });

  it('does not take a key for a prefix of another (A is not AB)', () => {
    expect(mergeEnv(['AB=1'], ['A=2'])).toEqual(['AB=1', 'A=2']);
  });
});

describe('parseMemorySize', () => {
  it.each([
    ['512m', 512 * 2 ** 20],
    ['512MiB', 512 * 2 ** 20],
    ['512MB', 512 * 2 ** 20],
    ['1.5g', 1.5 * 2 ** 30],
    ['1G', 2 ** 30],
    ['8192k', 8 * 2 ** 20],
    ['268435456', 268435456],
    ['268435456b', 268435456],
    [' 1t ', 2 ** 40],
  ])('reads %j', (text, want) => {
    expect(parseMemorySize(text)).toBe(want);
  });

  it.each(['', 'lots', '1x', '-1g', '1 g b x', 'm'])('refuses %j', (text) => {
    expect(catchFerry(() => parseMemorySize(text), ErrorCode.UsageError).message).toContain('invalid --memory');
  });

  it('refuses a limit under 6 MiB', () => {
    expect(catchFerry(() => parseMemorySize('5m'), ErrorCode.UsageError).message).toContain('minimum');
  });
});

describe('parsePort', () => {
  it.each([['80', 80], [65535, 65535], ['1', 1]] as const)('reads %j', (text, want) => {
    expect(parsePort(text)).toBe(want);
  });

  it.each(['0', '65536', 'http', '80.5', 1.5, ''])('refuses %j', (text) => {
    catchFerry(() => parsePort(text), ErrorCode.UsageError);
  });
});
