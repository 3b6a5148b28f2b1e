import { ErrorCode, FerryError } from '../../errors.ts';
import { peerAddressOf } from '../../hosts/inventory.ts';
import { HostJob } from '../../hosts/jobs.ts';
import { criuLazyPages, runcCheckpoint, type Endpoint } from '../commands.ts';
import { PAGE_SIZE, randomPort, readDumpStats, type MigrationContext } from '../context.ts';
import { JOBS, jobDir } from '../job-run.ts';
import { pagemapTotals, type DumpStats } from '../stats.ts';
import { openPagePort, prepareSourceTls, tlsOf, type WireContext } from '../wire.ts';
import { holdLazySource, releaseLazyDump, waitLazyDumpEnd } from './lazy-release.ts';
import { criuLogFailure, restoreOn } from './restore.ts';
import { IMG, NO_BYTES, NO_PRESYNC, WORK, type Bytes, type DumpResult, type Presync, type Strategy } from './strategy.ts';

/** How long CRIU may take to freeze, dump everything but memory and open its page server. @defaultValue 120 s */
export const LAZY_READY_S = 120;
/** How long the source may serve pages after the restore (a slow link, a big memory). @defaultValue 3600 s */
export const LAZY_SERVE_S = 3600;
/** How long the source's lazy-pages port may stay open: until CRIU is ready, its whole serving, and a margin. */
export const LAZY_GRANT_S = LAZY_READY_S + LAZY_SERVE_S + 600;
/** How long the source may go on serving after the target's daemon is gone before that is a failure. */
const DAEMON_GRACE_MS = 20_000;

/**
 * Opens the source's lazy-pages port to the target only (its lazy-pages daemon connects there),
 * before the freeze. The migration's cleanup closes it (revokeMigrationGrants), or it expires
 * after {@link LAZY_GRANT_S}. Returns how to close it sooner.
 */
export function openLazySourcePort(ctx: WireContext, port: number): Promise<() => Promise<void>> {
  return openPagePort(ctx, 'source', port, LAZY_GRANT_S);
}

/**
 * Post-copy (ours): the freeze dumps everything but memory, the target restores at once and its
 * lazy-pages daemon pulls each page from the source on first touch (userfaultfd), then the rest
 * in the background. Downtime no longer grows with memory; the container depends on the source
 * until the last page has arrived. Given a pre-copy's parent images (see {@link Presync.parent}),
 * pages unchanged since are read from the target's own copy and only the rest is served lazily.
 * The dump runs as a durable job: it serves pages whatever happens to our SSH connection.
 */
export class Lazy implements Strategy {
  private source?: Endpoint;
  /** The source's CRIU configuration holding its TLS options (server of the lazy pages). */
  private criuConfig?: string;

  /** Chooses the lazy page server's port and secures it, before the freeze: none of it is downtime. */
  async beforeFreeze(ctx: MigrationContext): Promise<Presync> {
    // The target's lazy-pages daemon connects to the source the way hosts reach each other.
    this.source = { address: peerAddressOf(ctx.source.spec), port: randomPort() };
    this.criuConfig = await prepareSourceTls(ctx, 'server');
    await openLazySourcePort(ctx, this.source.port);
    return NO_PRESYNC;
  }

  private dumpJob(ctx: MigrationContext): HostJob {
    return new HostJob(ctx.source, jobDir(ctx.dir, JOBS.dump));
  }

  async checkpoint(ctx: MigrationContext, presync: Presync): Promise<DumpResult> {
    this.source ??= { address: peerAddressOf(ctx.source.spec), port: randomPort() };
    const job = this.dumpJob(ctx);
    // CRIU writes one byte to the status fd (the job's stdout) when its lazy page server is ready;
    // the command itself lasts until every page has been served.
    await job.start(runcCheckpoint({ name: ctx.name, imageDir: IMG(ctx), workDir: WORK(ctx), lazyPages: this.source, statusFd: 1, parentPath: presync.parent, criuConfig: this.criuConfig }), LAZY_SERVE_S);
    const st = await job.waitOutput(LAZY_READY_S);
    if (st.state === 'output') {
      // Ready: the tasks are dumped and held. Hold them by their cgroup too, so that CRIU cannot
      // let them run on by itself while a copy runs on the target (see holdLazySource).
      await holdLazySource(ctx.source, ctx.name);
      return { bytes: NO_BYTES }; // pages and statistics: see complete()
    }
    if (st.state === 'running') {
      // Never wait unbounded with the container frozen: end CRIU, which lets the tasks run on.
      await releaseLazyDump(ctx.source, ctx.dir, IMG(ctx));
      throw new FerryError(ErrorCode.CriuDumpFailed, `the lazy checkpoint of ${ctx.name} on ${ctx.source.name} was not ready within ${LAZY_READY_S} s; it was stopped and the container released`, { details: { host: ctx.source.name } });
    }
    const out = await job.output();
    throw await criuLogFailure(ctx.source, ErrorCode.CriuDumpFailed, `lazy checkpoint of ${ctx.name} ended before it was ready on ${ctx.source.name} (${st.state === 'rc' ? `exit ${st.rc}` : st.state})`, `${WORK(ctx)}/dump.log`, out.stderr);
  }

  async transferImages(ctx: MigrationContext): Promise<Bytes> {
    return { ...NO_BYTES, rsync: await ctx.link.push(ctx.source, IMG(ctx), IMG(ctx)) };
  }

