import { expect } from 'vitest';
import { ChatError, type ChatErrorCode } from '../../../src/chat/core/errors.ts';

/** Runs fn, asserts it throws a ChatError with this code, and returns the error for message checks. */
export function catchChat(fn: () => unknown, code: ChatErrorCode): ChatError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a ChatError to be thrown').toBeInstanceOf(ChatError);
  const err = thrown as ChatError;
  expect(err.code).toBe(code);
  return err;
}
