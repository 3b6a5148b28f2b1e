import { randomBytes } from 'node:crypto';
import { ErrorCode, FerryError } from '../errors.ts';
import { validateName } from '../util/names.ts';
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

export const MIGRATION_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function newMigrationId(now = new Date()): string {
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `m-${ts}-${randomBytes(3).toString('hex')}`;
}

/** Checks every name a request carries before any host is contacted. Returns the request. */
export function validateRequest<T extends MigrationRequest>(req: T): T {
  validateName('container', req.container);
  validateName('host', req.from);
  validateName('host', req.to);
  if (req.from === req.to) throw new FerryError(ErrorCode.UsageError, `source and target are both ${req.from}: nothing to move`);
  if (!MIGRATION_ID.test(req.id)) throw new FerryError(ErrorCode.UsageError, `invalid migration id '${req.id}'`);
  return req;
}
