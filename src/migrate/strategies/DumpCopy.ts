import { ErrorCode } from '../../errors.ts';
import { runcCheckpoint, type Endpoint } from '../commands.ts';
import { PAGE_SIZE, readDumpStats, startPageServer, type MigrationContext } from '../context.ts';
import { JOBS, jobDir, runJob } from '../job-run.ts';
import { prepareSourceTls } from '../wire.ts';
import { criuLogFailure, restoreOn } from './restore.ts';
import { IMG, NO_BYTES, NO_PRESYNC, WORK, type Bytes, type DumpResult, type Presync, type Strategy } from './strategy.ts';

/**
 * The paper's Normal and Page Server methods: one dump while frozen.
 * Normal writes every page to the source's disk and rsyncs the images; with the page server the
 * dump streams pages straight into the target's image directory and only the rest is rsynced.
 */
export class DumpCopy implements Strategy {
  private endpoint?: Endpoint;
  /** The source's CRIU configuration holding its TLS options (client of the page server). */
  private criuConfig?: string;

  constructor(private readonly pageServer: boolean) {}

  async beforeFreeze(ctx: MigrationContext): Promise<Presync> {
    if (!this.pageServer) return NO_PRESYNC;
    this.criuConfig = await prepareSourceTls(ctx, 'client');
    // Started before the freeze, so its start-up is not downtime; it serves exactly one dump.
    this.endpoint = await startPageServer(ctx, IMG(ctx), 'final');
    ctx.events.emitEvent({ type: 'info', message: `page server listening on ${ctx.target.name} port ${this.endpoint.port}` });
    return NO_PRESYNC;
  }

  async checkpoint(ctx: MigrationContext): Promise<DumpResult> {
    const r = await runJob(ctx.source, jobDir(ctx.dir, JOBS.dump), runcCheckpoint({ name: ctx.name, imageDir: IMG(ctx), workDir: WORK(ctx), pageServer: this.endpoint, criuConfig: this.criuConfig }), 600);
    if (r.rc !== 0) throw await criuLogFailure(ctx.source, ErrorCode.CriuDumpFailed, `checkpoint of ${ctx.name} failed on ${ctx.source.name}`, `${WORK(ctx)}/dump.log`, r.stderr);
    const dump = await readDumpStats(ctx.source, WORK(ctx));
    return { dump, bytes: { rsync: 0, pages: this.pageServer && dump ? dump.pagesWritten * PAGE_SIZE : 0 } };
  }

  async transferImages(ctx: MigrationContext): Promise<Bytes> {
    // Never --delete: with a page server the target already holds the pages.
    return { ...NO_BYTES, rsync: await ctx.link.push(ctx.source, IMG(ctx), IMG(ctx)) };
  }

  async restore(ctx: MigrationContext): Promise<void> {
    await restoreOn(ctx.target, { name: ctx.name, bundle: ctx.bundle, imageDir: IMG(ctx), workDir: WORK(ctx), lazy: false, job: jobDir(ctx.dir, JOBS.restore) });
  }

  async complete(): Promise<null> {
    return null;
  }
}
