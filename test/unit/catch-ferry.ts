import { expect } from 'vitest';
import { FerryError, type ErrorCode } from '../../src/errors.ts';

/** Runs fn, asserts it throws a FerryError with this code, and returns the error for message checks. */
export function catchFerry(fn: () => unknown, code: ErrorCode): FerryError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a FerryError to be thrown').toBeInstanceOf(FerryError);
  const err = thrown as FerryError;
  expect(err.code).toBe(code);
  return err;
}