  private async startLazyDaemon(ctx: MigrationContext, where: 'source' | 'target'): Promise<void> {
    const host = ctx[where];
    const pidFile = `${WORK(ctx)}/lazy-pages-${where}.pid`;
    const logFile = `${WORK(ctx)}/lazy-pages-${where}.log`;
    const r = await host.exec(criuLazyPages({ imageDir: IMG(ctx), workDir: WORK(ctx), source: this.source!, pidFile, logFile, tls: tlsOf(ctx, host) }), { timeoutS: 60 });
    // The daemon says why only in its log (-o), not on stderr.
    if (r.code !== 0) throw await criuLogFailure(host, ErrorCode.CriuPageServerFailed, `criu lazy-pages failed on ${host.name} (exit ${r.code})`, logFile, r.stderr);
    ctx.pidFiles.push({ host, file: pidFile });
  }

  async restore(ctx: MigrationContext): Promise<void> {
    await this.startLazyDaemon(ctx, 'target');
    // The restore touches pages, which only the daemon brings: without it, it would wait out its
    // whole timeout with the container frozen on the source. A daemon gone is a failure at once.
    const gone = this.daemonGone(ctx);
    const watch = async () =>
      (await gone()) ? criuLogFailure(ctx.target, ErrorCode.CriuRestoreFailed, `the lazy-pages daemon on ${ctx.target.name} ended before the restore of ${ctx.name} finished (it lost ${ctx.source.name})`, `${WORK(ctx)}/lazy-pages-target.log`) : null;
    await restoreOn(ctx.target, { name: ctx.name, bundle: ctx.bundle, imageDir: IMG(ctx), workDir: WORK(ctx), lazy: true, job: jobDir(ctx.dir, JOBS.restore), watch });
  }

  /**
   * Until the source has served its last page. The target's daemon is watched meanwhile: if it
   * ends (it lost its connection to the source, say while the link was down) the source would
   * wait for a reader that never comes, for as long as LAZY_SERVE_S; that is a failure now, and
   * the rollback rules bring the container back to the source, whose CRIU still holds every page.
   */
  private async waitForLastPage(ctx: MigrationContext): Promise<Awaited<ReturnType<HostJob['wait']>>> {
    const gone = this.daemonGone(ctx);
    const watch = async () =>
      (await gone()) ? criuLogFailure(ctx.target, ErrorCode.CriuPageServerFailed, `the lazy-pages daemon on ${ctx.target.name} ended while ${ctx.source.name} still had pages to serve`, `${WORK(ctx)}/lazy-pages-target.log`) : null;
    return waitLazyDumpEnd(ctx.source, ctx.dir, ctx.name, LAZY_SERVE_S + 60, watch);
  }

  /**
   * Asked again and again while something waits on the target's lazy-pages daemon: true once it
   * has been gone for longer than a grace (it leaves once it has every page, a moment before the
   * source's CRIU ends, so a daemon just gone is not yet a failure).
   */
  private daemonGone(ctx: MigrationContext): () => Promise<boolean> {
    let goneAt: number | undefined;
    return async () => {
      if (await this.targetDaemonAlive(ctx)) {
        goneAt = undefined;
        return false;
      }
      goneAt ??= Date.now();
      return Date.now() - goneAt >= DAEMON_GRACE_MS;
    };
  }

  private async targetDaemonAlive(ctx: MigrationContext): Promise<boolean> {
    const pid = await ctx.target.exec(['cat', `${WORK(ctx)}/lazy-pages-target.pid`], { idempotent: true });
    if (pid.code !== 0 || !/^\d+$/.test(pid.stdout.trim())) return false;
    // Not `kill -0`: a daemon that ended but is not reaped yet (a zombie) would pass it.
    const stat = await ctx.target.exec(['cat', `/proc/${pid.stdout.trim()}/stat`], { idempotent: true });
    if (stat.code !== 0) return false;
    const state = stat.stdout.slice(stat.stdout.lastIndexOf(')') + 1).trim()[0];
    return state !== undefined && state !== 'Z' && state !== 'X';
  }

  async complete(ctx: MigrationContext): Promise<DumpResult> {
    ctx.events.emitEvent({ type: 'info', message: `waiting for the remaining pages to arrive from ${ctx.source.name}` });
    const st = await this.waitForLastPage(ctx);
    if (st.state !== 'rc' || st.rc !== 0) {
      throw await criuLogFailure(ctx.source, ErrorCode.CriuPageServerFailed, `the source's lazy page server ended badly (${st.state === 'rc' ? `exit ${st.rc}` : st.state})`, `${WORK(ctx)}/dump.log`);
    }
    let dump: DumpStats | undefined = await readDumpStats(ctx.source, WORK(ctx));
    if (dump && dump.pagesScanned === 0) {
      // CRIU zeroes a lazy dump's statistics (see pagemapTotals): count from its log instead.
      const lines = await ctx.source.exec(['grep', '-h', 'Pagemap generated', `${WORK(ctx)}/dump.log`], { idempotent: true });
      const t = pagemapTotals(lines.stdout);
      if (t) dump = { ...dump, pagesScanned: t.pages + t.holes, pagesWritten: t.pages - t.lazy, pagesLazy: t.lazy, pagesSkippedParent: t.holes };
    }
    return { dump, bytes: { rsync: 0, pages: dump ? dump.pagesLazy * PAGE_SIZE : 0 } };
  }
}
