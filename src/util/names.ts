import { ErrorCode, FerryError } from '../errors.ts';

/** Container and host names that reach commands. Anything else is refused before use. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

export function validateName(kind: 'container' | 'host', value: string): string {
  if (!NAME_PATTERN.test(value)) {
    throw new FerryError(
      ErrorCode.InvalidName,
      `invalid ${kind} name '${truncate(value)}': use 1-31 characters, lowercase letters, digits and '-', starting with a letter`,
    );
  }
  return value;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
