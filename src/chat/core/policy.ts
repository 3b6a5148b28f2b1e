/**
 * Who may ask for a migration and who may approve it, per environment. Pure decisions: the adapter
 * resolves the Slack user and their groups, the policy says yes or no and why.
 */

export { loadPolicy, PRINCIPAL_PATTERN } from './policy-load.ts';
export { auditEvent, type AuditAction, type AuditEvent, type AuditInput, type AuditOutcome } from './audit.ts';

/** Rules for one environment. Entries are Slack user IDs (`U…`, `W…`), user-group IDs (`S…`) or `group:<name>`. */
export interface EnvironmentRules {
  /** Who may ask for a migration that touches this environment (as source or target). */
  readonly requesters: readonly string[];
  /** Who may approve one. A requester never approves their own request, even when listed here. */
  readonly approvers: readonly string[];
}

/** The policy file as written (JSON). */
export interface PolicyFile {
  /** Environment name (as in the hosts file: local, qemu, aws, gcp, …) to its rules. Environments not listed are closed. */
  environments: Record<string, { requesters: string[]; approvers: string[] }>;
  /**
   * Host name to environment, overriding the environment the inventory gives the host.
   * @defaultValue `{}`: every host belongs to its inventory environment
   */
  hostEnvironments?: Record<string, string>;
  /**
   * Minutes an approval request stays open; after that Approve is refused and the requester asks again.
   * Between 0 (exclusive) and 1440.
   * @defaultValue 15
   */
  approvalTtlMinutes?: number;
}

/** A validated policy: defaults applied, frozen. Built by {@link loadPolicy}. */
export interface Policy {
  readonly environments: Readonly<Record<string, EnvironmentRules>>;
  readonly hostEnvironments: Readonly<Record<string, string>>;
  readonly approvalTtlMinutes: number;
}

/** A chat user as the adapter resolved them. */
export interface ChatUser {
  /** Slack user ID (`U…`/`W…`). */
  id: string;
  /**
   * Groups the user belongs to, in the policy's notation: user-group IDs (`S…`) and/or `group:<name>`.
   * Matched exactly; the adapter resolves them (Slack `usergroups.users.list`, or its own config).
   */
  groups: readonly string[];
}

/** Why a decision went against the user: stable, for callers and audit logs to switch on. */
export type DenyCode = 'no-environment' | 'unknown-environment' | 'not-requester' | 'not-approver' | 'self-approval' | 'expired' | 'invalid-request';

export type Decision = { allowed: true } | { allowed: false; code: DenyCode; reason: string };

/** What canApprove needs to know about the pending request. */
export interface PendingRequest {
  /** Slack user ID of whoever asked. */
  requesterId: string;
  /** Environments the migration touches: both hosts' ({@link migrationEnvironments}). */
  envs: readonly string[];
  /** When it was asked: a Date, an ISO string or epoch milliseconds (what survives a trip through Redis). */
  createdAt: Date | string | number;
}

/** A host as the inventory describes it (HostSpec fits). */
export interface HostRef {
  name: string;
  environment: string;
}

const ALLOWED: Decision = Object.freeze({ allowed: true });

/** The environment a host belongs to: the policy's override, else `defaultEnv` (the inventory's). */
export function environmentOf(policy: Policy, host: string, defaultEnv: string): string {
  return Object.hasOwn(policy.hostEnvironments, host) ? policy.hostEnvironments[host]! : defaultEnv;
}

/** The environments a migration touches, source's first, without duplicates. */
export function migrationEnvironments(policy: Policy, from: HostRef, to: HostRef): string[] {
  return unique([environmentOf(policy, from.name, from.environment), environmentOf(policy, to.name, to.environment)]);
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

function allowedIn(policy: Policy, user: ChatUser, envs: readonly string[], role: 'requesters' | 'approvers'): Decision {
  const wanted = unique(envs);
  if (wanted.length === 0) return deny('no-environment', 'no environment given for this migration: Ferry cannot decide who may run it');
  const unknown = wanted.filter((e) => !Object.hasOwn(policy.environments, e));
  if (unknown.length) {
    return deny('unknown-environment', `${plural('environment', unknown)} ${list(unknown)} ${unknown.length > 1 ? 'are' : 'is'} not in the Ferry policy, so nobody may migrate containers there`);
  }
  const missing = wanted.filter((e) => !policy.environments[e]![role].some((p) => matches(p, user)));
  if (missing.length === 0) return ALLOWED;
  const verb = role === 'requesters' ? 'request' : 'approve';
  const where = missing.map((e) => `environments.${e}.${role}`).join(' and ');
  return deny(
    role === 'requesters' ? 'not-requester' : 'not-approver',
    `you may not ${verb} migrations in ${plural('environment', missing)} ${list(missing)}: only people and groups listed in ${where} of the Ferry policy may`,
  );
}

/** A policy entry matches the user's own ID or one of their groups. */
function matches(principal: string, user: ChatUser): boolean {
  return principal === user.id || user.groups.includes(principal);
}

function deny(code: DenyCode, reason: string): Decision {
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
