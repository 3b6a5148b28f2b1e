import { describe, expect, it } from 'vitest';
import { compareVersions, parseCriuVersion, parseRuncVersion } from '../../../src/hosts/probe.ts';

describe('parseCriuVersion', () => {
  it('reads the Version line', () => {
    expect(parseCriuVersion('Version: 4.2\n')).toBe('4.2');
  });

  it('reads it from multi-line output with a GitCommitID', () => {
    expect(parseCriuVersion('Version: 4.1.1\nGitID: v4.1.1-12-gabcdef\n')).toBe('4.1.1');
    expect(parseCriuVersion('Warn: something\nVersion:   3.17.1\n')).toBe('3.17.1');
  });

  it('returns null when there is no version', () => {
    expect(parseCriuVersion('criu: command not found')).toBeNull();
    expect(parseCriuVersion('')).toBeNull();
  });
});

describe('parseRuncVersion', () => {
  it('reads the runc version line', () => {
    const out = 'runc version 1.1.12\ncommit: v1.1.12-0-g51d5e946\nspec: 1.0.2-dev\ngo: go1.20.13\nlibseccomp: 2.5.4\n';
    expect(parseRuncVersion(out)).toBe('1.1.12');
  });

  it('keeps a distribution suffix', () => {
    expect(parseRuncVersion('runc version 1.1.5+ds1\n')).toBe('1.1.5+ds1');
  });

  it('returns null when there is no version', () => {
    expect(parseRuncVersion('bash: runc: command not found')).toBeNull();
  });
});

describe('compareVersions', () => {
  it.each([
    ['4.2.1', '4.2', 1],
    ['4.2', '4.2.1', -1],
    ['4.2', '4.2.0', 0],
    ['4.2', '4.2', 0],
    ['4.10', '4.9', 1],
    ['4.9', '4.10', -1],
    ['3.17.1', '4.2', -1],
    ['4.1.1', '4.2', -1],
    ['5.0', '4.99', 1],
    ['1.1.5+ds1', '1.1.5', 0],
    ['1.1.5+ds1', '1.1.4', 1],
    ['1.1.5+ds1', '1.2', -1],
  ])('compareVersions(%j, %j) = %d', (a, b, want) => {
    expect(compareVersions(a, b)).toBe(want);
  });
});
