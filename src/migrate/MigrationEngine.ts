import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, errorMessage, toFerryError } from '../errors.ts';
import { containerStatus, listContainers } from '../hosts/containers.ts';
import { findHost, type HostsFile } from '../hosts/inventory.ts';
import { HOST_PATHS, cgroupPath } from '../hosts/paths.ts';
import { probeHost } from '../hosts/probe.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { logger } from '../log.ts';
import { PhaseClock, type Phase } from './clock.ts';
import { newContextPaths, type MigrationContext, type RoundReport } from './context.ts';
import { MigrationEvents } from './events.ts';
import { describeHealth, healthSpecFromConfig, healthTarget, waitHealthy, type HealthSpec } from './health.ts';
import { HostLink } from './HostLink.ts';
import { containerState } from './host-state.ts';
import { Journal } from './journal/Journal.ts';
import { HostJournalStore, type JournalStore } from './journal/stores.ts';
import { methods as builtinMethods } from './methods/builtin.ts';
import type { MethodRecord, MethodRegistry } from './methods/registry.ts';
import { cleanup, portOf, reconcile } from './reconcile.ts';
import type { MigrationReport } from './report.ts';
import { validateRequest, type MigrationRequest } from './request.ts';
import type { DumpStats } from './stats.ts';
import { addBytes, NO_BYTES, NO_PRESYNC, type Bytes, type DumpResult, type Presync } from './strategies/strategy.ts';
import type { TrafficHooks } from './traffic-hooks.ts';

