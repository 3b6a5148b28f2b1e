import type { Phase } from '../../migrate/clock.ts';
import type { MigrationEvent } from '../../migrate/events.ts';
import type { MethodRequest } from '../../migrate/methods.ts';
import type { GroupReport, MigrationReport } from '../../migrate/report.ts';
import type { MigrationSubject } from '../../migrate/request.ts';

export type MigrationStatus = 'queued' | 'running' | 'done' | 'failed' | 'rolled-back' | 'cancelled';

export interface FinishedPhase {
  phase: Phase;
  seconds: number;
  detail?: string;
  /** The group member whose phase it was (a group's migration). */
  member?: string;
}

/**
 * Everything the live status message shows, as plain JSON: the worker can keep one, fold engine events
 * into it with {@link applyEvent}, and publish it as job progress; the bot renders it with statusMessage.
 * It shows a container's migration, or a group's (`group` set).
 */
export type StatusView = StatusFields & MigrationSubject;

export interface StatusFields {
  id: string;
  from: string;
  /** The target as asked for (`lab-2`, or `group:cloud-b`) until a group's member is picked (`target` event), then that host. */
  to: string;
  /** The group `to` was picked from, once it was. */
  targetGroup?: string;
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
  /** Where each member of a group runs at the end, when they do not all run on one host. */
  membersOn?: { container: string; runsOn: string }[];
  error?: string;
  /** Who cancelled (status cancelled). */
  cancelledBy?: string;
  totalSeconds?: number;
  downtimeSeconds?: number;
}

/** A freshly queued migration. */
export function queuedStatus(job: { id: string; from: string; to: string; method: MethodRequest; requesterId?: string; approverId?: string; dryRun?: boolean } & MigrationSubject): StatusView {
  return { ...job, status: 'queued', finished: [] };
}

/** Folds one engine event into the view (a new object; the input is not changed). */
export function applyEvent(s: StatusView, e: MigrationEvent): StatusView {
  return fold(s, e);
}

/** {@link applyEvent} for an event of one member of a group: its finished phases are kept as the member's. */
export function applyMemberEvent(s: StatusView, e: MigrationEvent, member: string): StatusView {
  return fold(s, e, member);
}

function fold(s: StatusView, e: MigrationEvent, member?: string): StatusView {
  const running: StatusView = s.status === 'queued' ? { ...s, status: 'running', position: undefined } : { ...s };
  switch (e.type) {
    case 'target':
      return { ...running, to: e.host, targetGroup: e.group };
    case 'method':
      return { ...running, method: e.method, methodReason: e.reason };
    case 'phase-start':
      return { ...running, phase: e.phase, phaseDetail: e.detail };
    case 'phase-end': {
      const done: FinishedPhase = { phase: e.phase, seconds: e.seconds, ...(e.detail === undefined ? {} : { detail: e.detail }), ...(member === undefined ? {} : { member }) };
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
    // The report names the host a group target's pick landed on, even when its event was missed.
    to: r.to,
    ...(r.groupTarget ? { targetGroup: r.groupTarget.group } : {}),
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

/** The view once a group's migration returned its report: where its members run, the group's own window. */
export function groupReportStatus(s: StatusView, g: GroupReport): StatusView {
  const hosts = [...new Set(g.members.map((m) => m.runsOn))];
  const first = g.members[0];
  return {
    ...s,
    status: g.outcome === 'migrated' ? 'done' : 'rolled-back',
    ...(first ? { method: first.method, methodReason: first.reason } : {}),
    phase: undefined,
    phaseDetail: undefined,
    runsOn: hosts.length === 1 ? hosts[0] : undefined,
    membersOn: hosts.length > 1 ? g.members.map((m) => ({ container: m.container, runsOn: m.runsOn })) : undefined,
    error: g.error,
    totalSeconds: g.times.total,
    downtimeSeconds: g.times.downtime ?? undefined,
  };
}
