import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { containerStatus, listContainers } from '../hosts/containers.ts';
import { findHost, type HostsFile } from '../hosts/inventory.ts';
import { HOST_PATHS, cgroupPath } from '../hosts/paths.ts';
import { probeHost } from '../hosts/probe.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { logger } from '../log.ts';
import { PhaseClock, type Phase } from './clock.ts';
import { newContextPaths, stopHelpers, type MigrationContext } from './context.ts';
import { removeContainer, umountUnder } from './debris.ts';
import { MigrationEvents } from './events.ts';
import { describeHealth, healthSpecFromConfig, waitHealthy, type HealthSpec } from './health.ts';
import { HostLink } from './HostLink.ts';
import { methods as builtinMethods } from './methods/builtin.ts';
import type { MethodRecord, MethodRegistry } from './methods/registry.ts';
import type { MigrationReport } from './report.ts';
import { validateRequest, type MigrationRequest } from './request.ts';
import type { RoundReport } from './context.ts';
import type { DumpStats } from './stats.ts';
import { restoreOn } from './strategies/restore.ts';
import { addBytes, NO_BYTES, NO_PRESYNC, WORK, type Bytes, type DumpResult, type Presync, type Strategy } from './strategies/strategy.ts';
import type { TrafficHooks } from './traffic-hooks.ts';

/** How one run of the engine reaches the world beyond the two hosts. */
export interface MigrateOptions {
  /** Cancels the migration up to the freeze; after it, the migration runs to its end or rolls back. */
  signal?: AbortSignal;
  /** Traffic switching around the freeze (HAProxy, hold server); none when absent. */
  traffic?: TrafficHooks;
  events?: MigrationEvents;
}

/** What a migration gathered for its report, added up from what each step returned. */
interface Tally {
  bytes: Bytes;
  dump?: DumpStats;
  rounds: RoundReport[];
  precopyStop?: string;
}

function addDump(t: Tally, r: DumpResult | null): Tally {
  if (!r) return t;
  return { ...t, bytes: addBytes(t.bytes, r.bytes), dump: r.dump ?? t.dump };
}

export interface EngineOptions {
  /** The methods this engine knows. @defaultValue the built-in registry (methods/builtin.ts) */
  registry?: MethodRegistry;
}

/**
 * Moves one running container between two hosts over SSH. Invariants: nothing is frozen before
 * every check that can fail early has passed; after the freeze, any failure brings the container
 * back on the source; at the end it runs on exactly one host.
 */
export class MigrationEngine {
  private readonly registry: MethodRegistry;

  constructor(
    private readonly hosts: HostsFile,
    private readonly config: FerryConfig,
    opts: EngineOptions = {},
  ) {
    this.registry = opts.registry ?? builtinMethods;
  }

  async migrate(req: MigrationRequest, opts: MigrateOptions = {}): Promise<MigrationReport> {
    validateRequest(req);
    const { id, container: name } = req;
    const events = opts.events ?? new MigrationEvents();
    const source = new RemoteHost(findHost(this.hosts, req.from), { defaultTimeoutS: this.config.commandTimeoutS });
    const target = new RemoteHost(findHost(this.hosts, req.to), { defaultTimeoutS: this.config.commandTimeoutS });
    const clock = new PhaseClock();
    const log = logger().child({ migration: id, container: name });
    try {
      return await this.run(req, opts, { id, name, source, target, clock, events, log });
    } finally {
      source.dispose();
      target.dispose();
    }
  }

  private async phase<T>(ctx: { clock: PhaseClock; events: MigrationEvents }, phase: Phase, fn: () => Promise<T>, detail?: string): Promise<T> {
    ctx.events.emitEvent({ type: 'phase-start', phase, detail });
    ctx.clock.start(phase);
    try {
      return await fn();
    } finally {
      const seconds = ctx.clock.end(phase);
      ctx.events.emitEvent({ type: 'phase-end', phase, seconds, detail });
    }
  }

