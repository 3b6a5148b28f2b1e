import type { Decision } from './policy-types.ts';

/**
 * What the actor did. `deny` is Ferry refusing something on its own account (a command from a user
 * it cannot resolve, an approval request that expired unanswered); a refused request or approval is
 * `request`/`approve` with outcome `denied`.
 */
export type AuditAction = 'request' | 'approve' | 'reject' | 'cancel' | 'deny';
export type AuditOutcome = 'ok' | 'denied' | 'error';

/** Who did what to which migration. */
interface AuditSubject {
  /** Slack user ID of who acted (or 'ferry'). */
  actor: string;
  action: AuditAction;
  migrationId?: string;
  container?: string;
  /** A group's migration names the group instead of a container. */
  group?: string;
  from?: string;
  to?: string;
}

/** One line of the audit log: a plain, JSON-ready object. Absent fields are left out, not undefined. */
export interface AuditEvent extends AuditSubject {
  /** ISO 8601 time. */
  at: string;
  outcome: AuditOutcome;
  reason?: string;
  /** The policy's DenyCode when a decision denied the action. */
  code?: string;
}

/** Either an explicit outcome, or the policy decision it follows from (allowed → ok, denied → denied with its reason). */
export type AuditInput = AuditSubject & ({ outcome: AuditOutcome; reason?: string; decision?: never } | { decision: Decision; outcome?: never; reason?: never });

/** Builds an audit event at `now` (injected: pure). */
export function auditEvent(input: AuditInput, now: Date): AuditEvent {
  const { decision, outcome, reason, ...subject } = input;
  const result: { outcome: AuditOutcome; reason?: string; code?: string } = decision
    ? decision.allowed
      ? { outcome: 'ok' }
      : { outcome: 'denied', reason: decision.reason, code: decision.code }
    : { outcome: outcome!, reason };
  const event: AuditEvent = { at: now.toISOString(), actor: subject.actor, action: subject.action, ...defined({ migrationId: subject.migrationId, container: subject.container, group: subject.group, from: subject.from, to: subject.to }), outcome: result.outcome, ...defined({ reason: result.reason, code: result.code }) };
  return event;
}

function defined<T extends Record<string, string | undefined>>(o: T): Partial<Record<keyof T, string>> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<Record<keyof T, string>>;
}
