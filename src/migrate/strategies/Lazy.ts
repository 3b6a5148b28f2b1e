import { ErrorCode, FerryError } from '../../errors.ts';
import type { ExecResult } from '../../hosts/RemoteHost.ts';
import { criuLazyPages, runcCheckpoint, type Endpoint } from '../commands.ts';
import { PAGE_SIZE, randomPort, readDumpStats, type MigrationContext } from '../context.ts';
import { pagemapTotals, type DumpStats } from '../stats.ts';
import { criuLogFailure, restoreOn } from './restore.ts';
import { IMG, NO_BYTES, NO_PRESYNC, WORK, type Bytes, type DumpResult, type Presync, type Strategy } from './strategy.ts';

/**
 * Post-copy (ours): the freeze dumps everything but memory, the target restores at once and its
 * lazy-pages daemon pulls each page from the source on first touch (userfaultfd), then the rest
 * in the background. Downtime no longer grows with memory; the container depends on the source
 * until the last page has arrived. Given a pre-copy's parent images (see {@link Presync.parent}),
 * pages unchanged since are read from the target's own copy and only the rest is served lazily.
 */
export class Lazy implements Strategy {
  private source?: Endpoint;
  private dumpDone?: Promise<ExecResult>;
  private dumpExited = false;

  async beforeFreeze(): Promise<Presync> {
    return NO_PRESYNC;
  }

  async checkpoint(ctx: MigrationContext, presync: Presync): Promise<DumpResult> {
    this.source = { address: ctx.source.spec.address, port: randomPort() };
    let ready!: () => void;
    const readyP = new Promise<void>((r) => (ready = r));
    // CRIU writes one byte to the status fd (our stdout) when its lazy page server is ready;
    // the command itself lasts until every page has been served.
    this.dumpDone = ctx.source.exec(runcCheckpoint({ name: ctx.name, imageDir: IMG(ctx), workDir: WORK(ctx), lazyPages: this.source, statusFd: 1, parentPath: presync.parent }), {
      timeoutS: 3600,
      onStdout: () => ready(),
    });
    void this.dumpDone.then(
      () => (this.dumpExited = true),
      () => (this.dumpExited = true),
    );
    const early = this.dumpDone.then(async (r) => {
      throw await criuLogFailure(ctx.source, ErrorCode.CriuDumpFailed, `lazy checkpoint of ${ctx.name} ended before it was ready on ${ctx.source.name} (exit ${r.code})`, `${WORK(ctx)}/dump.log`, r.stderr);
    });
    await Promise.race([readyP, early]);
    // Pages and statistics are known only once the last page was served: see complete().
    return { bytes: NO_BYTES };
  }

  async transferImages(ctx: MigrationContext): Promise<Bytes> {
    return { ...NO_BYTES, rsync: await ctx.link.push(ctx.source, IMG(ctx), IMG(ctx)) };
  }

  private async startLazyDaemon(ctx: MigrationContext, where: 'source' | 'target'): Promise<void> {
    const host = ctx[where];
    const pidFile = `${WORK(ctx)}/lazy-pages-${where}.pid`;
    const logFile = `${WORK(ctx)}/lazy-pages-${where}.log`;
    const r = await host.exec(criuLazyPages({ imageDir: IMG(ctx), workDir: WORK(ctx), source: this.source!, pidFile, logFile }), { timeoutS: 60 });
    // The daemon says why only in its log (-o), not on stderr.
    if (r.code !== 0) throw await criuLogFailure(host, ErrorCode.CriuPageServerFailed, `criu lazy-pages failed on ${host.name} (exit ${r.code})`, logFile, r.stderr);
    ctx.pidFiles.push({ host, file: pidFile });
  }

  async restore(ctx: MigrationContext): Promise<void> {
    await this.startLazyDaemon(ctx, 'target');
    await restoreOn(ctx.target, { name: ctx.name, bundle: ctx.bundle, imageDir: IMG(ctx), workDir: WORK(ctx), lazy: true });
  }

  async complete(ctx: MigrationContext): Promise<DumpResult> {
    ctx.events.emitEvent({ type: 'info', message: `waiting for the remaining pages to arrive from ${ctx.source.name}` });
    const r = await this.dumpDone!;
    if (r.code !== 0) throw await criuLogFailure(ctx.source, ErrorCode.CriuPageServerFailed, `the source's lazy page server ended with exit ${r.code}`, `${WORK(ctx)}/dump.log`, r.stderr);
    let dump: DumpStats | undefined = await readDumpStats(ctx.source, WORK(ctx));
    if (dump && dump.pagesScanned === 0) {
      // CRIU zeroes a lazy dump's statistics (see pagemapTotals): count from its log instead.
      const lines = await ctx.source.exec(['grep', '-h', 'Pagemap generated', `${WORK(ctx)}/dump.log`]);
      const t = pagemapTotals(lines.stdout);
      if (t) dump = { ...dump, pagesScanned: t.pages + t.holes, pagesWritten: t.pages - t.lazy, pagesLazy: t.lazy, pagesSkippedParent: t.holes };
    }
    return { dump, bytes: { rsync: 0, pages: dump ? dump.pagesLazy * PAGE_SIZE : 0 } };
  }

  /**
   * Rollback while the source's CRIU still serves pages. Its tasks are frozen under ptrace with all
   * their memory (the target only ever received copies), so killing that CRIU lets them run on from
   * the freeze (measured: the counter resumes). Never end it the other way: when the lazy page
   * server's client simply disconnects, CRIU takes the transfer as complete and kills the tasks. So
   * this runs before anything touches the target's lazy-pages daemon or its container.
   */
  async abortDump(ctx: MigrationContext): Promise<string | null> {
    if (!this.dumpDone || this.dumpExited) return null;
    // runc's own process (anchored: not the `timeout` wrapper) is CRIU's parent.
    const runcPids = await ctx.source.exec(['pgrep', '-f', `^runc --root [^ ]+ checkpoint --image-path ${IMG(ctx)} `]);
    for (const pid of runcPids.stdout.split('\n').filter((l) => /^\d+$/.test(l.trim()))) {
      await ctx.source.exec(['pkill', '-KILL', '-P', pid.trim()]);
    }
    const ended = await Promise.race([this.dumpDone.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000).unref())]);
    if (!ended) throw new FerryError(ErrorCode.RollbackFailed, `could not stop the lazy dump of ${ctx.name} on ${ctx.source.name}`, { details: { host: ctx.source.name } });
    return `the lazy dump was stopped before its last page was served: CRIU released ${ctx.name} on ${ctx.source.name}, which runs on from the freeze`;
  }

  async imagesForSourceRestore(ctx: MigrationContext): Promise<{ imageDir: string; lazy: boolean }> {
    // abortDump runs first: when the source has no running container after it, the memory is gone
    // from the source (every page was served, CRIU ended the tasks) and lives only on the target.
    throw new FerryError(
      ErrorCode.RollbackFailed,
      `the source's lazy page server has ${this.dumpExited ? 'served every page and exited' : 'not released the container'}, so ${ctx.name}'s memory can no longer be restored on ${ctx.source.name}`,
    );
  }
}
