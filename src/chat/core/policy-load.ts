import { ErrorCode, FerryError } from '../../errors.ts';
import { NAME_PATTERN } from '../../util/names.ts';
import { printable, quote } from '../../util/printable.ts';
import type { EnvironmentRules, Policy } from './policy-types.ts';

/** A Slack user ID (`U…`, `W…`), a user-group ID (`S…`), or `group:<name>`. */
export const PRINCIPAL_PATTERN = /^(?:[UWS][A-Z0-9]{2,20}|group:[a-z0-9][a-z0-9._-]{0,79})$/;

const TOP_KEYS = ['environments', 'hostEnvironments', 'approvalTtlMinutes'];
const ENV_KEYS = ['requesters', 'approvers', 'viewers'];
const DEFAULT_TTL_MINUTES = 15;
const MAX_TTL_MINUTES = 1440;

/**
 * Validates a parsed policy file (see PolicyFile) and returns it with defaults applied, frozen.
 * Strict: unknown fields, malformed IDs and dangling environment names are refused.
 *
 * @param source - Names the policy in messages (a file path, say).
 * @throws FerryError `ferry_policy_invalid` naming the offending field.
 */
export function loadPolicy(json: unknown, source = 'policy'): Policy {
  // Field paths hold the file's own keys: printable, so a key cannot drive the terminal that shows the error.
  const bad = (field: string, problem: string) => new FerryError(ErrorCode.PolicyInvalid, `${source}: ${printable(field)} ${problem}`);
  const top = object(json, () => bad('(top level)', "must be a JSON object with 'environments'"));
  unknownKeys(top, TOP_KEYS, '', bad);

  if (top.environments === undefined) throw bad('environments', 'is missing: map each environment name to { "requesters": [...], "approvers": [...] }');
  const envsIn = object(top.environments, () => bad('environments', 'must be an object mapping environment names to { "requesters": [...], "approvers": [...] }'));
  const names = Object.keys(envsIn);
  if (names.length === 0) throw bad('environments', 'is empty: nobody could migrate anything');
  const environments: Record<string, EnvironmentRules> = {};
  for (const env of names) {
    const at = `environments.${env}`;
    if (!NAME_PATTERN.test(env)) throw bad(at, `has an invalid environment name ${quote(env)}: use lowercase letters, digits and '-', starting with a letter`);
    const rules = object(envsIn[env], () => bad(at, 'must be an object { "requesters": [...], "approvers": [...] }'));
    unknownKeys(rules, ENV_KEYS, `${at}.`, bad);
    const requesters = principals(rules.requesters, `${at}.requesters`, bad);
    const approvers = principals(rules.approvers, `${at}.approvers`, bad);
    // Whoever may ask or approve may look; `viewers` widens (or narrows) that on purpose.
    const viewers = rules.viewers === undefined ? Object.freeze([...new Set([...requesters, ...approvers])]) : principals(rules.viewers, `${at}.viewers`, bad);
    environments[env] = Object.freeze({ requesters, approvers, viewers });
  }

  const hostEnvironments: Record<string, string> = {};
  if (top.hostEnvironments !== undefined) {
    const map = object(top.hostEnvironments, () => bad('hostEnvironments', 'must be an object mapping host names to environment names'));
    for (const [host, env] of Object.entries(map)) {
      const at = `hostEnvironments.${host}`;
      if (!NAME_PATTERN.test(host)) throw bad(at, `has an invalid host name ${quote(host)}: use lowercase letters, digits and '-', starting with a letter`);
      if (typeof env !== 'string') throw bad(at, `must be an environment name (a string), got ${describe(env)}`);
      if (!Object.hasOwn(environments, env)) throw bad(at, `names environment ${quote(env)}, which is not in environments (${names.join(', ')})`);
      hostEnvironments[host] = env;
    }
  }

  const ttl = top.approvalTtlMinutes === undefined ? DEFAULT_TTL_MINUTES : top.approvalTtlMinutes;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_TTL_MINUTES) {
    throw bad('approvalTtlMinutes', `must be a number of minutes above 0 and at most ${MAX_TTL_MINUTES}, got ${describe(ttl)}`);
  }

  return Object.freeze({ environments: Object.freeze(environments), hostEnvironments: Object.freeze(hostEnvironments), approvalTtlMinutes: ttl });
}

type Bad = (field: string, problem: string) => FerryError;

function object(v: unknown, err: () => FerryError): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw err();
  return v as Record<string, unknown>;
}

function unknownKeys(o: Record<string, unknown>, allowed: readonly string[], prefix: string, bad: Bad): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw bad(`${prefix}${k}`, `is not a known field (expected ${allowed.join(', ')})`);
  }
}

function principals(v: unknown, at: string, bad: Bad): readonly string[] {
  if (v === undefined) throw bad(at, 'is missing: list Slack user IDs (U…/W…), user-group IDs (S…) or group:<name> (an empty list [] allows nobody)');
  if (!Array.isArray(v)) throw bad(at, `must be a list of Slack user IDs (U…/W…), user-group IDs (S…) or group:<name>, got ${describe(v)}`);
  return Object.freeze(
    v.map((p: unknown, i) => {
      if (typeof p !== 'string' || !PRINCIPAL_PATTERN.test(p)) {
        const hint = typeof p === 'string' && /^@?[a-z][\w.-]*$/.test(p) ? " (use the member ID from the user's Slack profile, such as U012AB3CD, not a name)" : '';
        throw bad(`${at}[${i}]`, `${describe(p)} is not a Slack user ID (U…/W…), user-group ID (S…) or group:<name>${hint}`);
      }
      return p;
    }),
  );
}

function describe(v: unknown): string {
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : String(v);
}
