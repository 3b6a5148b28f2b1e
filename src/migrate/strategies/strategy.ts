import type { MigrationContext } from '../context.ts';

/** One Table II method. The engine runs the common steps (preflight, bundle, health, cleanup, rollback). */
export interface Strategy {
  /** Before the freeze: pre-copy rounds, page servers; nothing here may stop the container. */
  beforeFreeze(ctx: MigrationContext): Promise<void>;
  /** The final dump: the container is frozen from the start of this call. */
  checkpoint(ctx: MigrationContext): Promise<void>;
  /** Move the images the target still lacks (the bundle is the engine's). */
  transferImages(ctx: MigrationContext): Promise<void>;
  /** `runc restore` on the target; resolves when runc reports the container restored. */
  restore(ctx: MigrationContext): Promise<void>;
  /** After a healthy restore (lazy: wait until every page has arrived). */
  complete(ctx: MigrationContext): Promise<void>;
  /**
   * Rollback after a successful dump: make a complete image set on the source again
   * (e.g. bring pages back from the target's page server directory). Returns its directory.
   */
  imagesForSourceRestore(ctx: MigrationContext): Promise<{ imageDir: string; lazy: boolean }>;
  /**
   * First step of a rollback: if the final dump still holds the source's container (lazy: its page
   * server still serves), end it so CRIU lets the container run on. Returns what happened, or null
   * when there was nothing to end.
   */
  abortDump?(ctx: MigrationContext): Promise<string | null>;
}

export const IMG = (ctx: MigrationContext, sub = 'final') => `${ctx.dir}/img/${sub}`;
export const WORK = (ctx: MigrationContext) => `${ctx.dir}/work`;
