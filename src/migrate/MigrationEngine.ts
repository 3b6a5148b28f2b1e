import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import type { HostsFile } from '../hosts/inventory.ts';
import { PhaseClock } from './clock.ts';
import type { MigrationEvents } from './events.ts';
import type { JournalStore } from './journal/stores.ts';
import { methods as builtinMethods } from './methods/builtin.ts';
import type { MethodRegistry } from './methods/registry.ts';
import { Move } from './Move.ts';
import type { GroupReport, MigrationReport } from './report.ts';
import { validateRequest, type MigrationRequest } from './request.ts';
import type { TrafficHooks } from './traffic-hooks.ts';

export type { GroupReport } from './report.ts';

/** How one run of the engine reaches the world beyond the two hosts. */
export interface MigrateOptions {
  /** Cancels the migration up to the freeze; after it, the migration runs to its end or rolls back. */
  signal?: AbortSignal;
  /** Traffic switching around the freeze (HAProxy, hold server); none when absent. */
  traffic?: TrafficHooks;
  events?: MigrationEvents;
  /**
   * Where the journal is kept besides the source host: Redis for the worker, a directory on the
   * controller for the CLI. They also carry the heartbeat. @defaultValue none (the source host only)
   */
  journalStores?: JournalStore[];
}

export interface EngineOptions {
  /** The methods this engine knows. @defaultValue the built-in registry (methods/builtin.ts) */
  registry?: MethodRegistry;
}

export interface GroupOptions extends Omit<MigrateOptions, 'traffic' | 'events'> {
  /** Traffic hooks per member (the member HAProxy fronts). */
  traffic?: Record<string, TrafficHooks | undefined>;
  /** Events per member. */
  events?: Record<string, MigrationEvents>;
  /** The queue job moving the group, journaled with each member: recovery releases its claims. */
  job?: string;
}

/**
 * Moves one running container between two hosts over SSH, or a group of them as one (see
 * {@link Move} for the steps and their invariants).
 */
export class MigrationEngine {
  private readonly registry: MethodRegistry;

  constructor(
    private readonly hosts: HostsFile,
    private readonly config: FerryConfig,
    opts: EngineOptions = {},
  ) {
    this.registry = opts.registry ?? builtinMethods;
  }

  async migrate(req: MigrationRequest, opts: MigrateOptions = {}): Promise<MigrationReport> {
    validateRequest(req);
    const m = new Move(this.hosts, this.config, this.registry, req, opts);
    try {
      await m.preflight();
      try {
        await m.prepare();
        await m.beforeFreeze();
        await m.divert();
        await m.checkpoint();
        await m.transfer();
        await m.restore();
        await m.healthCheck();
        await m.switch();
      } catch (e) {
        return await m.fail(e);
      }
      return await m.finish();
    } finally {
      m.close();
    }
  }

  /**
   * Moves a group (WordPress and its database) as one, CloudHopper's way: every member prepared
   * and pre-copied while running, all frozen together (one downtime window), restored in the
   * given order (the database first), health-checked together, and undone together if any step
   * of any member fails before the switch.
   */
  async migrateGroup(group: string, reqs: MigrationRequest[], opts: GroupOptions = {}): Promise<GroupReport> {
    if (reqs.length === 0) throw new FerryError(ErrorCode.UsageError, `group ${group} has no members to move`);
    for (const r of reqs) validateRequest(r);
    const ids = reqs.map((r) => r.id);
    const moves = reqs.map(
      (r) => new Move(this.hosts, this.config, this.registry, r, { ...opts, traffic: opts.traffic?.[r.container], events: opts.events?.[r.container], group: { name: group, ids, ...(opts.job ? { job: opts.job } : {}) } }),
    );
    const clock = new PhaseClock();
    const stage = async (fn: (m: Move) => Promise<void>) => {
      const results = await Promise.allSettled(moves.map(fn));
      const failed = results.findIndex((x) => x.status === 'rejected');
      if (failed >= 0) throw new GroupStepFailed(moves[failed]!.name, (results[failed] as PromiseRejectedResult).reason);
    };
    try {
      await stage((m) => m.preflight()).catch((e: unknown) => {
        throw e instanceof GroupStepFailed ? e.cause : e;
      });
      try {
        await stage((m) => m.prepare());
        await stage((m) => m.beforeFreeze());
        await stage((m) => m.divert());
        clock.mark('freeze');
        await stage((m) => m.checkpoint());
        await stage((m) => m.transfer());
        // Dependency order: each member is running before the next one starts.
        for (const m of moves) await stage((x) => (x === m ? m.restore() : Promise.resolve()));
        await stage((m) => m.healthCheck());
        clock.mark('healthy');
        await stage((m) => m.switch());
      } catch (e) {
        const cause = e instanceof GroupStepFailed ? e : new GroupStepFailed(group, e);
        const why = `${cause.member}: ${errorMessage(cause.cause)}`;
        const members: MigrationReport[] = [];
        const unrecovered: string[] = [];
        // Undone together, in reverse dependency order, healthy copies on the target included;
        // one member's failed rollback never stops the others'.
        for (const m of [...moves].reverse()) {
          try {
            if (m.switched) members.unshift(await m.finish());
            else members.unshift(await m.fail(m.name === cause.member ? cause.cause : new FerryError(ErrorCode.RolledBack, `group ${group} rolled back: ${why}`)));
          } catch (x) {
            unrecovered.push(`${m.name}: ${errorMessage(x)}`);
          }
        }
        clock.mark('done');
        if (unrecovered.length) throw new FerryError(ErrorCode.RollbackFailed, `group ${group} failed (${why}) and could not be rolled back whole: ${unrecovered.join('; ')}`);
        const moved = members.every((r) => r.outcome === 'migrated');
        return { group, outcome: moved ? 'migrated' : 'rolled-back', from: reqs[0]!.from, to: reqs[0]!.to, members, times: groupTimes(clock), error: why };
      }
      const members: MigrationReport[] = [];
      for (const m of moves) members.push(await m.finish());
      clock.mark('done');
      return { group, outcome: 'migrated', from: reqs[0]!.from, to: reqs[0]!.to, members, times: groupTimes(clock) };
    } finally {
      for (const m of moves) m.close();
    }
  }
}

/**
 * Which member's step failed, and why: a signal inside {@link MigrationEngine.migrateGroup}, not a
 * Ferry error. It never leaves that method: the preflight rethrows its cause (a FerryError), and a
 * later step's failure becomes the group's rolled-back report (or a RollbackFailed FerryError).
 */
class GroupStepFailed extends Error {
  constructor(
    readonly member: string,
    override readonly cause: unknown,
  ) {
    super(`${member}: ${errorMessage(cause)}`);
    this.name = 'GroupStepFailed';
  }
}

function groupTimes(clock: PhaseClock): GroupReport['times'] {
  const t = clock.times();
  return { downtime: t.downtime, total: t.total ?? 0 };
}
