import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';

/**
 * A secret from the environment: `NAME` itself, or the contents of the file `NAME_FILE` names (Docker
 * and compose secrets mount as files under /run/secrets, so the value never sits in `docker inspect`).
 * The file's trailing newline is dropped. Messages name the variable and the file, never the value.
 *
 * @returns undefined when neither is set (or `NAME` is blank).
 * @throws FerryError `ferry_config_invalid` when both are set, the path is relative, the file cannot be
 *   read, or it is empty.
 */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const direct = env[name] !== undefined && env[name]!.trim() !== '' ? env[name] : undefined;
  const fileVar = `${name}_FILE`;
  const file = env[fileVar]?.trim() ? env[fileVar]!.trim() : undefined;
  if (direct !== undefined && file !== undefined) {
    throw new FerryError(ErrorCode.ConfigInvalid, `both ${name} and ${fileVar} are set: set one of them (${fileVar} for a secret mounted as a file)`);
  }
  if (file === undefined) return direct;
  if (!path.isAbsolute(file)) throw new FerryError(ErrorCode.ConfigInvalid, `${fileVar}='${file}' must be an absolute path`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FerryError(ErrorCode.ConfigInvalid, `cannot read ${fileVar}=${file}: ${errorMessage(e)} (it must be readable by the user Ferry runs as)`);
  }
  const value = text.replace(/\r?\n+$/, '');
  if (value.trim() === '') throw new FerryError(ErrorCode.ConfigInvalid, `${fileVar}=${file} is empty: put the secret in it`);
  return value;
}

/** Checks a secret's shape without ever printing it: `what` says what it should look like. */
export function checkSecret(name: string, value: string | undefined, ok: (v: string) => boolean, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (/\s/.test(value) || !ok(value)) throw new FerryError(ErrorCode.ConfigInvalid, `${name} (or ${name}_FILE) must be ${what}, without spaces or line breaks (the value is not shown)`);
  return value;
}

/**
 * The Redis URL Ferry connects with: REDIS_URL (or REDIS_URL_FILE), `redis://` or `rediss://`, with the
 * password of REDIS_PASSWORD (or REDIS_PASSWORD_FILE) put in when given. A URL that already carries a
 * password and a separate password are refused, as two answers to one question.
 */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const raw = secretFromEnv(env, 'REDIS_URL');
  const password = secretFromEnv(env, 'REDIS_PASSWORD');
  if (raw === undefined) {
    if (password !== undefined) throw new FerryError(ErrorCode.ConfigInvalid, 'REDIS_PASSWORD (or REDIS_PASSWORD_FILE) is set but REDIS_URL is not: set REDIS_URL to the Redis the password is for');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new FerryError(ErrorCode.ConfigInvalid, 'REDIS_URL must be a URL such as redis://redis:6379 or rediss://user@host:6380/0 (the value is not shown: it may hold a password)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new FerryError(ErrorCode.ConfigInvalid, `REDIS_URL must start with redis:// or rediss:// (got ${url.protocol}//)`);
  }
  if (password === undefined) return raw.trim();
  if (url.password !== '') throw new FerryError(ErrorCode.ConfigInvalid, 'REDIS_URL already carries a password and REDIS_PASSWORD (or REDIS_PASSWORD_FILE) gives another: keep one');
  url.password = encodeURIComponent(password);
  return url.toString();
}
