import { ErrorCode, FerryError } from '../errors.ts';

/**
 * SSH sends one command string, which the remote login shell parses. Every argument is quoted
 * here, so no argument can ever be read as shell syntax; no caller builds command strings.
 */
export function shellQuote(arg: string): string {
  // A value from a user (a health check's command, a name read from a file) can hold one; no command line can carry it.
  if (arg.includes('\0')) throw new FerryError(ErrorCode.UsageError, 'argument contains a NUL byte, which no command line can carry: remove it from what was given to Ferry');
  // No '=': a first word with '=' would be read as an assignment.
  if (/^[A-Za-z0-9_@%+:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  // Every caller passes a program at least: an empty argv is a bug.
  if (argv.length === 0) throw new FerryError(ErrorCode.Internal, 'empty command');
  return argv.map(shellQuote).join(' ');
}
