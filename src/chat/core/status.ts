import type { Phase } from '../../migrate/clock.ts';
import type { MigrationEvent } from '../../migrate/events.ts';
import type { MethodRequest } from '../../migrate/methods.ts';
import type { MigrationReport } from '../../migrate/report.ts';

export type MigrationStatus = 'queued' | 'running' | 'done' | 'failed' | 'rolled-back' | 'cancelled';

export interface FinishedPhase {
  phase: Phase;
  seconds: number;
  detail?: string;
}

/**
 * Everything the live status message shows, as plain JSON: the worker can keep one, fold engine events
 * into it with {@link applyEvent}, and publish it as job progress; the bot renders it with statusMessage.
 */
export interface StatusView {
  id: string;
  container: string;
  from: string;
  to: string;
  status: MigrationStatus;
  /** The requested method until the engine picks one (`method` event), then the method in use. */
  method: MethodRequest;
  /** Why the engine picked `method`. */
  methodReason?: string;
  requesterId?: string;
  approverId?: string;
  dryRun?: boolean;
  /** Position in the queue (status queued), 1 = next. */
  position?: number;
  /** The phase under way (status running). */
  phase?: Phase;
  phaseDetail?: string;
  /** Phases that ended, in order; repeated phases (pre-copy rounds) appear once per run. */
  finished: FinishedPhase[];
  /** Pre-copy rounds done so far. */
  rounds?: number;
  /** The container has been frozen: downtime has started. */
  frozen?: boolean;
  /** Set once the engine rolls back. */
  rollbackReason?: string;
  /** The latest `info` event. */
  note?: string;
  /** Where the container runs at the end (done, failed, rolled-back, cancelled); absent = unknown. */
  runsOn?: string;
  error?: string;
  /** Who cancelled (status cancelled). */
  cancelledBy?: string;
  totalSeconds?: number;
  downtimeSeconds?: number;
}

/** A freshly queued migration. */
export function queuedStatus(job: { id: string; container: string; from: string; to: string; method: MethodRequest; requesterId?: string; approverId?: string; dryRun?: boolean }): StatusView {
  return { ...job, status: 'queued', finished: [] };
}

/** Folds one engine event into the view (a new object; the input is not changed). */
export function applyEvent(s: StatusView, e: MigrationEvent): StatusView {
  const running: StatusView = s.status === 'queued' ? { ...s, status: 'running', position: undefined } : { ...s };
  switch (e.type) {
    case 'method':
      return { ...running, method: e.method, methodReason: e.reason };
    case 'phase-start':
      return { ...running, phase: e.phase, phaseDetail: e.detail };
    case 'phase-end': {
      const done: FinishedPhase = e.detail === undefined ? { phase: e.phase, seconds: e.seconds } : { phase: e.phase, seconds: e.seconds, detail: e.detail };
      const current = running.phase === e.phase;
      return { ...running, finished: [...s.finished, done], phase: current ? undefined : running.phase, phaseDetail: current ? undefined : running.phaseDetail };
    }
    case 'round':
      return { ...running, rounds: e.round };
    case 'info':
      return { ...running, note: e.message };
    case 'frozen':
      return { ...running, frozen: true };
    case 'rollback':
      return { ...running, rollbackReason: e.reason };
  }
}

/** The view once the engine returned its report. */
export function reportStatus(s: StatusView, r: MigrationReport): StatusView {
  return {
    ...s,
    status: r.outcome === 'migrated' ? 'done' : 'rolled-back',
    method: r.method,
    methodReason: r.reason,
    phase: undefined,
    phaseDetail: undefined,
    runsOn: r.runsOn,
    error: r.error,
    totalSeconds: r.times.total ?? undefined,
    downtimeSeconds: r.times.downtime ?? undefined,
  };
}
