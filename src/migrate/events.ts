import { EventEmitter } from 'node:events';
import type { Phase } from './clock.ts';

/** What the engine tells the outside world while it works: chat and queue render these, knowing nothing of CRIU. */
export type MigrationEvent =
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
