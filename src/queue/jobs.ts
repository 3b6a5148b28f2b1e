import type { MigrationEvent } from '../migrate/events.ts';
import type { MethodRequest } from '../migrate/methods.ts';
import type { MigrationReport } from '../migrate/report.ts';

export const QUEUE_NAME = 'migrations';

/** Where the job's chat messages live, so any bot replica can update them. */
export interface ChatThread {
  channel: string;
  /** The approval message, which becomes the live status. */
  statusTs?: string;
}

export interface MigrationJobData {
  id: string;
  container: string;
  from: string;
  to: string;
  method: MethodRequest;
  dryRun: boolean;
  requestedBy: string;
  approvedBy: string;
  requestedAt: string;
  thread?: ChatThread;
}

/** Progress as the queue carries it: the engine's events, plus the worker's own steps. */
export type JobProgress =
  | { seq: number; event: MigrationEvent }
  | { seq: number; step: 'provision' | 'migrate' | 'report'; state: 'start' | 'end'; detail?: string };

export interface DryRunResult {
  dryRun: true;
  method: string;
  reason: string;
  plan: string;
  provisionCheck: Record<string, { changed: number; failed: number }>;
  blockers: string[];
}

export type JobResult = { dryRun: false; report: MigrationReport } | DryRunResult;

/** Redis keys besides BullMQ's own. */
export const keys = {
  /** Holds the id of the one active migration of a container. */
  active: (container: string) => `ferry:active:${container}`,
  /** Set when a worker has started a job: a second start (a stalled job) must not migrate again. */
  started: (id: string) => `ferry:started:${id}`,
  cancel: (id: string) => `ferry:cancel:${id}`,
  /** Set by the worker at the freeze: from then on a cancel is refused. */
  frozen: (id: string) => `ferry:frozen:${id}`,
  approval: (id: string) => `ferry:approval:${id}`,
};
