import { ErrorCode, FerryError } from '../errors.ts';
import { quote } from './printable.ts';

/**
 * Container and host names that reach commands. Anything else is refused before use. ASCII only and a
 * leading letter: no shell metacharacters, no `-` that runc or ssh would read as an option, no `.` or
 * `/` for path traversal, no lookalike letters from other scripts.
 */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

export function validateName(kind: 'container' | 'host' | 'group' | 'environment', value: string): string {
  if (!NAME_PATTERN.test(value)) {
    throw new FerryError(
      ErrorCode.InvalidName,
      `invalid ${kind} name ${quote(value)}${culprit(value)}: use 1-31 characters, lowercase letters, digits and '-', starting with a letter`,
    );
  }
  return value;
}

/** Names the first character outside ASCII: a Cyrillic `е` looks like `e`, and the user deserves to know. */
function culprit(value: string): string {
  const m = /[^\x20-\x7e]/u.exec(value.slice(0, 64));
  if (!m) return '';
  const cp = m[0].codePointAt(0)!;
  return ` (character U+${cp.toString(16).toUpperCase().padStart(4, '0')} at position ${Array.from(value.slice(0, m.index)).length + 1} is not allowed)`;
}
