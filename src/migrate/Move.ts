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
import type { MethodChoice, MethodRecord, MethodRegistry } from './methods/registry.ts';
import { cleanup, portOf, reconcile } from './reconcile.ts';
import type { MigrationReport } from './report.ts';
import type { MigrationRequest } from './request.ts';
import type { DumpStats } from './stats.ts';
import { addBytes, NO_BYTES, NO_PRESYNC, type Bytes, type DumpResult, type Presync, type Strategy } from './strategies/strategy.ts';
import type { TrafficHooks } from './traffic-hooks.ts';

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

interface Preflight extends MethodChoice {
  config: Record<string, unknown>;
  health: HealthSpec;
}

export interface MoveOptions {
  signal?: AbortSignal;
  traffic?: TrafficHooks;
  events?: MigrationEvents;
  journalStores?: JournalStore[];
  /** The group this container moves with (journaled, so recovery treats the group as one). */
  group?: { name: string; ids: string[]; job?: string };
  /** CRIU's page traffic over TLS. @defaultValue config.criuTls (FERRY_CRIU_TLS, on) */
  tls?: boolean;
}

/**
 * One container's move, step by step: the engine runs the steps in order for one container, and
 * in lockstep for a group (every member frozen in one window, restored in order). Invariants: no
 * step that changes a host runs before the journal holds it; after the freeze a failure goes to
 * the reconciler; past the switch nothing is rolled back.
 */
export class Move {
  readonly source: RemoteHost;
  readonly target: RemoteHost;
  readonly clock = new PhaseClock();
  readonly events: MigrationEvents;
  private readonly log;
  private pre?: Preflight;
  private record?: MethodRecord;
  private strategy?: Strategy;
  private journal?: Journal;
  private ctx?: MigrationContext;
  private tally: Tally = { bytes: NO_BYTES, rounds: [] };
  private presync: Presync = NO_PRESYNC;
  frozen = false;
  private diverted = false;
  switched = false;
  private closed = false;

  constructor(
    private readonly hosts: HostsFile,
    private readonly config: FerryConfig,
    private readonly registry: MethodRegistry,
    readonly req: MigrationRequest,
    private readonly opts: MoveOptions,
  ) {
    this.events = opts.events ?? new MigrationEvents();
    this.source = new RemoteHost(findHost(hosts, req.from), { defaultTimeoutS: config.commandTimeoutS });
    this.target = new RemoteHost(findHost(hosts, req.to), { defaultTimeoutS: config.commandTimeoutS });
    this.log = logger().child({ migration: req.id, container: req.container });
  }

  get name(): string {
    return this.req.container;
  }

  get health(): HealthSpec {
    return this.pre!.health;
  }

  private get traffic(): TrafficHooks | undefined {
    return this.opts.traffic;
  }

  private async phase<T>(phase: Phase, fn: () => Promise<T>, detail?: string): Promise<T> {
    this.events.emitEvent({ type: 'phase-start', phase, detail });
    this.clock.start(phase);
    try {
      return await fn();
    } finally {
      const seconds = this.clock.end(phase);
      this.events.emitEvent({ type: 'phase-end', phase, seconds, detail });
    }
  }

  /** Every check that can fail before anything changes: probes, method, where the container is, room on the target. */
  async preflight(): Promise<void> {
    this.pre = await this.phase('preflight', () => this.check());
    this.record = this.registry.get(this.pre.method);
    this.strategy = this.record.create();
  }