  private async run(
    req: MigrationRequest,
    opts: MigrateOptions,
    base: { id: string; name: string; source: RemoteHost; target: RemoteHost; clock: PhaseClock; events: MigrationEvents; log: ReturnType<typeof logger> },
  ): Promise<MigrationReport> {
    const { id, name, source, target, clock, events, log } = base;
    const pre = await this.phase(base, 'preflight', () => this.preflight(req, base));
    const record = this.registry.get(pre.method);
    const strategy = record.create();
    const link = await HostLink.open(id, source, target).catch((e) => {
      throw new FerryError(ErrorCode.PreflightFailed, `could not set up the transfer link between ${source.name} and ${target.name}: ${errorMessage(e)}`, { original: e });
    });
    const ctx: MigrationContext = { id, name, method: pre.method, source, target, link, clock, events, ...newContextPaths(id, name), pidFiles: [] };
    let tally: Tally = { bytes: NO_BYTES, rounds: [] };
    let presync: Presync = NO_PRESYNC;
    let frozen = false;
    let dumped = false;
    let diverted = false;
    const traffic = opts.traffic;
    try {
      await this.phase(ctx, 'prepare', async () => {
        for (const h of [source, target]) await h.run(['mkdir', '-p', `${ctx.dir}/img/final`, `${ctx.dir}/work`, HOST_PATHS.containers]);
        await link.warm(source);
        await traffic?.prepare?.();
        if (record.bundle !== 'freeze') {
          const sync = () => this.pushBundle(ctx);
          const sent = record.bundle === 'presync-timed' ? await clock.time('pre-copy', sync) : await sync();
          tally = { ...tally, bytes: addBytes(tally.bytes, { rsync: sent, pages: 0 }) };
        }
      });
      presync = await strategy.beforeFreeze(ctx);
      tally = { ...tally, bytes: addBytes(tally.bytes, presync.bytes), rounds: presync.rounds, precopyStop: presync.precopyStop };
      if (opts.signal?.aborted) throw new FerryError(ErrorCode.Cancelled, `migration ${id} cancelled before the freeze: ${name} keeps running on ${source.name}`);

      if (traffic) {
        diverted = true;
        await this.phase(ctx, 'switch', () => traffic.beforeFreeze(), 'divert traffic from the source');
      }
      // ---- the freeze: from here on, failure means rollback ----
      frozen = true;
      clock.mark('freeze');
      events.emitEvent({ type: 'frozen' });
      tally = addDump(tally, await this.phase(ctx, 'checkpoint', () => strategy.checkpoint(ctx, presync)));
      dumped = true;
      await this.phase(ctx, 'transfer', async () => {
        const images = await strategy.transferImages(ctx);
        const bundle = await this.pushBundle(ctx);
        tally = { ...tally, bytes: addBytes(tally.bytes, addBytes(images, { rsync: bundle, pages: 0 })) };
        await this.retargetConfig(ctx, pre.config);
      });
      await this.phase(ctx, 'restore', () => strategy.restore(ctx));
      await this.phase(ctx, 'health', async () => {
        const waited = await waitHealthy(target.spec.address, pre.health, this.config.healthTimeoutS);
        if (waited === null) throw new FerryError(ErrorCode.HealthCheckFailed, `${name} restored on ${target.name} but did not pass its health check (${describeHealth(pre.health)}) within ${this.config.healthTimeoutS} s`);
      });
      clock.mark('healthy');
      if (traffic) await this.phase(ctx, 'switch', () => traffic.switchTo({ address: target.spec.address, port: portOf(pre.health) }), `traffic to ${target.name}`);
      tally = addDump(tally, await strategy.complete(ctx));
      await this.phase(ctx, 'cleanup', async () => {
        await stopHelpers(ctx);
        await source.exec(['rm', '-rf', ctx.dir, ctx.bundle, `${HOST_PATHS.work}/${name}.pid`, `${HOST_PATHS.work}/${name}.runc.log`]);
        await removeContainer(source, name); // runc already destroyed it; this clears any state left
        await umountUnder(target, ctx.dir);
        await target.exec(['rm', '-rf', ctx.dir]);
        await link.close();
      });
      clock.mark('done');
      await traffic?.close();
      return { ...this.report(ctx, record, pre, tally, 'migrated', target.name), traffic: traffic?.describe() };
    } catch (e) {
      log.warn({ err: errorMessage(e), frozen, dumped }, 'migration failed');
      if (!frozen) {
        if (diverted) await traffic!.restore({ address: source.spec.address, port: portOf(pre.health) }).catch(() => undefined);
        await traffic?.close().catch(() => undefined);
        await this.abandon(ctx, record);
        throw e;
      }
      const cause = errorMessage(e);
      events.emitEvent({ type: 'rollback', reason: cause });
      await this.phase(ctx, 'rollback', () => this.rollback(ctx, strategy, pre, dumped, cause));
      if (traffic) await traffic.restore({ address: source.spec.address, port: portOf(pre.health) }).catch(() => undefined);
      await traffic?.close().catch(() => undefined);
      clock.mark('done');
      return { ...this.report(ctx, record, pre, tally, 'rolled-back', source.name), error: cause, traffic: traffic?.describe() };
    }
  }

