import { parseArgs } from 'node:util';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { GLOBAL_OPTIONS_HELP } from './global-flags.ts';

export interface Output {
  out: (s: string) => void;
  err: (s: string) => void;
  /** stdout is a terminal. */
  isTTY: boolean;
  /** stderr, when it is a terminal: progress is redrawn in place there (raw writes, its width). */
  errTTY?: { write(s: string): void; columns: number };
}

/** One `ferry` subcommand: its help is its own, and `ferry CMD --help` prints it. */
export interface Command {
  name: string;
  /** The usage lines (`ferry migrate NAME --from HOST …`). */
  synopsis: string;
  /** One line for the command list. */
  summary: string;
  /** Options and notes, shown by `ferry CMD --help`. */
  details?: string;
  /**
   * Whether the command reads the hosts (FERRY_INVENTORY or the hosts file), and so takes
   * `--inventory` and `--vault-password-file`; false for those that make their own (lab, env).
   * @defaultValue true
   */
  readsInventory?: boolean;
  /** Returns the exit code: 0 done, 1 failed or rolled back (2, usage, comes from errors). */
  run(args: string[], io: Output): Promise<number>;
}

export function helpText(c: Command): string {
  return [`usage: ${c.synopsis}`, '', c.summary, ...(c.details ? ['', c.details] : []), ...(c.readsInventory === false ? [] : ['', GLOBAL_OPTIONS_HELP])].join('\n');
}

/** parseArgs with Ferry's error: unknown flags become a usage error naming the flag, with the command's usage. */
export function parseFlags<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T, synopsis: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new FerryError(ErrorCode.UsageError, `${errorMessage(e)}\nusage: ${synopsis}`);
  }
}

export function usageError(synopsis: string, problem?: string): FerryError {
  return new FerryError(ErrorCode.UsageError, `${problem ? `${problem}\n` : ''}usage: ${synopsis}`);
}

/** A number flag: finite, within bounds, or a usage error naming the flag. */
export function numberFlag(flag: string, v: string | undefined, opts: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  const ok = v.trim() !== '' && Number.isFinite(n) && (!opts.integer || Number.isInteger(n)) && n >= (opts.min ?? -Infinity) && n <= (opts.max ?? Infinity);
  if (!ok) {
    const range = opts.min !== undefined && opts.max !== undefined ? ` from ${opts.min} to ${opts.max}` : opts.min !== undefined ? ` of at least ${opts.min}` : '';
    throw new FerryError(ErrorCode.UsageError, `--${flag} must be ${opts.integer ? 'a whole number' : 'a number'}${range} (got '${v}')`);
  }
  return n;
}
