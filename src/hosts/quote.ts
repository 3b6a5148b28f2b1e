/**
 * SSH sends one command string, which the remote login shell parses. Every argument is quoted
 * here, so no argument can ever be read as shell syntax; no caller builds command strings.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('argument contains a NUL byte');
  // No '=': a first word with '=' would be read as an assignment.
  if (/^[A-Za-z0-9_@%+:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty command');
  return argv.map(shellQuote).join(' ');
}
