import path from 'node:path';
import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError } from '../errors.ts';
import { findHost, type HostsFile } from '../hosts/inventory.ts';
import { bundleDir } from '../hosts/paths.ts';
import type { RemoteHost } from '../hosts/RemoteHost.ts';
import { healthSpecFromConfig } from '../migrate/health.ts';
import { runPlaybook } from '../infra/ansible.ts';
import { ensureHostsPki } from '../infra/pki.ts';
import { MigrationEvents } from '../migrate/events.ts';
import { MigrationEngine } from '../migrate/MigrationEngine.ts';
import { FileJournalStore, type JournalStore } from '../migrate/journal/stores.ts';
import type { MethodRegistry } from '../migrate/methods/registry.ts';
import type { MigrationReport } from '../migrate/report.ts';
import { validateRequest, type MigrationRequest } from '../migrate/request.ts';
import { trafficFor, type HoldMode } from '../traffic/detect.ts';
import { startProbe, writeProbeOutput } from '../probe/probe-run.ts';
import { runWithHooks, type HookOutput } from './hooks.ts';
import { loadHosts } from './hosts.ts';
import { resolveTarget, type GroupSurveyor, type TargetPick } from './resolve-target.ts';

/** A step of the use case around the engine, for progress displays (the engine's own phases come as events). */
export interface StepEvent {
  step: 'provision' | 'migrate';
  state: 'start' | 'end';
  detail?: string;
}

/** A load probe run through the migration: `clients` concurrent clients against the service on the source's address. */
export interface ProbeOptions {
  clients: number;
  /** @defaultValue 80 (HAProxy's front) */
  port?: number;
  /** @defaultValue /counter (or /cgi-bin/post with `post`) */
  path?: string;
  /** POST a body with each request (checks bodies survive the hold server). @defaultValue false */
  post?: boolean;
}

export interface MigrationRun {
  config: FerryConfig;
  /** The hosts. @defaultValue loaded from the configuration */
  hosts?: HostsFile;
  events?: MigrationEvents;
  /** Cancels up to the freeze. */
  signal?: AbortSignal;
  /** Run the provision playbook on both hosts first. @defaultValue config.provisionBeforeMigrate */
  provision?: boolean;
  /** Hold clients through the freeze where HAProxy fronts the container. @defaultValue 'auto' (where HAProxy fronts it) */
  hold?: HoldMode;
  /**
   * A load probe through the migration. `auto`: where HAProxy fronts the container, a few clients
   * through the front, so the report carries the client-side view and its response-time plot.
   * @defaultValue none
   */
  probe?: ProbeOptions | 'auto';
  /** @defaultValue the built-in methods */
  registry?: MethodRegistry;
  onStep?: (s: StepEvent) => void;
  /** Output of the inventory's hook playbooks (pre_migrate, post_migrate, on_rollback), in batches. */
  onHookOutput?: (o: HookOutput) => void;
  /** Where the journal is kept besides the source host (see MigrateOptions.journalStores). @defaultValue a directory under the lab directory */
  journalStores?: JournalStore[];
  /** How the members of a `group:NAME` target are asked before one is picked. @defaultValue each over SSH (surveyOverSsh) */
  survey?: GroupSurveyor;
}

/** Clients of the automatic probe: enough for a plot, few enough not to load the service. */
export const AUTO_PROBE_CLIENTS = 4;

/** The controller-side journal of processes without Redis (the CLI). */
export function localJournal(config: FerryConfig): FileJournalStore {
  return new FileJournalStore(path.join(config.labDir, 'journal'));
}

/**
 * The one way a migration runs, for the worker, the CLI, the console and the benchmark:
 * target (a `group:NAME` target's member picked) → [pre_migrate hook] → provision → traffic front →
 * (load probe) → engine → report → [post_migrate or on_rollback hook]. The hooks and the engine get
 * the picked host; the report says which it is and why (`groupTarget`).
 */
export async function runMigration(req: MigrationRequest, run: MigrationRun): Promise<MigrationReport> {
  validateRequest(req, { groupTarget: true });
  const hosts = run.hosts ?? (await loadHosts(run.config));
  const { req: resolved, pick } = await resolveTarget(req, { ...run, hosts });
  return runWithHooks(resolved, { ...run, hosts }, async (r, withHosts) => withPick(await migrateOnce(r, withHosts), pick));
}

/** The report with the group its target was picked from, and why (pure); as it was for a host target. */
export function withPick(report: MigrationReport, pick: TargetPick | undefined): MigrationReport {
  return pick ? { ...report, groupTarget: { group: pick.group, reason: pick.reason } } : report;
}

