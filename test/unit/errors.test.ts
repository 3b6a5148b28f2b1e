import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';
import { ErrorCode, FerryError, decodeError, encodeError, errorMessage, isFerryError } from '../../src/errors.ts';

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

describe('errors through the queue', () => {
  it('keeps code, message and details across encode and decode', () => {
    const e = new FerryError(ErrorCode.CriuDumpFailed, 'checkpoint of web1 failed on lab-1: Error (criu/x.c): boom', { details: { host: 'lab-1', criuLog: 'Error (criu/x.c): boom' } });
    const back = decodeError(encodeError(e));
    expect(back).toBeInstanceOf(FerryError);
    expect(back.code).toBe(ErrorCode.CriuDumpFailed);
    expect(back.message).toBe(e.message);
    expect(back.details).toEqual({ host: 'lab-1', criuLog: 'Error (criu/x.c): boom' });
  });

  it('turns a foreign error into Internal, keeping its words', () => {
    expect(decodeError(encodeError(new TypeError('x is undefined')))).toMatchObject({ code: ErrorCode.Internal, message: 'x is undefined' });
  });

  it('reads plain text (an older worker, BullMQ itself) under the fallback code', () => {
    expect(decodeError('job stalled more than allowable limit')).toMatchObject({ code: ErrorCode.MigrationFailed, message: 'job stalled more than allowable limit' });
    expect(decodeError('ferry-error:{not json')).toMatchObject({ code: ErrorCode.MigrationFailed });
    expect(decodeError('ferry-error:{"code":"made_up","message":"m"}').code).toBe(ErrorCode.MigrationFailed);
  });

  it('serializes to JSON without the original', () => {
    expect(JSON.parse(JSON.stringify(new FerryError(ErrorCode.Cancelled, 'stop', { original: new Error('x') })))).toEqual({ code: 'ferry_cancelled', message: 'stop' });
  });
});

describe('one coded error type', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  const found = (re: RegExp) =>
    files(path.join(REPO_ROOT, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(re)].map((m) => `${path.relative(REPO_ROOT, f)}: ${m[1] ?? m[0]}`));

  it('is the only error class in src, besides two signals that never leave their module (each says why)', () => {
    expect(found(/class (\w+) extends Error\b/g).sort()).toEqual(['src/errors.ts: FerryError', 'src/migrate/MigrationEngine.ts: GroupStepFailed', 'src/traffic/forward.ts: ForwardError']);
  });

  it('is what src throws: no bare `new Error(` but the statistics decoder, whose one caller swallows it', () => {
    expect(found(/new Error\(/g)).toEqual(['src/migrate/stats.ts: new Error(', 'src/migrate/stats.ts: new Error(']);
  });
});
