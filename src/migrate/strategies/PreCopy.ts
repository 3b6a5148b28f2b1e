import { ErrorCode } from '../../errors.ts';
import { runcCheckpoint, type Endpoint } from '../commands.ts';
import { PAGE_SIZE, readDumpStats, startPageServer, type MigrationContext, type RoundReport } from '../context.ts';
import { JOBS, jobDir, runJob } from '../job-run.ts';
import { DEFAULT_PRECOPY_POLICY, precopyStop, type PrecopyPolicy } from '../precopy-policy.ts';
import type { DumpStats } from '../stats.ts';
import { prepareSourceTls } from '../wire.ts';
import { criuLogFailure, restoreOn } from './restore.ts';
import { IMG, NO_BYTES, WORK, type Bytes, type DumpResult, type Presync, type Strategy } from './strategy.ts';

/**
 * Pre-copy (the paper's Pre-copy, PC&PS and +Rsync): memory is pre-dumped while the container
 * runs, round after round until the dirty set stops shrinking, then the final dump writes only
 * what changed since the last round (--parent-path). With the page server every round's pages go
 * straight into the target's directories.
 */
export class PreCopy implements Strategy {
  private endpoint?: Endpoint;
  /** The source's CRIU configuration holding its TLS options (client of each round's page server). */
  private criuConfig?: string;

  constructor(
    private readonly pageServer: boolean,
    private readonly policy: PrecopyPolicy = DEFAULT_PRECOPY_POLICY,
  ) {}

  /** Prepares a round's directory on the target: its `parent` link lets the page server chain rounds. */
  private async targetRoundDir(ctx: MigrationContext, sub: string, parent?: string): Promise<Endpoint | undefined> {
    if (!this.pageServer) return undefined;
    await ctx.target.run(['mkdir', '-p', IMG(ctx, sub)]);
    if (parent) await ctx.target.run(['ln', '-sfn', `../${parent}`, `${IMG(ctx, sub)}/parent`]);
    return startPageServer(ctx, IMG(ctx, sub), sub);
  }

  private async dump(ctx: MigrationContext, sub: string, workDir: string, preDump: boolean, parentPath: string | undefined, endpoint?: Endpoint): Promise<DumpResult> {
    await ctx.source.run(['mkdir', '-p', IMG(ctx, sub), workDir]);
    const argv = runcCheckpoint({ name: ctx.name, imageDir: IMG(ctx, sub), workDir, preDump, parentPath, pageServer: endpoint, criuConfig: endpoint ? this.criuConfig : undefined });
    const r = await runJob(ctx.source, jobDir(ctx.dir, preDump ? `pre-dump-${sub}` : JOBS.dump), argv, 900);
    if (r.rc !== 0) {
      throw await criuLogFailure(ctx.source, ErrorCode.CriuDumpFailed, `${preDump ? 'pre-dump' : 'checkpoint'} of ${ctx.name} failed on ${ctx.source.name}`, `${workDir}/dump.log`, r.stderr);
    }
    const dump = await readDumpStats(ctx.source, workDir);
    return { dump, bytes: { rsync: 0, pages: this.pageServer && dump ? dump.pagesWritten * PAGE_SIZE : 0 } };
  }

  /** Pre-dump rounds, each copied to the target, until the policy stops them (and says which rule). */
  async beforeFreeze(ctx: MigrationContext): Promise<Presync> {
    if (this.pageServer) this.criuConfig = await prepareSourceTls(ctx, 'client');
    const rounds: RoundReport[] = [];
    let bytes: Bytes = NO_BYTES;
    let stop: string | null = null;
    while (!stop) {
      const round = rounds.length + 1;
      const sub = `pre-${round}`;
      const parent = round > 1 ? `pre-${round - 1}` : undefined;
      const endpoint = await this.targetRoundDir(ctx, sub, parent);
      const { value: dumped, seconds: dumpS } = await timed(ctx, 'pre-dump', `round ${round}`, () => this.dump(ctx, sub, `${WORK(ctx)}/${sub}`, true, parent ? `../${parent}` : undefined, endpoint));
      // Pre-copy: the round's images (all of them without a page server, the rest with one).
      const { value: copied, seconds: copyS } = await timed(ctx, 'pre-copy', undefined, () => ctx.link.push(ctx.source, IMG(ctx, sub), IMG(ctx, sub)));
      bytes = { rsync: bytes.rsync + copied, pages: bytes.pages + dumped.bytes.pages };
      const rep = roundReport(round, dumped.dump, dumpS + copyS);
      rounds.push(rep);
      ctx.events.emitEvent({ type: 'round', ...rep });
      stop = precopyStop(rounds, this.policy);
    }
    ctx.events.emitEvent({ type: 'info', message: `pre-copy stops after round ${rounds.length}: ${stop}` });
    this.endpoint = await this.targetRoundDir(ctx, 'final', `pre-${rounds.length}`);
    return { rounds, precopyStop: stop, parent: `../pre-${rounds.length}`, bytes };
  }

  checkpoint(ctx: MigrationContext, presync: Presync): Promise<DumpResult> {
    return this.dump(ctx, 'final', WORK(ctx), false, presync.parent, this.endpoint);
  }

  async transferImages(ctx: MigrationContext): Promise<Bytes> {
    return { ...NO_BYTES, rsync: await ctx.link.push(ctx.source, `${ctx.dir}/img`, `${ctx.dir}/img`) };
  }

  async restore(ctx: MigrationContext): Promise<void> {
    await restoreOn(ctx.target, { name: ctx.name, bundle: ctx.bundle, imageDir: IMG(ctx), workDir: WORK(ctx), lazy: false, job: jobDir(ctx.dir, JOBS.restore) });
  }

  async complete(): Promise<null> {
    return null;
  }
}

function roundReport(round: number, d: DumpStats | undefined, seconds: number): RoundReport {
  return { round, pagesWritten: d?.pagesWritten ?? 0, pagesSkipped: d?.pagesSkippedParent ?? 0, seconds };
}

async function timed<T>(ctx: MigrationContext, phase: 'pre-dump' | 'pre-copy', detail: string | undefined, fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  ctx.events.emitEvent({ type: 'phase-start', phase, detail });
  ctx.clock.start(phase);
  let seconds = 0;
  let value!: T;
  try {
    value = await fn();
  } finally {
    seconds = ctx.clock.end(phase);
    ctx.events.emitEvent({ type: 'phase-end', phase, seconds, detail });
  }
  return { value, seconds };
}