  private async preflight(req: MigrationRequest, ctx: { name: string; source: RemoteHost; target: RemoteHost; events: MigrationEvents }) {
    const { name, source, target } = ctx;
    await Promise.all([source.connect(), target.connect()]);
    const [capS, capT] = await Promise.all([probeHost(source), probeHost(target)]);
    const choice = this.registry.choose(req.method, capS, capT);
    ctx.events.emitEvent({ type: 'method', method: choice.method, reason: choice.reason });
    const status = await containerStatus(source, name);
    if (status === null) {
      const there = (await listContainers(source)).map((c) => c.name);
      throw new FerryError(ErrorCode.ContainerNotFound, `no container '${name}' on ${source.name} (it has: ${there.join(', ') || 'none'})`);
    }
    if (status !== 'running') throw new FerryError(ErrorCode.PreflightFailed, `container ${name} on ${source.name} is ${status}, not running`);
    if ((await containerStatus(target, name)) !== null) {
      throw new FerryError(ErrorCode.ContainerExists, `${target.name} already has a container named ${name}: remove it first, or pick another target`);
    }
    const config = JSON.parse(await source.readFile(`${newContextPaths('x', name).bundle}/config.json`)) as Record<string, unknown>;
    const health = healthSpecFromConfig(config);
    if (health.kind !== 'none') {
      const busy = await target.exec(['ss', '-Hltn', `sport = :${health.port}`]);
      if (busy.stdout.trim()) throw new FerryError(ErrorCode.PreflightFailed, `port ${health.port} is already in use on ${target.name}: ${name} could not listen there after the restore`);
    }
    const df = await target.exec(['df', '--output=avail', '-B1', '/var/lib/ferry']);
    const avail = Number(df.stdout.trim().split('\n').at(-1));
    const mem = (await listContainers(source)).find((c) => c.name === name)?.memoryBytes ?? 0;
    if (Number.isFinite(avail) && mem > 0 && avail < mem * 1.2) {
      throw new FerryError(ErrorCode.PreflightFailed, `${target.name} has ${avail} bytes free under /var/lib/ferry, less than ${name}'s memory (${mem} bytes) plus margin`);
    }
    return { ...choice, config, health };
  }

  private pushBundle(ctx: MigrationContext): Promise<number> {
    return ctx.link.push(ctx.source, ctx.bundle, ctx.bundle, { delete: true });
  }

  /** The bundle's cgroup path names its host (one kernel, many emulated hosts): give the target its own. */
  private async retargetConfig(ctx: MigrationContext, config: Record<string, unknown>): Promise<void> {
    const linux = { ...(config.linux as Record<string, unknown>), cgroupsPath: cgroupPath(ctx.target.name, ctx.name) };
    await ctx.target.writeFile(`${ctx.bundle}/config.json`, JSON.stringify({ ...config, linux }, null, 2));
  }

  /** Failure before the freeze: nothing was stopped; remove what this migration put anywhere. */
  private async abandon(ctx: MigrationContext, record: MethodRecord): Promise<void> {
    await stopHelpers(ctx).catch(() => undefined);
    await ctx.source.exec(['rm', '-rf', ctx.dir]).catch(() => undefined);
    await ctx.target.exec(['rm', '-rf', ctx.dir]).catch(() => undefined);
    if (record.bundle !== 'freeze') await ctx.target.exec(['rm', '-rf', ctx.bundle]).catch(() => undefined);
    await ctx.link.close().catch(() => undefined);
  }

