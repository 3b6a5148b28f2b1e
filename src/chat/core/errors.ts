/**
 * Errors of the chat command core. Like {@link FerryError} in src/errors.ts, every error carries a
 * stable `code`: adapters switch on it, never on message text. Messages say what went wrong and what to do.
 */
export enum ChatErrorCode {
  /** The `/migrate` text could not be parsed; the message names the problem, then shows the usage. */
  Usage = 'ferry_chat_usage',
  /** The policy file is malformed; the message names the offending field. */
  PolicyInvalid = 'ferry_chat_policy_invalid',
}

export class ChatError extends Error {
  readonly code: ChatErrorCode;
  readonly original?: unknown;
  /** Machine-readable extras, e.g. `{ problem }` for usage errors (the message without the usage text). */
  readonly details?: Record<string, unknown>;

  constructor(code: ChatErrorCode, message: string, opts: { original?: unknown; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'ChatError';
    this.code = code;
    this.original = opts.original;
    this.details = opts.details;
  }
}

export function isChatError(e: unknown, code?: ChatErrorCode): e is ChatError {
  return e instanceof ChatError && (code === undefined || e.code === code);
}
