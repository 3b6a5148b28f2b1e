import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, FerryError, errorMessage, toFerryError } from '../errors.ts';
import { stripUnsafe } from '../util/printable.ts';
import { withToolLog, type ToolLog } from '../util/run-local.ts';
import type { Output } from './command.ts';
import { PlainProgress, TtyProgress, type Progress } from './progress.ts';

/** How a long command shows its steps and keeps its tools' output. */
export interface StepsOptions {
  /** Names the log file (`lab-up`, `provision`, …). */
  command: string;
  /** Show Terraform's and Ansible's own output on the terminal too. @defaultValue false */
  verbose?: boolean;
  /** Where the log file goes: `<dir>/logs/`. Falls back to the system's temporary directory when it cannot be written. */
  logDir: string;
  /** Steps as plain lines even on a terminal (`--json` keeps stdout clean; progress is on stderr either way). */
  plain?: boolean;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** The log file's name: `<command>-<UTC date and time>-<pid>.log`, sortable and unique per run. */
export function logFileName(command: string, at: Date, pid = process.pid): string {
  return `${command}-${at.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}-${pid}.log`;
}

/** Opens the log file (0600: a tool's output may name internal addresses), under `dir/logs`, else the temporary directory. */
function openLog(dir: string, command: string, at: Date): { fd: number; file: string } {
  const name = logFileName(command, at);
  const bases = [path.join(dir, 'logs'), path.join(os.tmpdir(), 'ferry-logs')];
  const why: string[] = [];
  for (const base of bases) {
    try {
      mkdirSync(base, { recursive: true, mode: 0o700 });
      const file = path.join(base, name);
      return { fd: openSync(file, 'a', 0o600), file };
    } catch (e) {
      // not writable here (a lab directory owned by root, a read-only mount): try the next place
      why.push(errorMessage(e));
    }
  }
  throw new FerryError(ErrorCode.ConfigInvalid, `cannot create a log file in ${bases.join(' or ')} (${why.join('; ')}): set FERRY_LAB_DIR to a directory Ferry may write`, {
    details: { dirs: bases },
  });
}

/**
 * Runs a long command's work with progress on stderr (a task list on a terminal, plain lines
 * otherwise) and every line of Terraform's and Ansible's output in a log file; `--verbose` shows that
 * output as well. `fn` reports each step through `say`, and a remark that is no step (a method
 * skipped) through `note`. On failure the running step is marked failed
 * and the error carries the log file's path (`details.logFile`), which `ferry` prints.
 */
export async function runSteps<T>(io: Output, o: StepsOptions, fn: (say: (step: string) => void, note: (line: string) => void) => Promise<T>): Promise<{ value: T; logFile: string }> {
  const now = o.now ?? Date.now;
  const { fd, file } = openLog(o.logDir, o.command, new Date(now()));
  const write = (s: string) => {
    try {
      writeSync(fd, `${s}\n`);
    } catch {
      // a full disk must not fail the command it logs
    }
  };
  const progress: Progress = io.errTTY && !o.plain ? new TtyProgress(io.errTTY, now) : new PlainProgress((l) => io.err(l), now);
  const stamp = () => new Date(now()).toISOString();
  const tools: ToolLog = {
    start: (f, args) => write(`${stamp()} $ ${[f, ...args].map(stripUnsafe).join(' ')}`),
    line: (f, line) => {
      write(`${f}: ${line}`);
      if (o.verbose) progress.log(`  ${f}: ${line}`);
    },
    end: (f, code) => write(`${stamp()} ${f} exited ${code}`),
  };
  const say = (step: string) => {
    write(`${stamp()} == ${step}`);
    progress.step(step);
  };
  const note = (line: string) => {
    write(`${stamp()} ${line}`);
    progress.log(line);
  };
  try {
    const value = await withToolLog(tools, () => fn(say, note));
    progress.end(true);
    return { value, logFile: file };
  } catch (e) {
    progress.end(false);
    const err = toFerryError(e);
    write(`${stamp()} failed: [${err.code}] ${err.message}`);
    throw new FerryError(err.code, err.message, { original: e, details: { ...err.details, logFile: file } });
  } finally {
    closeSync(fd);
  }
}

/** The --verbose line of each long command's help. */
export const VERBOSE_HELP = "--verbose   show Terraform's and Ansible's own output as well (it is always written to $FERRY_LAB_DIR/logs/, named on failure)";