  private async rollback(ctx: MigrationContext, strategy: Strategy, pre: { health: HealthSpec }, dumped: boolean, cause: string): Promise<void> {
    const { source, target, name } = ctx;
    // Before anything touches the target: a dump still in progress holds the source's container.
    const released = await strategy.abortDump?.(ctx);
    // The target must not run it: remove any half-restored container and its debris.
    await removeContainer(target, name);
    const sourceStatus = await containerStatus(source, name);
    if (sourceStatus === 'running') {
      // The dump failed (or was ended above) and CRIU let the container run on: nothing to restore.
      ctx.events.emitEvent({ type: 'info', message: released ?? `${name} kept running on ${source.name}: the dump failed before it stopped` });
      const ok = await waitHealthy(source.spec.address, pre.health, this.config.healthTimeoutS);
      if (ok === null) throw new FerryError(ErrorCode.RollbackFailed, `${name} runs on ${source.name} again but fails its health check (${describeHealth(pre.health)})`);
    } else {
      if (!dumped && sourceStatus !== 'paused') {
        throw new FerryError(ErrorCode.RollbackFailed, `${name} is ${sourceStatus ?? 'gone'} on ${source.name} after a failed dump (${cause}); images are in ${ctx.dir} on both hosts`);
      }
      if (sourceStatus === 'paused') {
        await source.run(['runc', '--root', '/run/ferry/runc', 'resume', name]);
      } else {
        try {
          const imgs = await strategy.imagesForSourceRestore(ctx);
          await removeContainer(source, name);
          await umountUnder(source, ctx.dir);
          await source.exec(['rm', '-f', `${WORK(ctx)}/restore.log`]);
          await restoreOn(source, { name, bundle: ctx.bundle, imageDir: imgs.imageDir, workDir: WORK(ctx), lazy: imgs.lazy });
        } catch (e) {
          throw new FerryError(ErrorCode.RollbackFailed, `rollback of ${name} on ${source.name} failed: ${errorMessage(e)} (after: ${cause}); images kept in ${ctx.dir} on both hosts`, { original: e });
        }
      }
      const ok = await waitHealthy(source.spec.address, pre.health, this.config.healthTimeoutS);
      if (ok === null) throw new FerryError(ErrorCode.RollbackFailed, `${name} was restored on ${source.name} but fails its health check (${describeHealth(pre.health)})`);
    }
    await stopHelpers(ctx);
    await umountUnder(target, ctx.dir);
    await target.exec(['rm', '-rf', ctx.dir, ctx.bundle]);
    await umountUnder(source, ctx.dir);
    await source.exec(['rm', '-rf', ctx.dir]);
    await ctx.link.close();
  }

  private report(ctx: MigrationContext, record: MethodRecord, pre: { reason: string; health: HealthSpec }, t: Tally, outcome: MigrationReport['outcome'], runsOn: string): MigrationReport {
    const d = t.dump;
    return {
      id: ctx.id,
      container: ctx.name,
      from: ctx.source.name,
      to: ctx.target.name,
      method: record.name,
      methodTitle: record.title,
      reason: pre.reason,
      outcome,
      runsOn,
      times: ctx.clock.times(),
      // A lazy dump's frozen time runs until the last page is served: not comparable, left out.
      criu: d ? { frozenMs: record.traits.lazy ? 0 : d.frozenTimeUs / 1000, pagesWritten: d.pagesWritten, pagesSkipped: d.pagesSkippedParent, pagesLazy: d.pagesLazy } : null,
      bytes: { total: t.bytes.rsync + t.bytes.pages, ...t.bytes },
      rounds: t.rounds,
      precopyStop: t.precopyStop,
      health: describeHealth(pre.health),
    };
  }
}

function portOf(h: HealthSpec): number {
  return h.kind === 'none' ? 0 : h.port;
}
