import type { JobState } from '../../hosts/job-state.ts';

/**
 * The journal of one migration: what it has done to which host, written before each step that
 * changes a host, so that whoever comes after a crash (`ferry recover`, a worker starting) can
 * finish or undo it. It is advice, not truth: the reconciler always looks at the hosts, and the
 * journal tells it where to look and how far the migration had come.
 */

/** How far a migration has come, in order. Each is written before the step it names starts. */
export const JOURNAL_PHASES = [
  /** Directories, the link key, page servers, a presync of the bundle to the target. */
  'preparing',
  /** Pre-dump rounds while the container runs on the source. */
  'precopy',
  /** Client traffic moved off the source (HAProxy to the hold server or drained). */
  'diverting',
  /** The final dump started: from here the container may be frozen, dumped or gone from the source. */
  'freezing',
  /** The dump succeeded: a complete image set exists (on the source, pages possibly on the target). */
  'dumped',
  /** `runc restore` started on the target. */
  'restoring',
  /** The target passed its health check. */
  'healthy',
  /** Traffic points at the target: the point of no return (finish, never roll back). */
  'switched',
  /** The source is being cleaned; the move is complete. */
  'cleaning',
] as const;

export type JournalPhase = (typeof JOURNAL_PHASES)[number];
export type JournalOutcome = 'migrated' | 'rolled-back' | 'failed';

export interface JournalRecord {
  version: 1;
  id: string;
  container: string;
  from: string;
  to: string;
  method: string;
  /** What the reconciler must know of the method without its registry. */
  traits: { pageServer: boolean; lazy: boolean; preCopy: boolean };
  /** Increases with every write; the highest copy wins when stores disagree. */
  seq: number;
  phase: JournalPhase;
  /** The process running the migration (`host:pid`), and when it last said it was alive. */
  owner: string;
  heartbeatAt: string;
  startedAt: string;
  updatedAt: string;
  /**
   * The group this container moves with, and every member's migration id (recovery treats them as
   * one); `job`: the queue job that moves the group and holds its claims (recovery gives them back).
   */
  group?: { name: string; ids: string[]; job?: string };
  /** Where HAProxy fronts the container, if it does, and what it was told. */
  traffic?: { front: string; port: number; state: 'normal' | 'diverted' | 'switched' };
  /** Set once the migration ended (then the record is only kept for `ferry recover --list`). */
  outcome?: JournalOutcome;
  runsOn?: string;
  error?: string;
}

/** A record is orphaned when its owner stopped saying it is alive (or is known dead). */
export function isOrphaned(r: JournalRecord, now: Date, opts: { leaseS: number; ownerDead?: boolean }): boolean {
  if (r.outcome) return false;
  if (opts.ownerDead) return true;
  return now.getTime() - Date.parse(r.heartbeatAt) > opts.leaseS * 1000;
}

export function phaseIndex(p: JournalPhase): number {
  return JOURNAL_PHASES.indexOf(p);
}

export function atLeast(r: JournalRecord, p: JournalPhase): boolean {
  return phaseIndex(r.phase) >= phaseIndex(p);
}

/** What the reconciler saw on the hosts. `unknown` means the host could not be reached. */
export type ContainerState = 'running' | 'paused' | 'frozen' | 'stopped' | 'absent' | 'unknown';

export interface Observed {
  source: ContainerState;
  target: ContainerState;
  /** The target's copy answers its health check (null: not asked, it does not run). */
  targetHealthy: boolean | null;
  /** The final dump on the source. */
  dump: JobState;
  /**
   * The restore job on the target (it runs on the host whatever happens to the controller's SSH):
   * while it runs, a copy may appear there at any moment. @defaultValue not running
   */
  restore?: JobState;
  /**
   * Lazy: the source's dump log says every page was served. CRIU has then killed the source's
   * tasks, held frozen by their cgroup until thawed: the target has the only whole copy.
   * @defaultValue false
   */
  lazyServed?: boolean;
}

export type Decision =
  /** Wait for the dump job to end, then look again (a dump ends on its own within its timeout). */
  | { action: 'wait-dump'; why: string }
  /**
   * Wait for the target's restore job to end, then look again: undoing the move while it runs
   * could bring the source's copy back just before the target's appears. (Lazy: the source's page
   * server still serves it meanwhile, so it can end.)
   */
  | { action: 'wait-restore'; why: string }
  /** Lazy: every page was served and the source's tasks were killed, frozen: thaw them so they die and the dump ends, then look again. */
  | { action: 'thaw-served-source'; why: string }
  /** Lazy: the source's CRIU still serves pages while the move is not complete: end it (the tasks run on from the freeze), then look again. */
  | { action: 'release-lazy-dump'; why: string }
  /**
   * Lazy, before releasing the source: the target's copy runs, so freeze it first (runc pause)
   * — releasing the source while it runs would make two running copies; removing it first would
   * disconnect the lazy page server, which CRIU takes for success and kills the source's tasks.
   */
  | { action: 'pause-target'; why: string }
  /** The target runs and is healthy: point traffic at it, wait for lazy pages, clean the source. */
  | { action: 'finish'; why: string }
  /** The source still has the container (running, or paused by a dump that failed): remove the target's copy, traffic back, clean up. */
  | { action: 'rollback-keep-source'; why: string; resume: boolean }
  /** The source's container is gone but the dump is complete: remove the target's copy, restore on the source from the images. */
  | { action: 'rollback-restore-source'; why: string }
  /** The target has the only copy and the images cannot bring it back on the source: keep it, say so loudly. */
  | { action: 'keep-target'; why: string }
  /** A host cannot be reached: nothing can be decided safely now; try again later. */
  | { action: 'retry-later'; why: string }
  /** Nothing runs anywhere and nothing can restore it (should never happen: the images are kept). */
  | { action: 'lost'; why: string };

