import type { ExecResult } from '../../hosts/RemoteHost.ts';
import { criuLazyPages, runcCheckpoint, type Endpoint } from '../commands.ts';
import { PAGE_SIZE, randomPort, readDumpStats, type MigrationContext } from '../context.ts';
import { criuErrors, restoreOn } from './restore.ts';
import { IMG, WORK, type Strategy } from './strategy.ts';

/**
 * Post-copy (ours): the freeze dumps everything but memory, the target restores at once and its
 * lazy-pages daemon pulls each page from the source on first touch (userfaultfd), then the rest
 * in the background. Downtime no longer grows with memory; the container depends on the source
 * until the last page has arrived.
 */
export class Lazy implements Strategy {
  private source?: Endpoint;
  private dumpDone?: Promise<ExecResult>;
  private dumpExited = false;

  async beforeFreeze(): Promise<void> {}

  async checkpoint(ctx: MigrationContext): Promise<void> {
    this.source = { address: ctx.source.spec.address, port: randomPort() };
    let ready!: () => void;
    const readyP = new Promise<void>((r) => (ready = r));
    // CRIU writes one byte to the status fd (our stdout) when its lazy page server is ready;
    // the command itself lasts until every page has been served.
    this.dumpDone = ctx.source.exec(runcCheckpoint({ name: ctx.name, imageDir: IMG(ctx), workDir: WORK(ctx), lazyPages: this.source, statusFd: 1 }), {
      timeoutS: 3600,
      onStdout: () => ready(),
    });
    void this.dumpDone.then(
      () => (this.dumpExited = true),
      () => (this.dumpExited = true),
    );
    const early = this.dumpDone.then(async (r) => {
      const log = await ctx.source.exec(['tail', '-n', '300', `${WORK(ctx)}/dump.log`]);
      throw new Error(`lazy checkpoint of ${ctx.name} ended before it was ready on ${ctx.source.name} (exit ${r.code}): ${criuErrors(log.stdout) || r.stderr.trim()}`);
    });
    await Promise.race([readyP, early]);
  }

  async transferImages(ctx: MigrationContext): Promise<void> {
    ctx.bytes.rsync += await ctx.link.push(ctx.source, IMG(ctx), IMG(ctx));
  }

  private async startLazyDaemon(ctx: MigrationContext, where: 'source' | 'target'): Promise<void> {
    const host = ctx[where];
    const pidFile = `${WORK(ctx)}/lazy-pages-${where}.pid`;
    await host.run(criuLazyPages({ imageDir: IMG(ctx), workDir: WORK(ctx), source: this.source!, pidFile, logFile: `${WORK(ctx)}/lazy-pages-${where}.log` }), { timeoutS: 60 });
    ctx.pidFiles.push({ host, file: pidFile });
  }

  async restore(ctx: MigrationContext): Promise<void> {
    await this.startLazyDaemon(ctx, 'target');
    await restoreOn(ctx.target, { name: ctx.name, bundle: ctx.bundle, imageDir: IMG(ctx), workDir: WORK(ctx), lazy: true });
  }

  async complete(ctx: MigrationContext): Promise<void> {
    ctx.events.emitEvent({ type: 'info', message: `waiting for the remaining pages to arrive from ${ctx.source.name}` });
    const r = await this.dumpDone!;
    if (r.code !== 0) throw new Error(`the source's lazy page server ended with exit ${r.code}: ${r.stderr.trim()}`);
    ctx.dump = await readDumpStats(ctx.source, WORK(ctx));
    if (ctx.dump) ctx.bytes.pages += (ctx.dump.pagesLazy || ctx.dump.pagesWritten) * PAGE_SIZE;
  }

  async imagesForSourceRestore(ctx: MigrationContext): Promise<{ imageDir: string; lazy: boolean }> {
    // The memory lives only in the source's lazy page server: restore there from it, if it still runs.
    if (this.dumpExited) {
      throw new Error(`the source's lazy page server has exited, so ${ctx.name}'s memory can no longer be restored on ${ctx.source.name}`);
    }
    await this.startLazyDaemon(ctx, 'source');
    return { imageDir: IMG(ctx), lazy: true };
  }
}
