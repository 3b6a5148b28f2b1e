import { EventEmitter } from 'node:events';
import type { Phase } from './clock.ts';

/** What the engine tells the outside world while it works: chat and queue render these, knowing nothing of CRIU. */
export type MigrationEvent =
  /** The member of a `group:NAME` target picked to take the container, and why (the use case's, before the engine starts). */
  | { type: 'target'; group: string; host: string; reason: string }
  | { type: 'method'; method: string; reason: string }
  | { type: 'phase-start'; phase: Phase; detail?: string }
  | { type: 'phase-end'; phase: Phase; seconds: number; detail?: string }
  | { type: 'round'; round: number; pagesWritten: number; pagesSkipped: number; seconds: number }
  | { type: 'info'; message: string }
  | { type: 'frozen' }
  | { type: 'rollback'; reason: string };

export class MigrationEvents extends EventEmitter<{ event: [MigrationEvent] }> {
  emitEvent(e: MigrationEvent): void {
    this.emit('event', e);
  }
}
