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

/** Ansible group names (letters, digits, `_`; `-` is allowed by Ansible with a warning and used in Ferry's examples). */
export const GROUP_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** How a migration's target names a group of the inventory instead of a host: `group:cloud-b`. */
export const GROUP_TARGET_PREFIX = 'group:';

/**
 * The group named by a `group:NAME` target (`/migrate web1 from lab-1 to group:cloud-b`), or
 * undefined when `target` is not one; a malformed name after `group:` is refused.
 */
export function parseGroupTarget(target: string): string | undefined {
  if (!target.startsWith(GROUP_TARGET_PREFIX)) return undefined;
  const name = target.slice(GROUP_TARGET_PREFIX.length);
  if (!GROUP_NAME_PATTERN.test(name)) {
    throw new FerryError(ErrorCode.InvalidName, `invalid group ${quote(name)}${culprit(name)}: an Ansible group name (letters, digits, '_' and '-', starting with a letter or '_', up to 64 characters)`);
  }
  return name;
}

/** A migration's target as given: a host name, or `group:NAME` (a member is picked when it runs). Returns it. */
export function validateTarget(value: string): string {
  if (parseGroupTarget(value) === undefined) validateName('host', value);
  return value;
}

/** Names the first character outside ASCII: a Cyrillic `е` looks like `e`, and the user deserves to know. */
function culprit(value: string): string {
  const m = /[^\x20-\x7e]/u.exec(value.slice(0, 64));
  if (!m) return '';
  const cp = m[0].codePointAt(0)!;
  return ` (character U+${cp.toString(16).toUpperCase().padStart(4, '0')} at position ${Array.from(value.slice(0, m.index)).length + 1} is not allowed)`;
}