/** How one run of the engine reaches the world beyond the two hosts. */
export interface MigrateOptions {
  /** Cancels the migration up to the freeze; after it, the migration runs to its end or rolls back. */
  signal?: AbortSignal;
  /** Traffic switching around the freeze (HAProxy, hold server); none when absent. */
  traffic?: TrafficHooks;
  events?: MigrationEvents;
  /**
   * Where the journal is kept besides the source host: Redis for the worker, a directory on the
   * controller for the CLI. They also carry the heartbeat. @defaultValue none (the source host only)
   */
  journalStores?: JournalStore[];
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

type Base = { id: string; name: string; source: RemoteHost; target: RemoteHost; clock: PhaseClock; events: MigrationEvents; log: ReturnType<typeof logger> };

/**
 * Moves one running container between two hosts over SSH. Invariants: nothing is frozen before
 * every check that can fail early has passed; every step that changes a host is journaled first;
 * after the freeze, a failure is handed to the reconciler, which brings the container back on the
 * source unless traffic already switched to a healthy target (then it finishes); at the end the
 * container runs on exactly one host.
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

  private async run(req: MigrationRequest, opts: MigrateOptions, base: Base): Promise<MigrationReport> {
    const { id, name, source, target, clock, events, log } = base;
    const pre = await this.phase(base, 'preflight', () => this.preflight(req, base));
    const record = this.registry.get(pre.method);
    const strategy = record.create();
    const traffic = opts.traffic;
    const port = portOf(pre.health);
    const stores = opts.journalStores ?? [];
    const journal = new Journal([new HostJournalStore(source), ...stores], stores, {
      id,
      container: name,
      from: source.name,
      to: target.name,
      method: record.name,
      traits: record.traits,
      phase: 'preparing',
      traffic: traffic ? { front: traffic.frontHost, port, state: 'normal' } : undefined,
    });
    // Before anything changes on a host, the journal must hold the migration, everywhere.
    await journal.advance('preparing', {}, { strict: true });
    journal.startHeartbeat();
    const paths = newContextPaths(id, name);
    let tally: Tally = { bytes: NO_BYTES, rounds: [] };
    let presync: Presync = NO_PRESYNC;
    let frozen = false;
    let diverted = false;
    let switched = false;
    let ctx: MigrationContext | undefined;
    try {
      const link = await HostLink.open(id, source, target).catch((e) => {
        throw new FerryError(ErrorCode.PreflightFailed, `could not set up the transfer link between ${source.name} and ${target.name}: ${errorMessage(e)}`, { original: e });
      });
      ctx = { id, name, method: record.name, source, target, link, clock, events, ...paths, pidFiles: [] };
      const c = ctx;
      await this.phase(c, 'prepare', async () => {
        for (const h of [source, target]) await h.run(['mkdir', '-p', `${c.dir}/img/final`, `${c.dir}/work`, HOST_PATHS.containers], { idempotent: true });
        await link.warm(source);
        await traffic?.prepare?.();
        if (record.bundle !== 'freeze') {
          const sync = () => this.pushBundle(c);
          const sent = record.bundle === 'presync-timed' ? await clock.time('pre-copy', sync) : await sync();
          tally = { ...tally, bytes: addBytes(tally.bytes, { rsync: sent, pages: 0 }) };
        }
      });
      if (record.traits.preCopy) await journal.advance('precopy', {}, { strict: true });
      presync = await strategy.beforeFreeze(c);
      tally = { ...tally, bytes: addBytes(tally.bytes, presync.bytes), rounds: presync.rounds, precopyStop: presync.precopyStop };
      if (opts.signal?.aborted) throw new FerryError(ErrorCode.Cancelled, `migration ${id} cancelled before the freeze: ${name} keeps running on ${source.name}`);

      if (traffic) {
        await journal.advance('diverting', { traffic: { front: traffic.frontHost, port, state: 'diverted' } }, { strict: true });
        diverted = true;
        await this.phase(c, 'switch', () => traffic.beforeFreeze(), 'divert traffic from the source');
      }
      await journal.advance('freezing', {}, { strict: true });
      // ---- the freeze: from here on, a failure goes to the reconciler ----
      frozen = true;
      clock.mark('freeze');
      events.emitEvent({ type: 'frozen' });
      tally = addDump(tally, await this.phase(c, 'checkpoint', () => strategy.checkpoint(c, presync)));
      await journal.advance('dumped');
      await this.phase(c, 'transfer', async () => {
        const images = await strategy.transferImages(c);
        const bundle = await this.pushBundle(c);
        tally = { ...tally, bytes: addBytes(tally.bytes, addBytes(images, { rsync: bundle, pages: 0 })) };
        await this.retargetConfig(c, pre.config);
      });
      await journal.advance('restoring');
      await this.phase(c, 'restore', () => strategy.restore(c));
      await this.phase(c, 'health', async () => {
        const waited = await waitHealthy(healthTarget(target, name), pre.health, this.config.healthTimeoutS);
        if (waited === null) throw new FerryError(ErrorCode.HealthCheckFailed, `${name} restored on ${target.name} but did not pass its health check (${describeHealth(pre.health)}) within ${this.config.healthTimeoutS} s`);
      });
      clock.mark('healthy');
      await journal.advance('healthy');
      if (traffic) await this.phase(c, 'switch', () => traffic.switchTo({ address: target.spec.address, port }), `traffic to ${target.name}`);
      // The point of no return: from here on nothing is rolled back.
      await journal.advance('switched', traffic ? { traffic: { front: traffic.frontHost, port, state: 'switched' } } : {});
      switched = true;
    } catch (e) {
      const err = toFerryError(e);
      log.warn({ err: err.toJSON(), frozen }, 'migration failed');
      if (!frozen) {
        // Nothing was stopped: put traffic back, remove what this migration put anywhere.
        if (diverted) await traffic!.restore({ address: source.spec.address, port }).catch(() => undefined);
        await traffic?.close().catch(() => undefined);
        await cleanup(journal.record, { source, target }, 'rolled-back');
        await journal.finish('failed', source.name, err.message);
        throw e;
      }
      events.emitEvent({ type: 'rollback', reason: err.message });
      try {
        const r = await this.phase(base, 'rollback', () => reconcile(journal.record, 'rollback', { config: this.config, source, target, journal, events, traffic, health: pre.health }));
        clock.mark('done');
        if (r.outcome === 'migrated') {
          // Past the point of no return after all (should not happen before 'switched'): report it as moved.
          return { ...this.report(base, record, pre, tally, 'migrated', target.name), warnings: r.steps, traffic: traffic?.describe() };
        }
        if (r.outcome === 'failed') {
          throw new FerryError(ErrorCode.RollbackFailed, `${err.message}; then: ${r.error}`, { details: { runsOn: r.runsOn, steps: r.steps } });
        }
        return { ...this.report(base, record, pre, tally, 'rolled-back', source.name), error: err.message, errorCode: err.code, traffic: traffic?.describe() };
      } catch (re) {
        const rf = toFerryError(re, ErrorCode.RollbackFailed);
        await journal.finish('failed', null, rf.message);
        throw rf.code === ErrorCode.RollbackFailed ? rf : new FerryError(ErrorCode.RollbackFailed, `${err.message}; rollback failed: ${rf.message}`, { original: re });
      } finally {
        await traffic?.close().catch(() => undefined);
      }
    } finally {
      journal.stop();
    }
    // ---- switched: finish whatever happens ----
    const warnings: string[] = [];
    try {
      tally = addDump(tally, await strategy.complete(ctx!));
    } catch (e) {
      warnings.push(`${name} runs on ${target.name}, but its transfer did not complete cleanly: ${errorMessage(e)}`);
    }
    await this.phase(ctx!, 'cleanup', async () => {
      await journal.advance('cleaning');
      warnings.push(...(await cleanup(journal.record, { source, target }, 'migrated')));
    });
    clock.mark('done');
    await traffic?.close().catch(() => undefined);
    await journal.finish('migrated', target.name);
    if (!switched) throw new FerryError(ErrorCode.Internal, 'finished a migration that never switched');
    for (const w of warnings) events.emitEvent({ type: 'info', message: w });
    return { ...this.report(base, record, pre, tally, 'migrated', target.name), traffic: traffic?.describe(), ...(warnings.length ? { warnings } : {}) };
  }

  private async preflight(req: MigrationRequest, ctx: { name: string; source: RemoteHost; target: RemoteHost; events: MigrationEvents }) {
    const { name, source, target } = ctx;
    await Promise.all([source.connect(), target.connect()]);
    const [capS, capT] = await Promise.all([probeHost(source), probeHost(target)]);
    const choice = this.registry.choose(req.method, capS, capT);
    ctx.events.emitEvent({ type: 'method', method: choice.method, reason: choice.reason });
    for (const h of [source, target]) {
      if ((await h.exec(['test', '-x', `${HOST_PATHS.libexec}/job`], { idempotent: true })).code !== 0) {
        throw new FerryError(ErrorCode.PreflightFailed, `${h.name} lacks Ferry's helpers (${HOST_PATHS.libexec}/job): run 'ferry provision' first`);
      }
    }
    const unfinished = (await new HostJournalStore(source).list()).filter((r) => r.container === name && !r.outcome);
    if (unfinished.length) {
      throw new FerryError(ErrorCode.PreflightFailed, `an earlier migration of ${name} (${unfinished.map((r) => r.id).join(', ')}) is unfinished: run 'ferry recover' first`);
    }
    const status = await containerStatus(source, name);
    if (status === null) {
      const there = (await listContainers(source)).map((c) => c.name);
      throw new FerryError(ErrorCode.ContainerNotFound, `no container '${name}' on ${source.name} (it has: ${there.join(', ') || 'none'})`);
    }
    if (status !== 'running') throw new FerryError(ErrorCode.PreflightFailed, `container ${name} on ${source.name} is ${status}, not running`);
    await this.checkOneHost(name, source, target, ctx.events);
    const config = JSON.parse(await source.readFile(`${newContextPaths('x', name).bundle}/config.json`)) as Record<string, unknown>;
    const health = healthSpecFromConfig(config);
    const port = portOf(health); // 0: no port to check (an exec check of a container without service ports)
    if (port !== 0) {
      const busy = await target.exec(['ss', '-Hltn', `sport = :${port}`], { idempotent: true });
      if (busy.stdout.trim()) throw new FerryError(ErrorCode.PreflightFailed, `port ${port} is already in use on ${target.name}: ${name} could not listen there after the restore`);
    }
    const df = await target.exec(['df', '--output=avail', '-B1', '/var/lib/ferry'], { idempotent: true });
    const avail = Number(df.stdout.trim().split('\n').at(-1));
    const mem = (await listContainers(source)).find((c) => c.name === name)?.memoryBytes ?? 0;
    if (Number.isFinite(avail) && mem > 0 && avail < mem * 1.2) {
      throw new FerryError(ErrorCode.PreflightFailed, `${target.name} has ${avail} bytes free under /var/lib/ferry, less than ${name}'s memory (${mem} bytes) plus margin`);
    }
    return { ...choice, config, health };
  }

  /** One host per container, across the whole inventory: any other copy (the target included) is refused, naming where. */
  private async checkOneHost(name: string, source: RemoteHost, target: RemoteHost, events: MigrationEvents): Promise<void> {
    const others = this.hosts.hosts.filter((h) => h.name !== source.name);
    const found: string[] = [];
    await Promise.all(
      others.map(async (spec) => {
        const h = spec.name === target.name ? target : new RemoteHost(spec, { defaultTimeoutS: 30, reconnectS: 5 });
        try {
          const st = await containerState(h, name);
          if (st === 'unknown') events.emitEvent({ type: 'info', message: `${spec.name} cannot be reached: could not check that it has no copy of ${name}` });
          else if (st !== 'absent') found.push(`${spec.name} (${st})`);
        } finally {
          if (h !== target) h.dispose();
        }
      }),
    );
    if (found.length) {
      throw new FerryError(ErrorCode.ContainerExists, `${name} also exists on ${found.join(', ')}: a container runs on one host only; remove that copy first, or pick another target`);
    }
  }

