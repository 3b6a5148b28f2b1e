/**
 * Who may ask for a migration and who may approve it, per environment. Pure decisions: the adapter
 * resolves the Slack user and their groups, the policy says yes or no and why.
 */

export { loadPolicy, PRINCIPAL_PATTERN } from './policy-load.ts';
export type { ChatUser, Decision, DenyCode, EnvironmentRules, HostRef, PendingRequest, Policy, PolicyFile } from './policy-types.ts';
import type { ChatUser, Decision, DenyCode, HostRef, PendingRequest, Policy } from './policy-types.ts';
export { auditEvent, type AuditAction, type AuditEvent, type AuditInput, type AuditOutcome } from './audit.ts';

const ALLOWED: Decision = Object.freeze({ allowed: true });

/** The environment a host belongs to: the policy's override, else `defaultEnv` (the inventory's). */
export function environmentOf(policy: Policy, host: string, defaultEnv: string): string {
  return Object.hasOwn(policy.hostEnvironments, host) ? policy.hostEnvironments[host]! : defaultEnv;
}

/**
 * The environments a migration touches, source's first, without duplicates. `to` is the target host,
 * or every member of a target group: any of them may be picked when it runs.
 */
export function migrationEnvironments(policy: Policy, from: HostRef, ...to: HostRef[]): string[] {
  return unique([from, ...to].map((h) => environmentOf(policy, h.name, h.environment)));
}

/** May `user` ask for a migration touching all of `envs`? They must be a requester in every one. */
export function canRequest(policy: Policy, user: ChatUser, envs: readonly string[]): Decision {
  return allowedIn(policy, user, envs, 'requesters');
}

/**
 * May `approver` approve `request` at `now`? Never their own request; never an expired one
 * (older than the policy's approvalTtlMinutes); and only as an approver in every environment it touches.
 */
export function canApprove(policy: Policy, approver: ChatUser, request: PendingRequest, now: Date): Decision {
  if (approver.id === request.requesterId) {
    return deny('self-approval', 'you asked for this migration yourself: someone else must approve it');
  }
  const created = new Date(request.createdAt).getTime();
  if (!Number.isFinite(created)) return deny('invalid-request', `this request has no valid creation time ('${String(request.createdAt)}'): ask again with /migrate`);
  const ageMs = now.getTime() - created;
  const ttlMs = policy.approvalTtlMinutes * 60_000;
  if (ageMs > ttlMs) {
    return deny('expired', `this request expired: it was made ${Math.floor(ageMs / 60_000)} min ago and approvals stay open ${policy.approvalTtlMinutes} min; ask again with /migrate`);
  }
  return allowedIn(policy, approver, request.envs, 'approvers');
}

/**
 * May `user` see hosts and migrations touching all of `envs` (`/migrate hosts`, `list`, `status`)?
 * They must be a viewer in every one (by default, a requester or an approver there).
 */
export function canView(policy: Policy, user: ChatUser, envs: readonly string[]): Decision {
  return allowedIn(policy, user, envs, 'viewers');
}

/** The environments whose hosts and migrations `user` may see, in the policy's order. */
export function viewableEnvironments(policy: Policy, user: ChatUser): string[] {
  return Object.keys(policy.environments).filter((e) => policy.environments[e]!.viewers.some((p) => matches(p, user)));
}

/** Why `user` sees nothing at all: they are a viewer in no environment. */
export function viewNothing(policy: Policy): Extract<Decision, { allowed: false }> {
  const names = Object.keys(policy.environments);
  return deny('not-viewer', `you may not see Ferry's hosts or migrations: you are not listed as a viewer (or requester or approver) in any environment of the Ferry policy (${list(names)})`);
}

type Role = 'requesters' | 'approvers' | 'viewers';
const VERBS: Record<Role, { verb: string; code: DenyCode; where: (env: string) => string }> = {
  requesters: { verb: 'request migrations', code: 'not-requester', where: (e) => `environments.${e}.requesters` },
  approvers: { verb: 'approve migrations', code: 'not-approver', where: (e) => `environments.${e}.approvers` },
  viewers: { verb: 'see hosts and migrations', code: 'not-viewer', where: (e) => `environments.${e}.viewers (by default its requesters and approvers)` },
};

function allowedIn(policy: Policy, user: ChatUser, envs: readonly string[], role: Role): Decision {
  const wanted = unique(envs);
  if (wanted.length === 0) return deny('no-environment', 'no environment given for this migration: Ferry cannot decide who may run it');
  const unknown = wanted.filter((e) => !Object.hasOwn(policy.environments, e));
  if (unknown.length) {
    return deny('unknown-environment', `${plural('environment', unknown)} ${list(unknown)} ${unknown.length > 1 ? 'are' : 'is'} not in the Ferry policy, so nobody may migrate containers there`);
  }
  const missing = wanted.filter((e) => !policy.environments[e]![role].some((p) => matches(p, user)));
  if (missing.length === 0) return ALLOWED;
  const v = VERBS[role];
  const where = missing.map(v.where).join(' and ');
  return deny(v.code, `you may not ${v.verb} in ${plural('environment', missing)} ${list(missing)}: only people and groups listed in ${where} of the Ferry policy may`);
}

/** A policy entry matches the user's own ID or one of their groups. */
function matches(principal: string, user: ChatUser): boolean {
  return principal === user.id || user.groups.includes(principal);
}

function deny(code: DenyCode, reason: string): Extract<Decision, { allowed: false }> {
  return { allowed: false, code, reason };
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

function plural(word: string, xs: readonly unknown[]): string {
  return xs.length > 1 ? `${word}s` : word;
}

function list(xs: readonly string[]): string {
  const q = xs.map((x) => `'${x}'`);
  return q.length > 1 ? `${q.slice(0, -1).join(', ')} and ${q.at(-1)}` : q[0]!;
}