  private async check(): Promise<Preflight> {
    const { source, target, name } = this;
    await Promise.all([source.connect(), target.connect()]);
    const [capS, capT] = await Promise.all([probeHost(source), probeHost(target)]);
    const choice = this.registry.choose(this.req.method, capS, capT);
    this.events.emitEvent({ type: 'method', method: choice.method, reason: choice.reason });
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
    await this.checkOneHost();
    const config = JSON.parse(await source.readFile(`${newContextPaths('x', name).bundle}/config.json`)) as Record<string, unknown>;
    const health = healthSpecFromConfig(config);
    if (health.kind !== 'none' && health.port > 0) {
      const busy = await target.exec(['ss', '-Hltn', `sport = :${health.port}`], { idempotent: true });
      if (busy.stdout.trim()) throw new FerryError(ErrorCode.PreflightFailed, `port ${health.port} is already in use on ${target.name}: ${name} could not listen there after the restore`);
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
  private async checkOneHost(): Promise<void> {
    const others = this.hosts.hosts.filter((h) => h.name !== this.source.name);
    const found: string[] = [];
    await Promise.all(
      others.map(async (spec) => {
        const h = spec.name === this.target.name ? this.target : new RemoteHost(spec, { defaultTimeoutS: 30, reconnectS: 5 });
        try {
          const st = await containerState(h, this.name);
          if (st === 'unknown') this.events.emitEvent({ type: 'info', message: `${spec.name} cannot be reached: could not check that it has no copy of ${this.name}` });
          else if (st !== 'absent') found.push(`${spec.name} (${st})`);
        } finally {
          if (h !== this.target) h.dispose();
        }
      }),
    );
    if (found.length) {
      throw new FerryError(ErrorCode.ContainerExists, `${this.name} also exists on ${found.join(', ')}: a container runs on one host only; remove that copy first, or pick another target`);
    }
  }

  /** Journal first, then the link, directories, helpers and (for some methods) the bundle. */
  async prepare(): Promise<void> {
    const { source, target, req } = this;
    const record = this.record!;
    const stores = this.opts.journalStores ?? [];
    const port = portOf(this.health);
    this.journal = new Journal([new HostJournalStore(source), ...stores], stores, {
      id: req.id,
      container: this.name,
      from: source.name,
      to: target.name,
      method: record.name,
      traits: record.traits,
      phase: 'preparing',
      traffic: this.traffic ? { front: this.traffic.frontHost, port, state: 'normal' } : undefined,
      ...(this.opts.group ? { group: this.opts.group } : {}),
    });
    // Before anything changes on a host, the journal must hold the migration, everywhere.
    await this.journal.advance('preparing', {}, { strict: true });
    this.journal.startHeartbeat();
    const link = await HostLink.open(req.id, source, target).catch((e) => {
      throw new FerryError(ErrorCode.PreflightFailed, `could not set up the transfer link between ${source.name} and ${target.name}: ${errorMessage(e)}`, { original: e });
    });
    const c: MigrationContext = {
      id: req.id,
      name: this.name,
      method: record.name,
      source,
      target,
      link,
      clock: this.clock,
      events: this.events,
      ...newContextPaths(req.id, this.name),
      pidFiles: [],
      // Page traffic: CRIU's TLS and each page port opened to the peer only (FERRY_CRIU_TLS, FERRY_PAGE_FIREWALL).
      tls: this.opts.tls ?? this.config.criuTls,
      firewall: this.config.pageFirewall,
    };
    this.ctx = c;
    await this.phase('prepare', async () => {
      for (const h of [source, target]) await h.run(['mkdir', '-p', `${c.dir}/img/final`, `${c.dir}/work`, HOST_PATHS.containers], { idempotent: true });
      await link.warm(source);
      await this.traffic?.prepare?.();
      if (record.bundle !== 'freeze') {
        // The container runs: files it deletes meanwhile are brought right by the copy in the freeze.
        const sync = () => this.pushBundle({ live: true });
        const sent = record.bundle === 'presync-timed' ? await this.clock.time('pre-copy', sync) : await sync();
        this.tally = { ...this.tally, bytes: addBytes(this.tally.bytes, { rsync: sent, pages: 0 }) };
      }
    });
  }

  /** Pre-copy rounds and page servers: the container still runs. */
  async beforeFreeze(): Promise<void> {
    if (this.record!.traits.preCopy) await this.journal!.advance('precopy', {}, { strict: true });
    this.presync = await this.strategy!.beforeFreeze(this.ctx!);
    this.tally = { ...this.tally, bytes: addBytes(this.tally.bytes, this.presync.bytes), rounds: this.presync.rounds, precopyStop: this.presync.precopyStop };
    if (this.opts.signal?.aborted) throw new FerryError(ErrorCode.Cancelled, `migration ${this.req.id} cancelled before the freeze: ${this.name} keeps running on ${this.source.name}`);
  }

  /** Client traffic off the source (to the hold server, in-flight requests drained). */
  async divert(): Promise<void> {
    const t = this.traffic;
    if (!t) return;
    await this.journal!.advance('diverting', { traffic: { front: t.frontHost, port: portOf(this.health), state: 'diverted' } }, { strict: true });
    this.diverted = true;
    await this.phase('switch', () => t.beforeFreeze(), 'divert traffic from the source');
  }

  /** The freeze and the final dump: from here on, a failure goes to the reconciler. */
  async checkpoint(): Promise<void> {
    await this.journal!.advance('freezing', {}, { strict: true });
    this.frozen = true;
    this.clock.mark('freeze');
    this.events.emitEvent({ type: 'frozen' });
    this.tally = addDump(this.tally, await this.phase('checkpoint', () => this.strategy!.checkpoint(this.ctx!, this.presync)));
    await this.journal!.advance('dumped');
  }

  async transfer(): Promise<void> {
    await this.phase('transfer', async () => {
      const images = await this.strategy!.transferImages(this.ctx!);
      const bundle = await this.pushBundle();
      this.tally = { ...this.tally, bytes: addBytes(this.tally.bytes, addBytes(images, { rsync: bundle, pages: 0 })) };
      await this.retargetConfig();
    });
  }

  async restore(): Promise<void> {
    await this.journal!.advance('restoring');
    await this.phase('restore', () => this.strategy!.restore(this.ctx!));
  }

  async healthCheck(): Promise<void> {
    await this.phase('health', async () => {
      const waited = await waitHealthy(healthTarget(this.target, this.name), this.health, this.config.healthTimeoutS);
      if (waited === null) {
        throw new FerryError(ErrorCode.HealthCheckFailed, `${this.name} restored on ${this.target.name} but did not pass its health check (${describeHealth(this.health)}) within ${this.config.healthTimeoutS} s`);
      }
    });
    this.clock.mark('healthy');
    await this.journal!.advance('healthy');
  }

  /** Traffic to the target: the point of no return, journaled. */
  async switch(): Promise<void> {
    const t = this.traffic;
    const port = portOf(this.health);
    if (t) await this.phase('switch', () => t.switchTo({ address: this.target.spec.address, port }), `traffic to ${this.target.name}`);
    await this.journal!.advance('switched', t ? { traffic: { front: t.frontHost, port, state: 'switched' } } : {});
    this.switched = true;
  }

  /** After the switch: wait for lazy pages, clean up; nothing here undoes the move. */
  async finish(): Promise<MigrationReport> {
    const warnings: string[] = [];
    try {
      this.tally = addDump(this.tally, await this.strategy!.complete(this.ctx!));
    } catch (e) {
      warnings.push(`${this.name} runs on ${this.target.name}, but its transfer did not complete cleanly: ${errorMessage(e)}`);
    }
    await this.phase('cleanup', async () => {
      await this.journal!.advance('cleaning');
      warnings.push(...(await cleanup(this.journal!.record, { source: this.source, target: this.target }, 'migrated')));
    });
    this.clock.mark('done');
    await this.traffic?.close().catch(() => undefined);
    await this.journal!.finish('migrated', this.target.name);
    for (const w of warnings) this.events.emitEvent({ type: 'info', message: w });
    return { ...this.report('migrated', this.target.name), traffic: this.traffic?.describe(), ...(warnings.length ? { warnings } : {}) };
  }

  /**
   * A step failed. Before the freeze: traffic back, everything this move put anywhere removed,
   * the error rethrown. After it: the reconciler decides (undo, or finish past the switch) and
   * the report says how it ended; a failed rollback is a RollbackFailed error.
   */
  async fail(e: unknown): Promise<MigrationReport> {
    const err = toFerryError(e);
    this.log.warn({ err: err.toJSON(), frozen: this.frozen }, 'migration failed');
    const t = this.traffic;
    const port = this.pre ? portOf(this.health) : 0;
    if (!this.journal) throw e; // failed in preflight: nothing was changed anywhere
    if (!this.frozen) {
      if (this.diverted) await t!.restore({ address: this.source.spec.address, port }).catch(() => undefined);
      await t?.close().catch(() => undefined);
      await cleanup(this.journal.record, { source: this.source, target: this.target }, 'rolled-back');
      await this.journal.finish('failed', this.source.name, err.message);
      throw e;
    }
    this.events.emitEvent({ type: 'rollback', reason: err.message });
    try {
      const r = await this.phase('rollback', () =>
        reconcile(this.journal!.record, 'rollback', { config: this.config, source: this.source, target: this.target, journal: this.journal, events: this.events, traffic: t, health: this.health }),
      );
      this.clock.mark('done');
      if (r.outcome === 'migrated') return { ...this.report('migrated', this.target.name), warnings: r.steps, traffic: t?.describe() };
      if (r.outcome === 'failed') throw new FerryError(ErrorCode.RollbackFailed, `${err.message}; then: ${r.error}`, { details: { runsOn: r.runsOn, steps: r.steps } });
      return { ...this.report('rolled-back', this.source.name), error: err.message, errorCode: err.code, traffic: t?.describe() };
    } catch (re) {
      const rf = toFerryError(re, ErrorCode.RollbackFailed);
      await this.journal.finish('failed', null, rf.message);
      throw rf.code === ErrorCode.RollbackFailed ? rf : new FerryError(ErrorCode.RollbackFailed, `${err.message}; rollback failed: ${rf.message}`, { original: re });
    } finally {
      await t?.close().catch(() => undefined);
    }
  }

  /** Stops the heartbeat and closes both SSH sessions. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.journal?.stop();
    this.source.dispose();
    this.target.dispose();
  }

  private pushBundle(opts: { live?: boolean } = {}): Promise<number> {
    const c = this.ctx!;
    return c.link.push(c.source, c.bundle, c.bundle, { delete: true, ...opts });
  }

  /** The bundle's cgroup path names its host (one kernel, many emulated hosts): give the target its own. */
  private async retargetConfig(): Promise<void> {
    const c = this.ctx!;
    const config = this.pre!.config;
    const linux = { ...(config.linux as Record<string, unknown>), cgroupsPath: cgroupPath(c.target.name, c.name) };
    await c.target.writeFile(`${c.bundle}/config.json`, JSON.stringify({ ...config, linux }, null, 2));
  }

  report(outcome: MigrationReport['outcome'], runsOn: string): MigrationReport {
    const record = this.record!;
    const t = this.tally;
    const d = t.dump;
    return {
      id: this.req.id,
      container: this.name,
      from: this.source.name,
      to: this.target.name,
      method: record.name,
      methodTitle: record.title,
      reason: this.pre!.reason,
      outcome,
      runsOn,
      times: this.clock.times(),
      // A lazy dump's frozen time runs until the last page is served: not comparable, left out.
      criu: d ? { frozenMs: record.traits.lazy ? 0 : d.frozenTimeUs / 1000, pagesWritten: d.pagesWritten, pagesSkipped: d.pagesSkippedParent, pagesLazy: d.pagesLazy } : null,
      bytes: { total: t.bytes.rsync + t.bytes.pages, ...t.bytes },
      rounds: t.rounds,
      precopyStop: t.precopyStop,
      health: describeHealth(this.health),
    };
  }
}
