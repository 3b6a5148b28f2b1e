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

/** Runs a controller-side program with an argument array; throws a coded error with the output tail. */
export async function runLocal(file: string, args: readonly string[], opts: LocalRunOptions = {}): Promise<LocalRunResult> {
  const started = performance.now();
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
  // A chunk may end mid-line (or mid-character): the unfinished part waits for the next chunk, or the end.
  let rest = '';
  const utf8 = new StringDecoder('utf8');
  const emit = (line: string) => {
    if (line.trim()) opts.onLine!(line.replace(/\r$/, ''));
  };
  if (opts.onLine) {
    proc.all?.on('data', (chunk: Buffer) => {
      const lines = (rest + utf8.write(chunk)).split('\n');
      rest = lines.pop()!;
      lines.forEach(emit);
    });
  }
  const r = await proc.finally(() => {
    clearTimeout(timer);
    opts.cancelSignal?.removeEventListener('abort', onAbort);
  });
  if (opts.onLine) emit(rest + utf8.end());
  const code = typeof r.exitCode === 'number' ? r.exitCode : -1;
  logger().debug({ file, args, code, ms: Math.round(performance.now() - started) }, 'run-local');
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
