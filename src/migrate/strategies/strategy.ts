import type { MigrationContext, RoundReport } from '../context.ts';
import type { DumpStats } from '../stats.ts';

/** Bytes a step sent host to host. */
export interface Bytes {
  rsync: number;
  pages: number;
}

export const NO_BYTES: Bytes = Object.freeze({ rsync: 0, pages: 0 });

/** What happened before the freeze. */
export interface Presync {
  rounds: RoundReport[];
  /** Why pre-copy stopped (the rule that fired). */
  precopyStop?: string;
  /**
   * Images of the last pre-copy round, relative to the final images' directory (`../pre-3`): a
   * final dump naming them as its parent writes only what changed since. How composition works:
   * a method that pre-copies hands this to a method that dumps.
   */
  parent?: string;
  bytes: Bytes;
}

export const NO_PRESYNC: Presync = Object.freeze({ rounds: [], bytes: NO_BYTES });

/** What a dump (or the end of a lazy transfer) reports. */
export interface DumpResult {
  dump?: DumpStats;
  bytes: Bytes;
}

/**
 * One migration method's moves. The engine runs the common steps (preflight, bundle, health,
 * traffic, cleanup, rollback) and adds up what each call returns; strategies never write results
 * into shared state.
 */
export interface Strategy {
  /** Before the freeze: pre-copy rounds, page servers; nothing here may stop the container. */
  beforeFreeze(ctx: MigrationContext): Promise<Presync>;
  /** The final dump: the container is frozen from the start of this call. */
  checkpoint(ctx: MigrationContext, presync: Presync): Promise<DumpResult>;
  /** Move the images the target still lacks (the bundle is the engine's). */
  transferImages(ctx: MigrationContext): Promise<Bytes>;
  /** `runc restore` on the target; resolves when runc reports the container restored. */
  restore(ctx: MigrationContext): Promise<void>;
  /** After a healthy restore (lazy: wait until every page has arrived, and report them). */
  complete(ctx: MigrationContext): Promise<DumpResult | null>;
}
// Rollback is not a strategy's: the reconciler (reconcile.ts) undoes any method from the hosts'
// state, the journal and the method's traits, so it works the same after a crash of this process.

export const addBytes = (a: Bytes, b: Bytes): Bytes => ({ rsync: a.rsync + b.rsync, pages: a.pages + b.pages });

export const IMG = (ctx: MigrationContext, sub = 'final') => `${ctx.dir}/img/${sub}`;
export const WORK = (ctx: MigrationContext) => `${ctx.dir}/work`;

/**
 * Composition through the interface: `before` runs the pre-freeze part (e.g. pre-copy rounds),
 * `after` everything from the freeze on, receiving `before`'s {@link Presync} (its parent images).
 */
export class Sequence implements Strategy {
  constructor(
    private readonly before: Strategy,
    private readonly after: Strategy,
  ) {}

  async beforeFreeze(ctx: MigrationContext): Promise<Presync> {
    const a = await this.before.beforeFreeze(ctx);
    const b = await this.after.beforeFreeze(ctx);
    return { ...a, bytes: addBytes(a.bytes, b.bytes), rounds: [...a.rounds, ...b.rounds], parent: a.parent ?? b.parent, precopyStop: a.precopyStop ?? b.precopyStop };
  }
  checkpoint(ctx: MigrationContext, presync: Presync): Promise<DumpResult> {
    return this.after.checkpoint(ctx, presync);
  }
  transferImages(ctx: MigrationContext): Promise<Bytes> {
    return this.after.transferImages(ctx);
  }
  restore(ctx: MigrationContext): Promise<void> {
    return this.after.restore(ctx);
  }
  complete(ctx: MigrationContext): Promise<DumpResult | null> {
    return this.after.complete(ctx);
  }
}
