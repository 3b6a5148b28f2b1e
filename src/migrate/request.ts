import { randomBytes } from 'node:crypto';
import { ErrorCode, FerryError } from '../errors.ts';
import { validateName, validateTarget } from '../util/names.ts';
import type { MethodRequest } from './methods/registry.ts';

/**
 * One migration as asked for: the same shape from the chat command to the queue to the engine
 * (chat adds its thread, the queue nothing, the engine reads it as is).
 */
export interface MigrationRequest {
  /** `m-<UTC timestamp>-<6 hex>`: the queue job's id, the images directory's name. */
  id: string;
  container: string;
  from: string;
  /**
   * The target host. As asked for (chat, the CLI, the queue's signed job) it may be `group:NAME`,
   * a group of the inventory: the use case (app/resolve-target.ts) puts the member it picks here
   * when the migration runs, so the engine only ever sees a host.
   */
  to: string;
  method: MethodRequest;
  /** Say what would happen; change nothing. @defaultValue false */
  dryRun?: boolean;
  /** Who asked (a chat user id, or `cli:<user>`). */
  requestedBy?: string;
  /** Who approved (chat's second person). */
  approvedBy?: string;
  /** ISO time of the request. */
  requestedAt?: string;
}

/**
 * What one migration moves, as chat and the queue carry it: a container, or a group (every member
 * running on the source, moved as one by MigrationEngine.migrateGroup). Exactly one name is set.
 */
export type MigrationSubject = { container: string; group?: undefined } | { group: string; container?: undefined };

/** A subject in words: `web1`, or `group blog`. `fmt` formats the name alone (bold, escaped). */
export function subjectText(s: MigrationSubject, fmt: (name: string) => string = (n) => n): string {
  return s.group !== undefined ? `group ${fmt(s.group)}` : fmt(s.container);
}

/** Just the subject of anything that carries one (a command, a job, an approval): its name field alone. */
export function subjectFields(s: MigrationSubject): MigrationSubject {
  return s.group !== undefined ? { group: s.group } : { container: s.container };
}

/**
 * The subject of data read back from a store (Redis), checked: exactly one of `container` and
 * `group`, each a valid name. Returns it without the other fields.
 */
export function subjectOf(data: { container?: unknown; group?: unknown }): MigrationSubject {
  const { container, group } = data;
  if (group !== undefined && container !== undefined) throw new FerryError(ErrorCode.UsageError, 'a migration names a container or a group, not both');
  if (group !== undefined) return { group: validateName('group', String(group)) };
  if (container !== undefined) return { container: validateName('container', String(container)) };
  throw new FerryError(ErrorCode.UsageError, 'a migration names neither a container nor a group');
}

export const MIGRATION_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function newMigrationId(now = new Date()): string {
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `m-${ts}-${randomBytes(3).toString('hex')}`;
}

/**
 * Checks every name a request carries before any host is contacted. Returns the request.
 * `groupTarget`: the target may be `group:NAME` (a request as asked for, before its target is
 * picked); the engine never passes it, so a group reaching the engine is refused.
 */
export function validateRequest<T extends MigrationRequest>(req: T, opts: { groupTarget?: boolean } = {}): T {
  validateName('container', req.container);
  validateName('host', req.from);
  if (opts.groupTarget) validateTarget(req.to);
  else validateName('host', req.to);
  if (req.from === req.to) throw new FerryError(ErrorCode.UsageError, `source and target are both ${req.from}: nothing to move`);
  if (!MIGRATION_ID.test(req.id)) throw new FerryError(ErrorCode.UsageError, `invalid migration id '${req.id}'`);
  return req;
}
