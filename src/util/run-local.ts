import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { execa } from 'execa';
import { ErrorCode, FerryError } from '../errors.ts';
import { logger } from '../log.ts';
import { stopTree } from './process-tree.ts';

export interface LocalRunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Stream output lines here as they come (progress for long runs). */
  onLine?: (line: string) => void;
  /** Past this the program and every process it started are stopped (SIGTERM, SIGKILL 5 s later) and the run fails with `ferry_command_timed_out`. @defaultValue none */
  timeoutMs?: number;
  /** Aborting stops the program and its processes the same way; the run fails with `ferry_cancelled`. */
  cancelSignal?: AbortSignal;
  /** Exit codes that count as success (terraform plan -detailed-exitcode uses 2). */
  okCodes?: number[];
}

export interface LocalRunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Where the output of every program run through {@link runLocal} goes, line by line, while a
 * {@link withToolLog} scope is active: the CLI writes it to a log file (and, with --verbose, to the
 * terminal), so Terraform's and Ansible's own words are kept without filling the screen.
 */
export interface ToolLog {
  /** A program starts: its name and arguments. */
  start(file: string, args: readonly string[]): void;
  /** One line of its output (stdout and stderr, interleaved as they came). */
  line(file: string, line: string): void;
  /** It ended with this exit code (-1: it did not run, or was killed). */
  end(file: string, code: number): void;
}

const toolLogs = new AsyncLocalStorage<ToolLog>();

/**
 * Runs `fn` with `log` receiving the output of every program it runs through runLocal, however deep
 * the call (providers, playbook runners): an async context, not an argument threaded through each layer.
 */
export function withToolLog<T>(log: ToolLog, fn: () => Promise<T>): Promise<T> {
  return toolLogs.run(log, fn);
}

/**
 * Splits a stream of chunks into lines, whatever the chunk boundaries: a chunk may end mid-line or
 * mid-character (UTF-8), and the unfinished part waits for the next chunk; `flush` emits a last
 * unterminated line.
 */
export function lineSplitter(emit: (line: string) => void): { push(chunk: Buffer | string): void; flush(): void } {
  let rest = '';
  const utf8 = new StringDecoder('utf8');
  return {
    push(chunk) {
      const parts = (rest + (typeof chunk === 'string' ? chunk : utf8.write(chunk))).split(/\r?\n/);
      rest = parts.pop()!;
      for (const p of parts) emit(p);
    },
    flush() {
      rest += utf8.end();
      if (rest) emit(rest);
      rest = '';
    },
  };
}

/** Runs a controller-side program with an argument array; throws a coded error with the output tail. */
export async function runLocal(file: string, args: readonly string[], opts: LocalRunOptions = {}): Promise<LocalRunResult> {
  const started = performance.now();
  const tool = toolLogs.getStore();
  const name = path.basename(file);
  tool?.start(file, args);
  const proc = execa(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    reject: false,
    stdin: 'ignore',
    all: true,
  });
  // Timeout and cancel stop the whole tree (see stopTree): execa's own would signal only the top process.
  let stopped: 'timeout' | 'cancel' | undefined;
  const stop = (why: 'timeout' | 'cancel') => {
    if (stopped || proc.pid === undefined) return;
    stopped = why;
    void stopTree(proc.pid);
  };
  const timer = opts.timeoutMs ? setTimeout(() => stop('timeout'), opts.timeoutMs) : undefined;
  const onAbort = () => stop('cancel');
  if (opts.cancelSignal?.aborted) onAbort();
  else opts.cancelSignal?.addEventListener('abort', onAbort, { once: true });
  const emit = (line: string) => {
    tool?.line(name, line);
    if (opts.onLine && line.trim()) opts.onLine(line);
  };
  // One splitter per stream: a partial line on stdout must not take in what stderr says meanwhile.
  const streams = [proc.stdout, proc.stderr].map((stream) => {
    const lines = lineSplitter(emit);
    if (opts.onLine || tool) stream?.on('data', (chunk: Buffer) => lines.push(chunk));
    return lines;
  });
  // A process that escaped the tree (a daemon it started: ssh's ControlPersist master, a setsid'd
  // helper) may hold our pipes open long after the program itself ended; execa would wait for
  // them. Once the program has exited, its output is complete: close the pipes after a short grace.
  let drain: NodeJS.Timeout | undefined;
  proc.once('exit', () => {
    drain = setTimeout(() => {
      for (const s of [proc.stdout, proc.stderr, proc.all]) s?.destroy();
    }, stopped ? 1000 : 5000);
    drain.unref();
  });
  const r = await proc.finally(() => {
    clearTimeout(timer);
    clearTimeout(drain);
    opts.cancelSignal?.removeEventListener('abort', onAbort);
  });
  for (const lines of streams) lines.flush();
  const code = typeof r.exitCode === 'number' ? r.exitCode : -1;
  tool?.end(name, code);
  logger().debug({ file, args, code, ms: Math.round(performance.now() - started) }, 'run-local');
  if ((r as { code?: string }).code === 'ENOENT' && r.exitCode === undefined) {
    throw new FerryError(ErrorCode.ToolMissing, `${file} is not installed (not found on PATH): run scripts/setup.sh, which installs what Ferry needs, or install it yourself`, {
      details: { file },
    });
  }
  if (stopped === 'timeout') throw new FerryError(ErrorCode.CommandTimedOut, `${file} ${args[0] ?? ''} timed out after ${opts.timeoutMs} ms`);
  if (stopped === 'cancel') throw new FerryError(ErrorCode.Cancelled, `${file} ${args[0] ?? ''} was cancelled`);
  if (!(opts.okCodes ?? [0]).includes(code)) {
    const tail = String(r.all ?? r.stderr ?? '').trim().split('\n').slice(-15).join('\n');
    throw new FerryError(ErrorCode.CommandFailed, `${file} ${args.slice(0, 2).join(' ')} failed (exit ${code}):\n${tail}`, {
      details: { file, args: [...args], code },
    });
  }
  return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), code };
}
