/** The policy's shapes, apart from its decisions (policy.ts) and its loading (policy-load.ts), which both use them. */

/** Rules for one environment. Entries are Slack user IDs (`U…`, `W…`), user-group IDs (`S…`) or `group:<name>`. */
export interface EnvironmentRules {
  /** Who may ask for a migration that touches this environment (as source or target). */
  readonly requesters: readonly string[];
  /** Who may approve one. A requester never approves their own request, even when listed here. */
  readonly approvers: readonly string[];
  /**
   * Who may see the environment's hosts and migrations (`/migrate hosts`, `list`, `status`).
   * @defaultValue the requesters and the approvers
   */
  readonly viewers: readonly string[];
}

/** The policy file as written (JSON). */
export interface PolicyFile {
  /** Environment name (as in the hosts file: local, qemu, aws, gcp, …) to its rules. Environments not listed are closed. */
  environments: Record<string, { requesters: string[]; approvers: string[]; viewers?: string[] }>;
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
export type DenyCode = 'no-environment' | 'unknown-environment' | 'not-requester' | 'not-approver' | 'not-viewer' | 'self-approval' | 'expired' | 'invalid-request';

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
