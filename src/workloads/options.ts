import shellQuote from 'shell-quote';
import { ErrorCode, FerryError } from '../errors.ts';

/** Parses one `--env K=V`; the value may be empty or hold '='. */
export function parseEnvAssignment(text: string): { key: string; value: string } {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  if (eq <= 0 || !/^[^\s=\0]+$/.test(key) || text.includes('\0')) {
    throw new FerryError(ErrorCode.UsageError, `invalid --env '${text}': use KEY=VALUE (a name without spaces or '=', then '=', then the value)`);
  }
  return { key, value: text.slice(eq + 1) };
}

/**
 * Sets each `K=V` in a container's environment: a key already there is replaced in place,
 * new keys are appended in the order given (the last one wins for a repeated key).
 */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out = [...base];
  for (const o of overrides) {
    const { key } = parseEnvAssignment(o);
    const i = out.findIndex((e) => e === key || e.startsWith(`${key}=`));
    if (i >= 0) out[i] = o;
    else out.push(o);
  }
  return out;
}

/** The smallest limit accepted: below this a container's runtime alone can hit the limit (Docker refuses under 6 MiB too). */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

/**
 * Parses `--memory`: a number of bytes, or a number with a unit k, m, g, t (optionally followed by
 * `i` and/or `b`, any case). Units are binary, as Docker's: `512m` = `512MiB` = `512MB` = 536870912.
 */
export function parseMemorySize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])i?)?b?\s*$/i.exec(text);
  if (!m) throw new FerryError(ErrorCode.UsageError, `invalid --memory '${text}': use a size such as 512m, 1.5g or 268435456`);
  const exp = { '': 0, k: 1, m: 2, g: 3, t: 4 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.floor(Number(m[1]) * 1024 ** exp);
  if (bytes < MIN_MEMORY_BYTES) throw new FerryError(ErrorCode.UsageError, `--memory ${text} is below the minimum of 6m`);
  return bytes;
}

/** Parses a TCP port (`--port`). */
export function parsePort(text: string | number): number {
  const p = typeof text === 'number' ? text : /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new FerryError(ErrorCode.UsageError, `invalid port '${text}': use 1-65535`);
  return p;
}

/**
 * Parses `--cmd`: a JSON array of strings (`["/bin/sh","-c","echo $HOME"]`), or words split as a
 * shell splits them (`httpd -f -p 8080`, quotes honoured) but never run by one: operators,
 * redirections and globs are refused, and `$VAR` is kept as written (the container's program sees
 * it, as the image's own Cmd would). Throws a usage error saying what was wrong.
 */
export function parseCommandLine(text: string): string[] {
  const bad = (why: string) => new FerryError(ErrorCode.UsageError, `invalid --cmd '${text}': ${why} (use words, e.g. --cmd 'httpd -f -p 8080', or a JSON array)`);
  let argv: unknown;
  if (text.trimStart().startsWith('[')) {
    try {
      argv = JSON.parse(text);
    } catch {
      throw bad('not a JSON array of strings');
    }
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw bad('not a JSON array of strings');
  } else {
    const words = shellQuote.parse(text, (key) => `$${key}`);
    const op = words.find((w) => typeof w !== 'string');
    if (op !== undefined) throw bad(`a command is one program, not a shell line (found ${JSON.stringify(op)}); for shell syntax use ["sh","-c","..."]`);
    argv = words;
  }
  const list = argv as string[];
  if (list.length === 0 || list[0] === '') throw bad('no command');
  if (list.some((a) => a.includes('\0'))) throw bad('a NUL character');
  return list;
}
