import { runcCheckpoint, type Endpoint } from '../commands.ts';
import { PAGE_SIZE, readDumpStats, startPageServer, type MigrationContext } from '../context.ts';
import { criuErrors, restoreOn } from './restore.ts';
import { IMG, WORK, type Strategy } from './strategy.ts';

/**
 * The paper's Normal and Page Server methods: one dump while frozen.
 * Normal writes every page to the source's disk and rsyncs the images; with the page server the
 * dump streams pages straight into the target's image directory and only the rest is rsynced.
 */
export class DumpCopy implements Strategy {
  private endpoint?: Endpoint;

  constructor(private readonly pageServer: boolean) {}

  async beforeFreeze(ctx: MigrationContext): Promise<void> {
    if (!this.pageServer) return;
    // Started before the freeze, so its start-up is not downtime; it serves exactly one dump.
    this.endpoint = await startPageServer(ctx, IMG(ctx), 'final');
    ctx.events.emitEvent({ type: 'info', message: `page server listening on ${ctx.target.name} port ${this.endpoint.port}` });
  }

  async checkpoint(ctx: MigrationContext): Promise<void> {
    const r = await ctx.source.exec(runcCheckpoint({ name: ctx.name, imageDir: IMG(ctx), workDir: WORK(ctx), pageServer: this.endpoint }), { timeoutS: 600 });
    if (r.code !== 0) {
      const log = await ctx.source.exec(['tail', '-n', '300', `${WORK(ctx)}/dump.log`]);
      throw new Error(`checkpoint of ${ctx.name} failed on ${ctx.source.name}: ${criuErrors(log.stdout) || r.stderr.trim()}`);
    }
    ctx.dump = await readDumpStats(ctx.source, WORK(ctx));
    if (this.pageServer && ctx.dump) ctx.bytes.pages += ctx.dump.pagesWritten * PAGE_SIZE;
  }

  async transferImages(ctx: MigrationContext): Promise<void> {
    // Never --delete: with a page server the target already holds the pages.
    ctx.bytes.rsync += await ctx.link.push(ctx.source, IMG(ctx), IMG(ctx));
  }

  async restore(ctx: MigrationContext): Promise<void> {
    await restoreOn(ctx.target, { name: ctx.name, bundle: ctx.bundle, imageDir: IMG(ctx), workDir: WORK(ctx), lazy: false });
  }

  async complete(): Promise<void> {}

  async imagesForSourceRestore(ctx: MigrationContext): Promise<{ imageDir: string; lazy: boolean }> {
    if (this.pageServer) {
      // The pages went to the target: bring them back (only what the source lacks).
      await ctx.link.push(ctx.target, IMG(ctx), IMG(ctx));
    }
    return { imageDir: IMG(ctx), lazy: false };
  }
}
