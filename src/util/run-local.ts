import { execa } from 'execa';
import { ErrorCode, FerryError } from '../errors.ts';
import { logger } from '../log.ts';

export interface LocalRunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Stream output lines here as they come (progress for long runs). */
  onLine?: (line: string) => void;
  timeoutMs?: number;
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
    timeout: opts.timeoutMs,
    cancelSignal: opts.cancelSignal,
    stdin: 'ignore',
    all: true,
  });
  if (opts.onLine) {
    proc.all?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) opts.onLine!(line);
    });
  }
  const r = await proc;
  const code = typeof r.exitCode === 'number' ? r.exitCode : -1;
  logger().debug({ file, args, code, ms: Math.round(performance.now() - started) }, 'run-local');
  if (r.timedOut) throw new FerryError(ErrorCode.CommandTimedOut, `${file} ${args[0] ?? ''} timed out after ${opts.timeoutMs} ms`);
  if (r.isCanceled) throw new FerryError(ErrorCode.Cancelled, `${file} ${args[0] ?? ''} was cancelled`);
  if (!(opts.okCodes ?? [0]).includes(code)) {
    const tail = String(r.all ?? r.stderr ?? '').trim().split('\n').slice(-15).join('\n');
    throw new FerryError(ErrorCode.CommandFailed, `${file} ${args.slice(0, 2).join(' ')} failed (exit ${code}):\n${tail}`, {
      details: { file, args: [...args], code },
    });
  }
  return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), code };
}
