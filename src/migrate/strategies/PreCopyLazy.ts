import type { MigrationContext } from '../context.ts';
import { Lazy } from './Lazy.ts';
import { PreCopy } from './PreCopy.ts';
import type { Strategy } from './strategy.ts';

/**
 * Pre-copy, then post-copy (ours): pre-dump rounds are copied to the target while the container
 * runs; then the freeze dumps everything but memory, naming the last round as its parent, and the
 * target restores at once. Pages unchanged since that round are read from the target's own copy of
 * the rounds; only the pages dirtied since are pulled lazily from the source. Downtime is that of
 * post-copy, and the source serves a small dirty set instead of all memory.
 * The rounds go to disk and rsync, not to the page server: a lazy dump compares pages with a
 * parent on its own disk (through the page server the rounds would exist only on the target, and
 * CRIU would find no parent and serve every page lazily; measured).
 */
export class PreCopyLazy implements Strategy {
  private readonly rounds = new PreCopy(false);
  private readonly lazy = new Lazy();

  async beforeFreeze(ctx: MigrationContext): Promise<void> {
    await this.rounds.runRounds(ctx);
    this.lazy.parentPath = `../pre-${this.rounds.lastRound}`;
  }

  checkpoint(ctx: MigrationContext): Promise<void> {
    return this.lazy.checkpoint(ctx);
  }

  /** The final images only: every round is on the target already (page server and rsync). */
  transferImages(ctx: MigrationContext): Promise<void> {
    return this.lazy.transferImages(ctx);
  }

  restore(ctx: MigrationContext): Promise<void> {
    return this.lazy.restore(ctx);
  }

  complete(ctx: MigrationContext): Promise<void> {
    return this.lazy.complete(ctx);
  }

  abortDump(ctx: MigrationContext): Promise<string | null> {
    return this.lazy.abortDump(ctx);
  }

  imagesForSourceRestore(ctx: MigrationContext): Promise<{ imageDir: string; lazy: boolean }> {
    return this.lazy.imagesForSourceRestore(ctx);
  }
}
