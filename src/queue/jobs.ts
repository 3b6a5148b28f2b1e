import type { GroupRequestResult, RequestResult } from '../app/execute.ts';
import type { HookOutput } from '../app/hooks.ts';
import type { StepEvent } from '../app/migrate.ts';
import type { MigrationEvent } from '../migrate/events.ts';
import type { MigrationRequest, MigrationSubject } from '../migrate/request.ts';
import type { JobSignature } from './job-signature.ts';

export type { DryRunResult } from '../app/plan.ts';

export const QUEUE_NAME = 'migrations';

/** Where the job's chat messages live, so any bot replica can update them. */
export interface ChatThread {
  channel: string;
  /** The approval message, which becomes the live status. */
  statusTs?: string;
}

/** What every queued migration carries besides its subject. */
export interface JobFields extends Omit<MigrationRequest, 'container'> {
  dryRun: boolean;
  requestedBy: string;
  requestedAt: string;
  thread?: ChatThread;
  /** The policy environments the migration touches (both hosts'), as decided at request time: who may see it. */
  envs?: string[];
  /** The bot's HMAC over everything else (job-signature.ts); the worker refuses a job without a valid one. */
  signature?: JobSignature;
}

/**
 * A queued migration: the request itself, plus where chat shows it. It moves a container (the
 * request as the engine reads it), or a group (`group` set, `container` absent: the worker finds the
 * members on the source and moves them as one). The signature covers whichever is set.
 */
export type MigrationJobData = ContainerJobData | GroupJobData;
export type ContainerJobData = JobFields & Extract<MigrationSubject, { container: string }>;
export type GroupJobData = JobFields & Extract<MigrationSubject, { group: string }>;

/**
 * Progress as the queue carries it: the engine's events (of which member, for a group), the use
 * case's own steps, and batches of the hooks' output.
 */
export type JobProgress = { seq: number; event: MigrationEvent; member?: string } | ({ seq: number } & StepEvent) | ({ seq: number } & HookOutput);

/** A container's report or dry run, or a group's report (a group has no dry run). */
export type JobResult = RequestResult | GroupRequestResult;

/** Redis keys besides BullMQ's own. */
export const keys = {
  /** Holds the id of the one active migration of a container (a group's job claims each member too, while it runs). */
  active: (container: string) => `ferry:active:${container}`,
  /** Holds the id of the one active migration of a group. */
  activeGroup: (group: string) => `ferry:active-group:${group}`,
  /** Set when a worker has started a job: a second start (a stalled job) must not migrate again. */
  started: (id: string) => `ferry:started:${id}`,
  cancel: (id: string) => `ferry:cancel:${id}`,
  /** Set by the worker at the freeze: from then on a cancel is refused. */
  frozen: (id: string) => `ferry:frozen:${id}`,
  approval: (id: string) => `ferry:approval:${id}`,
  /** Sorted set of open approval requests, scored by when they expire (epoch ms): the expiry sweep reads it. */
  approvals: 'ferry:approvals',
  /** Token buckets of the per-person rate limit on read commands. */
  readRate: 'ferry:rate:read',
  /** The response-time plot of a migration (PNG, base64), for the chat to upload beside the summary. */
  plot: (id: string) => `ferry:plot:${id}`,
};

/** The claim a job holds while it is queued and runs: its container's, or its group's. */
export function claimKey(subject: MigrationSubject): string {
  return subject.group !== undefined ? keys.activeGroup(subject.group) : keys.active(subject.container);
}
