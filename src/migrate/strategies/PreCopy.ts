import { runcCheckpoint, type Endpoint } from '../commands.ts';
import { PAGE_SIZE, readDumpStats, startPageServer, type MigrationContext } from '../context.ts';
import { DEFAULT_PRECOPY_POLICY, precopyStop, type PrecopyPolicy } from '../precopy-policy.ts';
import { criuErrors, restoreOn } from './restore.ts';
import { IMG, WORK, type Strategy } from './strategy.ts';

/**
 * Pre-copy (the paper's Pre-copy, PC&PS and +Rsync): memory is pre-dumped while the container
 * runs, round after round until the dirty set stops shrinking, then the final dump writes only
 * what changed since the last round (--parent-path). With the page server every round's pages go
 * straight into the target's directories.
 */
export class PreCopy implements Strategy {
  private roundsDone = 0;
  private endpoint?: Endpoint;

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

  private async dump(ctx: MigrationContext, sub: string, workDir: string, preDump: boolean, parent: string | undefined, endpoint?: Endpoint) {
    await ctx.source.run(['mkdir', '-p', IMG(ctx, sub), workDir]);
    const r = await ctx.source.exec(
      runcCheckpoint({ name: ctx.name, imageDir: IMG(ctx, sub), workDir, preDump, parentPath: parent ? `../${parent}` : undefined, pageServer: endpoint }),
      { timeoutS: 900 },
    );
    if (r.code !== 0) {
      const log = await ctx.source.exec(['tail', '-n', '300', `${workDir}/dump.log`]);
      throw new Error(`${preDump ? 'pre-dump' : 'checkpoint'} of ${ctx.name} failed on ${ctx.source.name}: ${criuErrors(log.stdout) || r.stderr.trim()}`);
    }
    const stats = await readDumpStats(ctx.source, workDir);
    if (this.pageServer && stats) ctx.bytes.pages += stats.pagesWritten * PAGE_SIZE;
    return stats;
  }

  /** The round whose images the final dump names as its parent (0 before any round). */
  get lastRound(): number {
    return this.roundsDone;
  }

  async beforeFreeze(ctx: MigrationContext): Promise<void> {
    await this.runRounds(ctx);
    this.endpoint = await this.targetRoundDir(ctx, 'final', `pre-${this.roundsDone}`);
  }

  /** Pre-dump rounds, each copied to the target, until the policy stops them (and says which rule). */
  async runRounds(ctx: MigrationContext): Promise<void> {
    for (;;) {
      const round = this.roundsDone + 1;
      const sub = `pre-${round}`;
      const parent = round > 1 ? `pre-${round - 1}` : undefined;
      ctx.clock.start('pre-dump');
      ctx.events.emitEvent({ type: 'phase-start', phase: 'pre-dump', detail: `round ${round}` });
      const endpoint = await this.targetRoundDir(ctx, sub, parent);
      const stats = await this.dump(ctx, sub, `${WORK(ctx)}/${sub}`, true, parent, endpoint);
      const dumpS = ctx.clock.end('pre-dump');
      ctx.events.emitEvent({ type: 'phase-end', phase: 'pre-dump', seconds: dumpS, detail: `round ${round}` });
      // Pre-copy: the round's images (all of them without a page server, the rest with one).
      const copyS = await timed(ctx, 'pre-copy', async () => {
        ctx.bytes.rsync += await ctx.link.push(ctx.source, IMG(ctx, sub), IMG(ctx, sub));
      });
      this.roundsDone = round;
      const rep = { round, pagesWritten: stats?.pagesWritten ?? 0, pagesSkipped: stats?.pagesSkippedParent ?? 0, seconds: dumpS + copyS };
      ctx.rounds.push(rep);
      ctx.events.emitEvent({ type: 'round', ...rep });
      const stop = precopyStop(ctx.rounds, this.policy);
      if (stop) {
        ctx.precopyStop = stop;
        ctx.events.emitEvent({ type: 'info', message: `pre-copy stops after round ${round}: ${stop}` });
        break;
      }
    }
  }

  async checkpoint(ctx: MigrationContext): Promise<void> {
    ctx.dump = await this.dump(ctx, 'final', WORK(ctx), false, `pre-${this.roundsDone}`, this.endpoint);
  }

  async transferImages(ctx: MigrationContext): Promise<void> {
    ctx.bytes.rsync += await ctx.link.push(ctx.source, `${ctx.dir}/img`, `${ctx.dir}/img`);
  }

  async restore(ctx: MigrationContext): Promise<void> {
    await restoreOn(ctx.target, { name: ctx.name, bundle: ctx.bundle, imageDir: IMG(ctx), workDir: WORK(ctx), lazy: false });
  }

  async complete(): Promise<void> {}

  async imagesForSourceRestore(ctx: MigrationContext): Promise<{ imageDir: string; lazy: boolean }> {
    if (this.pageServer) await ctx.link.push(ctx.target, `${ctx.dir}/img`, `${ctx.dir}/img`);
    return { imageDir: IMG(ctx), lazy: false };
  }
}

async function timed(ctx: MigrationContext, phase: 'pre-copy', fn: () => Promise<void>): Promise<number> {
  ctx.events.emitEvent({ type: 'phase-start', phase });
  ctx.clock.start(phase);
  await fn();
  const s = ctx.clock.end(phase);
  ctx.events.emitEvent({ type: 'phase-end', phase, seconds: s });
  return s;
}
