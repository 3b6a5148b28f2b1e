import { hostname } from 'node:os';
import { ErrorCode, FerryError, errorMessage } from '../../errors.ts';
import { logger } from '../../log.ts';
import type { JournalStore } from './stores.ts';
import type { JournalOutcome, JournalPhase, JournalRecord } from './record.ts';

/** Who runs a migration: this host and process. */
export function ownerId(): string {
  return `${hostname()}:${process.pid}`;
}

/** True when the owner is a process on this machine that no longer exists. */
export function ownerIsDeadHere(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== hostname() || !/^\d+$/.test(pid ?? '')) return false;
  if (Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** How often the owner says it is alive, and how long without a word makes its record orphaned. */
export const HEARTBEAT_S = 5;
export const LEASE_S = 30;

/**
 * Writes one migration's journal record to every store, before each step that changes a host.
 * Before the freeze every store must take the write (else the step does not happen: nothing is
 * lost yet). After the freeze the migration must go on to its end or its rollback, so a store that
 * fails is logged and the others carry the record.
 */
export class Journal {
  private rec: JournalRecord;
  private timer?: NodeJS.Timeout;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly stores: JournalStore[],
    /** Stores that are cheap to write every few seconds (Redis, a local file), for the heartbeat. */
    private readonly heartbeatStores: JournalStore[],
    first: Omit<JournalRecord, 'version' | 'seq' | 'owner' | 'heartbeatAt' | 'startedAt' | 'updatedAt'>,
  ) {
    const now = new Date().toISOString();
    this.rec = { version: 1, seq: 0, owner: ownerId(), heartbeatAt: now, startedAt: now, updatedAt: now, ...first };
  }

  /** Takes over an orphaned record (recovery): this process becomes its owner. */
  static resume(stores: JournalStore[], heartbeatStores: JournalStore[], rec: JournalRecord): Journal {
    const j = new Journal(stores, heartbeatStores, rec);
    j.rec = { ...rec, owner: ownerId(), heartbeatAt: new Date().toISOString() };
    return j;
  }

  get record(): JournalRecord {
    return this.rec;
  }

  /** Records that the migration is about to enter `phase` (and any other change). */
  async advance(phase: JournalPhase, patch: Partial<JournalRecord> = {}, opts: { strict: boolean } = { strict: false }): Promise<void> {
    await this.write({ ...patch, phase }, opts.strict);
  }

  async patch(patch: Partial<JournalRecord>, opts: { strict: boolean } = { strict: false }): Promise<void> {
    await this.write(patch, opts.strict);
  }

  private async write(patch: Partial<JournalRecord>, strict: boolean, stores = this.stores): Promise<void> {
    const now = new Date().toISOString();
    this.rec = { ...this.rec, ...patch, seq: this.rec.seq + 1, updatedAt: now, heartbeatAt: now };
    const rec = this.rec;
    // Writes go out in order: a slow heartbeat must never land after a newer phase.
    const done = this.writing.then(() => Promise.allSettled(stores.map((s) => s.put(rec))));
    this.writing = done;
    const results = await done;
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${stores[i]!.name}: ${errorMessage(r.reason)}`] : []));
    if (failed.length === 0) return;
    logger().warn({ migration: rec.id, phase: rec.phase, failed }, 'journal write failed');
    if (strict || failed.length === stores.length) {
      throw new FerryError(ErrorCode.MigrationFailed, `could not record migration ${rec.id} (${rec.phase}) in its journal: ${failed.join('; ')}`, { details: { failed } });
    }
  }

  /** Starts saying "alive" every few seconds to the cheap stores. */
  startHeartbeat(): void {
    this.timer = setInterval(() => {
      void this.write({}, false, this.heartbeatStores).catch(() => undefined);
    }, HEARTBEAT_S * 1000);
    this.timer.unref();
  }

  /**
   * The migration ended: the outcome is kept where history is kept (Redis, the controller's
   * directory), the host's copy is removed (an open record there means "unfinished"), and the
   * heartbeat stops.
   */
  async finish(outcome: JournalOutcome, runsOn: string | null, error?: string): Promise<void> {
    clearInterval(this.timer);
    if (this.heartbeatStores.length) await this.write({ outcome, runsOn: runsOn ?? undefined, error }, false, this.heartbeatStores).catch(() => undefined);
    const history = new Set(this.heartbeatStores);
    await Promise.allSettled(this.stores.filter((s) => !history.has(s)).map((s) => s.remove(this.rec.id)));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