/**
 * The one rule book for rollback and recovery (pure). `mode: 'rollback'`: the migration's own
 * process hit an error and undoes the move unless it is past the point of no return.
 * `mode: 'recover'`: a dead process's migration is finished when the target copy is healthy,
 * undone otherwise.
 */
export function decide(r: JournalRecord, o: Observed, mode: 'rollback' | 'recover'): Decision {
  if (o.source === 'unknown' && o.target === 'unknown') return { action: 'retry-later', why: `neither ${r.from} nor ${r.to} can be reached` };
  if (o.dump.state === 'unknown') return { action: 'retry-later', why: `the state of the dump on ${r.from} cannot be read` };
  if (o.restore?.state === 'running' && o.target !== 'running') {
    return { action: 'wait-restore', why: `the restore of ${r.container} on ${r.to} is still under way` };
  }
  const healthyTarget = o.target === 'running' && o.targetHealthy === true;
  // Past the point of no return, or (after a crash) already healthy on the target: finish.
  if (healthyTarget && (atLeast(r, 'switched') || mode === 'recover')) {
    return { action: 'finish', why: atLeast(r, 'switched') ? `traffic already points at ${r.to}, where ${r.container} is healthy` : `${r.container} is restored and healthy on ${r.to}` };
  }
  if (atLeast(r, 'switched') && o.target === 'unknown') return { action: 'retry-later', why: `traffic points at ${r.to}, which cannot be reached` };
  // Every page went to the target and CRIU killed the source's tasks (frozen, they have not died
  // yet): the source cannot be brought back whatever happens next; let them go.
  if (r.traits.lazy && o.lazyServed && (o.dump.state === 'running' || o.source === 'paused' || o.source === 'frozen')) {
    return { action: 'thaw-served-source', why: `the lazy dump on ${r.from} served every page to ${r.to} and killed the source's tasks: they are let go` };
  }
  if (o.dump.state === 'running') {
    if (r.traits.lazy) {
      if (o.target === 'unknown') return { action: 'retry-later', why: `the lazy dump on ${r.from} still holds ${r.container}, and ${r.to}, where a copy may run, cannot be reached: releasing the source now could make two running copies` };
      if (o.target === 'running' || o.target === 'frozen') return { action: 'pause-target', why: `${r.container}'s copy on ${r.to} runs while the lazy dump on ${r.from} still holds its memory: it is frozen first, so it never runs beside the source's` };
      return { action: 'release-lazy-dump', why: `the lazy dump on ${r.from} still holds ${r.container}'s memory: ending its CRIU lets the container run on from the freeze` };
    }
    return { action: 'wait-dump', why: `the dump of ${r.container} on ${r.from} is still running` };
  }
  if (o.source === 'unknown') return { action: 'retry-later', why: `${r.from} cannot be reached` };
  if (o.source === 'running' || o.source === 'paused' || o.source === 'frozen') {
    return { action: 'rollback-keep-source', resume: o.source !== 'running', why: `${r.container} is still on ${r.from} (${o.source})` };
  }
  // The container is gone from the source.
  if (o.dump.state === 'rc' && o.dump.rc === 0 && !r.traits.lazy) {
    return { action: 'rollback-restore-source', why: `the dump completed: ${r.container} is restored on ${r.from} from its images` };
  }
  if (o.target === 'running' || o.target === 'paused') {
    return { action: 'keep-target', why: `${r.container} runs only on ${r.to}${o.targetHealthy === false ? ' (failing its health check)' : ''} and cannot be brought back to ${r.from}` };
  }
  if (o.target === 'unknown') return { action: 'retry-later', why: `${r.container} is not on ${r.from}, and ${r.to} cannot be reached` };
  return { action: 'lost', why: `${r.container} runs on neither ${r.from} nor ${r.to}, and no complete image set can restore it (dump: ${describeJob(o.dump)})` };
}

export function describeJob(j: JobState): string {
  return j.state === 'rc' ? `exit ${j.rc}` : j.state;
}