/** One migration between its hooks (app/hooks.ts). */
async function migrateOnce(req: MigrationRequest, run: MigrationRun): Promise<MigrationReport> {
  const { config } = run;
  const hosts = run.hosts ?? (await loadHosts(config));
  const source = findHost(hosts, req.from);
  findHost(hosts, req.to);
  const events = run.events ?? new MigrationEvents();
  const stage = { hosts, from: req.from, to: req.to, containers: [req.container], what: `migration ${req.id}`, provision: run.provision ?? config.provisionBeforeMigrate };
  return throughEngine(stage, run, async (fronts) => {
    const traffic = fronts.get(req.container);
    const p: ProbeOptions | undefined = run.probe === 'auto' ? (traffic ? { clients: AUTO_PROBE_CLIENTS, port: traffic.frontendPort, path: await probePath(traffic.front, req.container) } : undefined) : run.probe;
    const probe = p ? startProbe(`http://${source.address}:${p.port ?? 80}${p.path ?? (p.post ? '/cgi-bin/post' : '/counter')}`, events, { concurrency: p.clients, post: p.post, container: req.container }) : undefined;
    let report: MigrationReport;
    try {
      report = await new MigrationEngine(hosts, config, { registry: run.registry }).migrate(req, { signal: run.signal, traffic: traffic?.sw, events, journalStores: run.journalStores ?? [localJournal(config)] });
    } catch (e) {
      await probe?.stop().catch(() => undefined);
      throw e;
    }
    if (!probe) return report;
    const r = await probe.stop();
    const files = await writeProbeOutput(config.benchDir, req.id, r);
    return { ...report, probe: { ...r.summary, csv: files.csv, png: files.png } };
  });
}

/** Where a migration runs and what it moves: all that a container's move and a group's differ in before the engine. */
export interface Stage {
  hosts: HostsFile;
  from: string;
  to: string;
  /** The containers moved (one, or a group's members): each gets its traffic front, where HAProxy fronts it. */
  containers: readonly string[];
  /** Names the migration in a cancel's message. */
  what: string;
  /** Run the provision playbook on both hosts first. */
  provision: boolean;
}

/** A container's HAProxy front, found on the source (traffic/detect.ts). */
export type Front = NonNullable<Awaited<ReturnType<typeof trafficFor>>>;

/**
 * The sequence every migration runs, a single container's and a group's alike:
 * provision → each container's traffic front → the engine (`engine`, given the fronts) → the
 * fronts' sessions closed. The `migrate` step brackets everything after provisioning.
 */
export async function throughEngine<T extends { outcome: string }>(
  stage: Stage,
  run: Pick<MigrationRun, 'config' | 'signal' | 'onStep' | 'hold'>,
  engine: (fronts: ReadonlyMap<string, Front>) => Promise<T>,
): Promise<T> {
  if (stage.provision) await provisionPair(stage.hosts, stage.from, stage.to, stage.what, run);
  run.onStep?.({ step: 'migrate', state: 'start' });
  const fronts = new Map<string, Front>();
  try {
    // Where HAProxy fronts a container, clients are held through the freeze (on by default).
    for (const c of stage.containers) {
      const t = await trafficFor(stage.hosts, c, stage.from, run.hold ?? 'auto');
      if (t) fronts.set(c, t);
    }
    const result = await engine(fronts);
    run.onStep?.({ step: 'migrate', state: 'end', detail: result.outcome });
    return result;
  } finally {
    for (const f of fronts.values()) f.front.dispose();
  }
}

/**
 * The provision playbook on the two hosts of a migration (their certificates first), before
 * anything is frozen, reported as the `provision` step. `what` names the migration in a cancel's message.
 */
export async function provisionPair(hosts: HostsFile, from: string, to: string, what: string, run: Pick<MigrationRun, 'config' | 'signal' | 'onStep'>): Promise<void> {
  const step = (s: StepEvent) => run.onStep?.(s);
  step({ step: 'provision', state: 'start' });
  if (run.signal?.aborted) throw new FerryError(ErrorCode.Cancelled, `${what} cancelled before it started`);
  await ensureHostsPki(run.config.pkiDir, hosts);
  const r = await runPlaybook('provision.yml', hosts.inventoryFile, { limit: `${from},${to}`, cancelSignal: run.signal }).catch((e: unknown) => {
    throw new FerryError(ErrorCode.ProvisionFailed, `provisioning ${from} and ${to} failed before anything was frozen: ${(e as Error).message}`, { original: e });
  });
  const changed = Object.values(r.recap).reduce((n, h) => n + h.changed, 0);
  step({ step: 'provision', state: 'end', detail: changed ? `${changed} ${changed === 1 ? 'change' : 'changes'}` : 'no changes' });
}

/** What the automatic probe asks for: the container's own HTTP health path, else `/`. */
async function probePath(host: RemoteHost, container: string): Promise<string> {
  try {
    const spec = healthSpecFromConfig(JSON.parse(await host.readFile(`${bundleDir(container)}/config.json`)) as Record<string, unknown>);
    return spec.kind === 'http' ? spec.path : '/';
  } catch {
    return '/';
  }
}
