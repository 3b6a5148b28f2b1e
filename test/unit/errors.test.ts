import { describe, expect, it } from 'vitest';
import { ErrorCode, FerryError, errorMessage, isFerryError } from '../../src/errors.ts';

describe('isFerryError', () => {
  const e = new FerryError(ErrorCode.UnknownHost, 'unknown host');

  it('recognises a FerryError when no code is given', () => {
    expect(isFerryError(e)).toBe(true);
  });

  it('matches the code when one is given', () => {
    expect(isFerryError(e, ErrorCode.UnknownHost)).toBe(true);
    expect(isFerryError(e, ErrorCode.UsageError)).toBe(false);
  });

  it('rejects plain errors and non-errors', () => {
    expect(isFerryError(new Error('x'))).toBe(false);
    expect(isFerryError(Object.assign(new Error('x'), { code: ErrorCode.UnknownHost }), ErrorCode.UnknownHost)).toBe(false);
    expect(isFerryError('ferry_unknown_host')).toBe(false);
    expect(isFerryError(undefined)).toBe(false);
  });
});

describe('FerryError', () => {
  it('carries code, name, message, original and details', () => {
    const cause = new Error('root cause');
    const e = new FerryError(ErrorCode.CommandFailed, 'it failed', { original: cause, details: { code: 3 } });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('FerryError');
    expect(e.code).toBe('ferry_command_failed');
    expect(e.message).toBe('it failed');
    expect(e.original).toBe(cause);
    expect(e.details).toEqual({ code: 3 });
  });
});

describe('errorMessage', () => {
  it('uses an Error message and stringifies anything else', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
  });
});
