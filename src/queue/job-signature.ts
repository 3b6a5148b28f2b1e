/**
 * Signed jobs: the bot signs each job it enqueues with HMAC-SHA256 over a canonical JSON (RFC 8785,
 * `canonicalize`) of the job's name, its data and the signing time; the worker checks that before
 * it does anything. Whoever can write to Redis but lacks the key can then neither forge a
 * migration nor alter one (another host, another container, another method): the worker refuses
 * it with `JobSignatureInvalid`. A replay of a genuine job is refused by the worker's started
 * marker (a job id never runs twice) and, once that marker expired, by the signature's age.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import canonicalize from 'canonicalize';
import { JOB_KEY_MIN_BYTES } from '../config.ts';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';

export const SIGNATURE_VERSION = 'v1';
/** A job signed longer ago than this is refused. @defaultValue 24 h */
export const JOB_SIGNATURE_MAX_AGE_S = 24 * 3600;
/** How far ahead of the worker's clock a signature may be (clock skew between machines). @defaultValue 5 min */
export const JOB_SIGNATURE_SKEW_S = 300;

/** What travels in the job's data beside the request. */
export interface JobSignature {
  v: typeof SIGNATURE_VERSION;
  /** When it was signed (ISO 8601). */
  at: string;
  /** HMAC-SHA256, hex. */
  mac: string;
}

export type Signed<T> = T & { signature: JobSignature };

let processKey: Buffer | undefined;

/**
 * The key to sign and check with: the configured one (FERRY_JOB_KEY_FILE / FERRY_JOB_KEY), else
 * one random key for this process, which serves only where the bot and the worker share a process
 * (the console, `ferry start`): a job signed with it is refused by any other worker.
 */
export function jobKeyFor(configured: Buffer | undefined): Buffer {
  if (configured) {
    if (configured.length < JOB_KEY_MIN_BYTES) throw new FerryError(ErrorCode.ConfigInvalid, `the job key must hold at least ${JOB_KEY_MIN_BYTES} bytes`);
    return configured;
  }
  processKey ??= randomBytes(32);
  return processKey;
}

/** Exactly what is signed: the data as Redis will hold it (JSON), keys sorted, no signature. */
function signedText(name: string, data: object, at: string): string {
  const { signature: _ignored, ...rest } = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  const text = canonicalize({ v: SIGNATURE_VERSION, name, at, data: rest });
  if (text === undefined) throw new TypeError('job data cannot be put in canonical JSON');
  return text;
}

function mac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/** The data with its signature, ready for `queue.add(name, …)`. */
export function signJob<T extends object>(name: string, data: T, key: Buffer, now = new Date()): Signed<T> {
  const at = now.toISOString();
  return { ...data, signature: { v: SIGNATURE_VERSION, at, mac: mac(key, signedText(name, data, at)).toString('hex') } };
}

/**
 * Checks a job's signature and returns its data without it; throws `JobSignatureInvalid`
 * saying why (unsigned, altered or signed with another key, too old, from the future).
 */
export function verifyJob<T extends object>(name: string, data: unknown, key: Buffer, now = new Date()): T {
  const refuse = (why: string) => new FerryError(ErrorCode.JobSignatureInvalid, `refused job '${name}': ${why}; nothing was run`, { details: { job: name } });
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw refuse('its data is not an object');
  const sig = (data as { signature?: unknown }).signature;
  if (sig === undefined) throw refuse('it is not signed (not made by a Ferry bot holding the job key)');
  const { v, at, mac: hex } = (sig ?? {}) as Partial<Record<keyof JobSignature, unknown>>;
  if (v !== SIGNATURE_VERSION || typeof at !== 'string' || typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) throw refuse('its signature is malformed');
  const signedAt = Date.parse(at);
  if (!Number.isFinite(signedAt)) throw refuse('its signature has no valid time');
  let expected: Buffer;
  try {
    expected = mac(key, signedText(name, data, at));
  } catch (e) {
    throw refuse(`its data cannot be checked (${errorMessage(e)})`);
  }
  if (!timingSafeEqual(expected, Buffer.from(hex, 'hex'))) throw refuse('its signature does not match: the job was altered, or signed with another key');
  // Only a genuine signature's time is worth judging.
  const age = (now.getTime() - signedAt) / 1000;
  if (age > JOB_SIGNATURE_MAX_AGE_S) throw refuse(`it was signed ${Math.round(age / 3600)} h ago, longer than ${JOB_SIGNATURE_MAX_AGE_S / 3600} h`);
  if (age < -JOB_SIGNATURE_SKEW_S) throw refuse(`it was signed ${Math.round(-age)} s in the future (check the clocks of the bot and the worker)`);
  const { signature: _sig, ...rest } = data as Record<string, unknown>;
  return rest as T;
}
