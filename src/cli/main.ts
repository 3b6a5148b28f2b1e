import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, loadConfig } from '../config.ts';
import { ErrorCode, FerryError, errorHint, isFerryError, toFerryError } from '../errors.ts';
import { helpText, type Command, type Output } from './command.ts';
import { envWithGlobalFlags, givenGlobalFlags, GLOBAL_OPTIONS_USAGE, splitGlobalFlags, type GlobalFlags } from './global-flags.ts';
import { benchCommand } from './commands/bench.ts';
import { hostsCommand, psCommand } from './commands/hosts.ts';
import { envCommand } from './commands/env.ts';
import { labCommand } from './commands/lab.ts';
import { migrateCommand } from './commands/migrate.ts';
import { pkiCommand } from './commands/pki.ts';
import { recoverCommand } from './commands/recover.ts';
import { deployCommand, rmCommand } from './commands/deploy.ts';
import { frontCommand, provisionCommand } from './commands/provision.ts';
import { botCommand, startCommand, workerCommand } from './commands/start.ts';

export type { Output } from './command.ts';

export const COMMANDS: readonly Command[] = [startCommand, botCommand, workerCommand, labCommand, envCommand, hostsCommand, psCommand, pkiCommand, provisionCommand, deployCommand, rmCommand, frontCommand, migrateCommand, recoverCommand, benchCommand];

export const USAGE = [
  'ferry: live-migrate runc containers between hosts with CRIU',
  '',
  'Usage: ferry <command> [options]    (ferry <command> --help for its options)',
  '',
  ...COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
  `  ${'help'.padEnd(10)} this text (also --help); --version prints the version`,
  '',
  ...GLOBAL_OPTIONS_USAGE,
  '',
  'Exit status: 0 done, 1 failed or rolled back, 2 usage error.',
  '',
].join('\n');

/** Usage errors (2) are the caller's to fix before anything runs; everything else that fails is 1. */
const USAGE_CODES = new Set<string>([ErrorCode.UsageError, ErrorCode.InvalidName, ErrorCode.UnknownMethod]);

export function version(): string {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

export async function main(argv: string[], io: Output = stdio()): Promise<number> {
  let global: { flags: GlobalFlags; args: string[] };
  try {
    global = splitGlobalFlags(argv, process.cwd());
  } catch (e) {
    return failed(e, io);
  }
  const [cmd, ...rest] = global.args;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.out(USAGE);
    return 0;
  }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    io.out(`ferry ${version()}`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === cmd);
  if (!command) {
    io.err(`ferry: unknown command '${cmd}'\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(helpText(command));
    return 0;
  }
  const given = givenGlobalFlags(global.flags);
  if (command.readsInventory === false && given.length) {
    return failed(new FerryError(ErrorCode.UsageError, `ferry ${command.name} makes its own hosts and reads no inventory: ${given.join(' and ')} does not apply\nusage: ${command.synopsis}`), io);
  }
  // The flags stand in for their variables for the whole run, so every loadConfig() (and every program it starts) sees them.
  const restore = replaceEnv(envWithGlobalFlags(process.env, global.flags));
  try {
    loadConfig(); // fail fast on a bad environment, before any work
    return await command.run(rest, io);
  } catch (e) {
    return failed(e, io);
  } finally {
    restore();
  }
}

/** Reports a failure on stderr and returns the exit status: 2 for a usage error, else 1. */
function failed(e: unknown, io: Output): number {
  const err = toFerryError(e);
  io.err(`ferry: ${err.message} [${err.code}]`);
  const hint = isFerryError(e) ? errorHint(err.code) : undefined;
  if (hint && !USAGE_CODES.has(err.code)) io.err(`ferry: ${hint}`);
  const log = err.details?.logFile;
  if (typeof log === 'string') io.err(`ferry: Terraform's and Ansible's full output: ${log}`);
  return USAGE_CODES.has(err.code) ? 2 : 1;
}

/** Sets process.env to `env` (only the variables that differ) and returns what puts the old values back. */
function replaceEnv(env: NodeJS.ProcessEnv): () => void {
  const before: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    if (process.env[k] === v) continue;
    before[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

function stdio(): Output {
  return {
    out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
    err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
    isTTY: Boolean(process.stdout.isTTY),
    errTTY: process.stderr.isTTY ? { write: (s) => void process.stderr.write(s), get columns() { return process.stderr.columns || 80; } } : undefined,
  };
}
