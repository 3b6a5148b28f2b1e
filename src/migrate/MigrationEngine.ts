import { randomBytes } from 'node:crypto';
import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { containerStatus, listContainers } from '../hosts/containers.ts';
import { findHost, type HostsFile } from '../hosts/inventory.ts';
import { HOST_PATHS, cgroupPath } from '../hosts/paths.ts';
import { probeHost } from '../hosts/probe.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { logger } from '../log.ts';
import { validateName } from '../util/names.ts';
import { PhaseClock, type Phase } from './clock.ts';
import { newContextPaths, stopHelpers, type MigrationContext } from './context.ts';
import { removeContainer, umountUnder } from './debris.ts';
import { MigrationEvents } from './events.ts';
import { describeHealth, healthSpecFromConfig, waitHealthy, type HealthSpec } from './health.ts';
import { HostLink } from './HostLink.ts';
import { chooseMethod, METHOD_INFO, type Method, type MethodRequest } from './methods.ts';
import type { MigrationReport } from './report.ts';
import type { TrafficHooks } from '../traffic/TrafficSwitch.ts';
import { DumpCopy } from './strategies/DumpCopy.ts';
import { Lazy } from './strategies/Lazy.ts';
import { PreCopy } from './strategies/PreCopy.ts';
import { PreCopyLazy } from './strategies/PreCopyLazy.ts';
import { restoreOn } from './strategies/restore.ts';
import { WORK, type Strategy } from './strategies/strategy.ts';

export interface MigrateRequest {
  container: string;
  from: string;
  to: string;
  method: MethodRequest;
  /** Migration id (queue job id); generated when absent. */
  id?: string;
  /** Cancels the migration up to the freeze; after it, the migration runs to its end or rolls back. */
  signal?: AbortSignal;
  /** Traffic switching around the freeze (HAProxy, hold server); none when absent. */
  traffic?: TrafficHooks;
}

export function newMigrationId(now = new Date()): string {
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `m-${ts}-${randomBytes(3).toString('hex')}`;
}

export function strategyFor(method: Method): Strategy {
  switch (method) {
    case 'normal':
      return new DumpCopy(false);
    case 'page-server':
      return new DumpCopy(true);
    case 'precopy':
      return new PreCopy(false);
    case 'pc-ps':
    case 'pc-ps-rsync':
      return new PreCopy(true);
    case 'lazy':
      return new Lazy();
    case 'pc-lazy':
      return new PreCopyLazy();
  }
}

/** Methods whose rootfs is synced while the container still runs (the paper's rsync optimization). */
const PRESYNC_BUNDLE: readonly Method[] = ['pc-ps-rsync', 'lazy', 'pc-lazy'];

/**
 * Moves one running container between two hosts over SSH. Invariants: nothing is frozen before
 * every check that can fail early has passed; after the freeze, any failure brings the container
 * back on the source; at the end it runs on exactly one host.
 */
export class MigrationEngine {
  constructor(
    private readonly hosts: HostsFile,
    private readonly config: FerryConfig,
  ) {}