  private pushBundle(ctx: MigrationContext): Promise<number> {
    return ctx.link.push(ctx.source, ctx.bundle, ctx.bundle, { delete: true });
  }

  /** The bundle's cgroup path names its host (one kernel, many emulated hosts): give the target its own. */
  private async retargetConfig(ctx: MigrationContext, config: Record<string, unknown>): Promise<void> {
    const linux = { ...(config.linux as Record<string, unknown>), cgroupsPath: cgroupPath(ctx.target.name, ctx.name) };
    await ctx.target.writeFile(`${ctx.bundle}/config.json`, JSON.stringify({ ...config, linux }, null, 2));
  }

  private report(b: Base, record: MethodRecord, pre: { reason: string; health: HealthSpec }, t: Tally, outcome: MigrationReport['outcome'], runsOn: string): MigrationReport {
    const d = t.dump;
    return {
      id: b.id,
      container: b.name,
      from: b.source.name,
      to: b.target.name,
      method: record.name,
      methodTitle: record.title,
      reason: pre.reason,
      outcome,
      runsOn,
      times: b.clock.times(),
      // A lazy dump's frozen time runs until the last page is served: not comparable, left out.
      criu: d ? { frozenMs: record.traits.lazy ? 0 : d.frozenTimeUs / 1000, pagesWritten: d.pagesWritten, pagesSkipped: d.pagesSkippedParent, pagesLazy: d.pagesLazy } : null,
      bytes: { total: t.bytes.rsync + t.bytes.pages, ...t.bytes },
      rounds: t.rounds,
      precopyStop: t.precopyStop,
      health: describeHealth(pre.health),
    };
  }
}