  async migrate(req: MigrateRequest, events = new MigrationEvents()): Promise<MigrationReport> {
    const name = validateName('container', req.container);
    validateName('host', req.from);
    validateName('host', req.to);
    if (req.from === req.to) throw new FerryError(ErrorCode.UsageError, `source and target are both ${req.from}: nothing to move`);
    const id = req.id ?? newMigrationId();
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id)) throw new FerryError(ErrorCode.UsageError, `invalid migration id '${id}'`);
    const source = new RemoteHost(findHost(this.hosts, req.from), { defaultTimeoutS: this.config.commandTimeoutS });
    const target = new RemoteHost(findHost(this.hosts, req.to), { defaultTimeoutS: this.config.commandTimeoutS });
    const clock = new PhaseClock();
    const log = logger().child({ migration: id, container: name });
    try {
      return await this.run(req, { id, name, source, target, clock, events, log });
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
    req: MigrateRequest,
    base: { id: string; name: string; source: RemoteHost; target: RemoteHost; clock: PhaseClock; events: MigrationEvents; log: ReturnType<typeof logger> },
  ): Promise<MigrationReport> {
    const { id, name, source, target, clock, events, log } = base;
    const pre = await this.phase(base, 'preflight', () => this.preflight(req, base));
    const strategy = strategyFor(pre.method);
    const link = await HostLink.open(id, source, target).catch((e) => {
      throw new FerryError(ErrorCode.PreflightFailed, `could not set up the transfer link between ${source.name} and ${target.name}: ${errorMessage(e)}`, { original: e });
    });
    const ctx: MigrationContext = { id, name, method: pre.method, source, target, link, clock, events, ...newContextPaths(id, name), bytes: { rsync: 0, pages: 0 }, rounds: [], pidFiles: [] };
    let frozen = false;
    let dumped = false;
    let diverted = false;
    const traffic = req.traffic;
    try {
      await this.phase(ctx, 'prepare', async () => {
        for (const h of [source, target]) await h.run(['mkdir', '-p', `${ctx.dir}/img/final`, `${ctx.dir}/work`, HOST_PATHS.containers]);
        await link.warm(source);
        await traffic?.prepare?.();
        if (PRESYNC_BUNDLE.includes(pre.method)) {
          const sync = () => this.pushBundle(ctx);
          if (pre.method === 'pc-ps-rsync') await clock.time('pre-copy', sync);
          else await sync();
        }
      });
      await strategy.beforeFreeze(ctx);
      if (req.signal?.aborted) throw new FerryError(ErrorCode.Cancelled, `migration ${id} cancelled before the freeze: ${name} keeps running on ${source.name}`);

      if (traffic) {
        diverted = true;
        await this.phase(ctx, 'switch', () => traffic.beforeFreeze(), 'divert traffic from the source');
      }
      // ---- the freeze: from here on, failure means rollback ----
      frozen = true;
      clock.mark('freeze');
      events.emitEvent({ type: 'frozen' });
      await this.phase(ctx, 'checkpoint', () => strategy.checkpoint(ctx));
      dumped = true;
      await this.phase(ctx, 'transfer', async () => {
        await strategy.transferImages(ctx);
        await this.pushBundle(ctx);
        await this.retargetConfig(ctx, pre.config);
      });
      await this.phase(ctx, 'restore', () => strategy.restore(ctx));
      await this.phase(ctx, 'health', async () => {
        const waited = await waitHealthy(target.spec.address, pre.health, this.config.healthTimeoutS);
        if (waited === null) throw new FerryError(ErrorCode.HealthCheckFailed, `${name} restored on ${target.name} but did not pass its health check (${describeHealth(pre.health)}) within ${this.config.healthTimeoutS} s`);
      });
      clock.mark('healthy');
      if (traffic) await this.phase(ctx, 'switch', () => traffic.switchTo({ address: target.spec.address, port: portOf(pre.health) }), `traffic to ${target.name}`);
      await strategy.complete(ctx);
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
      return { ...this.report(ctx, pre, 'migrated', target.name), traffic: traffic?.describe() };
    } catch (e) {
      log.warn({ err: errorMessage(e), frozen, dumped }, 'migration failed');
      if (!frozen) {
        if (diverted) await traffic!.restore({ address: source.spec.address, port: portOf(pre.health) }).catch(() => undefined);
        await traffic?.close().catch(() => undefined);
        await this.abandon(ctx);
        throw e;
      }
      const cause = errorMessage(e);
      events.emitEvent({ type: 'rollback', reason: cause });
      await this.phase(ctx, 'rollback', () => this.rollback(ctx, strategy, pre, dumped, cause));
      if (traffic) await traffic.restore({ address: source.spec.address, port: portOf(pre.health) }).catch(() => undefined);
      await traffic?.close().catch(() => undefined);
      clock.mark('done');
      return { ...this.report(ctx, pre, 'rolled-back', source.name), error: cause, traffic: traffic?.describe() };
    }
  }

  private async preflight(req: MigrateRequest, ctx: { name: string; source: RemoteHost; target: RemoteHost; events: MigrationEvents }) {
    const { name, source, target } = ctx;
    await Promise.all([source.connect(), target.connect()]);
    const [capS, capT] = await Promise.all([probeHost(source), probeHost(target)]);
    const choice = chooseMethod(req.method, capS, capT);
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

  private async pushBundle(ctx: MigrationContext): Promise<void> {
    ctx.bytes.rsync += await ctx.link.push(ctx.source, ctx.bundle, ctx.bundle, { delete: true });
  }

  /** The bundle's cgroup path names its host (one kernel, many emulated hosts): give the target its own. */
  private async retargetConfig(ctx: MigrationContext, config: Record<string, unknown>): Promise<void> {
    const linux = { ...(config.linux as Record<string, unknown>), cgroupsPath: cgroupPath(ctx.target.name, ctx.name) };
    await ctx.target.writeFile(`${ctx.bundle}/config.json`, JSON.stringify({ ...config, linux }, null, 2));
  }

  /** Failure before the freeze: nothing was stopped; remove what this migration put anywhere. */
  private async abandon(ctx: MigrationContext): Promise<void> {
    await stopHelpers(ctx).catch(() => undefined);
    await ctx.source.exec(['rm', '-rf', ctx.dir]).catch(() => undefined);
    await ctx.target.exec(['rm', '-rf', ctx.dir]).catch(() => undefined);
    if (PRESYNC_BUNDLE.includes(ctx.method)) await ctx.target.exec(['rm', '-rf', ctx.bundle]).catch(() => undefined);
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

  private report(ctx: MigrationContext, pre: { method: Method; reason: string; health: HealthSpec }, outcome: MigrationReport['outcome'], runsOn: string): MigrationReport {
    const d = ctx.dump;
    return {
      id: ctx.id,
      container: ctx.name,
      from: ctx.source.name,
      to: ctx.target.name,
      method: pre.method,
      reason: pre.reason,
      outcome,
      runsOn,
      times: ctx.clock.times(),
      // A lazy dump's frozen time runs until the last page is served: not comparable, left out.
      criu: d ? { frozenMs: METHOD_INFO[ctx.method].lazy ? 0 : d.frozenTimeUs / 1000, pagesWritten: d.pagesWritten, pagesSkipped: d.pagesSkippedParent, pagesLazy: d.pagesLazy } : null,
      bytes: { total: ctx.bytes.rsync + ctx.bytes.pages, ...ctx.bytes },
      rounds: ctx.rounds,
      precopyStop: ctx.precopyStop,
      health: describeHealth(pre.health),
    };
  }
}

function portOf(h: HealthSpec): number {
  return h.kind === 'none' ? 0 : h.port;
}
