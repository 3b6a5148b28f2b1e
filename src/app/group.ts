import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError } from '../errors.ts';
import { listContainers } from '../hosts/containers.ts';
import { findHost, type HostsFile } from '../hosts/inventory.ts';
import { bundleDir } from '../hosts/paths.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { MigrationEvents } from '../migrate/events.ts';
import { MigrationEngine, type GroupReport } from '../migrate/MigrationEngine.ts';
import type { MethodRegistry } from '../migrate/methods/registry.ts';
import { newMigrationId, type MigrationRequest } from '../migrate/request.ts';
import type { TrafficHooks } from '../migrate/traffic-hooks.ts';
import type { HoldMode } from '../traffic/detect.ts';
import { validateName } from '../util/names.ts';
import { GROUP_ANNOTATION, GROUP_ORDER_ANNOTATION } from '../workloads/group.ts';
import { loadHosts } from './hosts.ts';
import { localJournal, throughEngine, type StepEvent } from './migrate.ts';
import type { JournalStore } from '../migrate/journal/stores.ts';

// The annotations that make containers one group are deploy's (src/workloads/group.ts).

export interface GroupMember {
  name: string;
  /** Restore order: lower first (the database before the web server). */
  order: number;
}

/** Pure: the members of `group` among containers' configs, in restore order (then by name). */
export function membersOf(group: string, configs: { name: string; config: { annotations?: Record<string, string> } }[]): GroupMember[] {
  return configs
    .filter((c) => c.config.annotations?.[GROUP_ANNOTATION] === group)
    .map((c) => ({ name: c.name, order: Number(c.config.annotations?.[GROUP_ORDER_ANNOTATION] ?? '0') || 0 }))
    .sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

/** The group's members as they run on a host, read from their bundles. */
export async function groupMembers(host: RemoteHost, group: string): Promise<GroupMember[]> {
  const running = (await listContainers(host)).filter((c) => c.status === 'running');
  const configs = await Promise.all(
    running.map(async (c) => {
      try {
        return { name: c.name, config: JSON.parse(await host.readFile(`${bundleDir(c.name)}/config.json`)) as { annotations?: Record<string, string> } };
      } catch {
        return { name: c.name, config: {} };
      }
    }),
  );
  return membersOf(group, configs);
}

export interface GroupRun {
  config: FerryConfig;
  hosts?: HostsFile;
  method: string;
  hold?: HoldMode;
  registry?: MethodRegistry;
  journalStores?: JournalStore[];
  /** Events of each member, created here: listen to them for progress. */
  onMember?: (name: string, events: MigrationEvents) => void;
  /** Cancels up to the freeze (every member keeps running on the source). */
  signal?: AbortSignal;
  /** Run the provision playbook on both hosts first (as the worker does). @defaultValue false */
  provision?: boolean;
  onStep?: (s: StepEvent) => void;
  /**
   * Called once the members are known, before anything is provisioned or touched: the worker claims
   * each member there, so no other migration moves one of them meanwhile. Throwing stops the move.
   */
  claim?: (reqs: readonly MigrationRequest[]) => Promise<void>;
  /** The queue job moving the group (it holds the claims): journaled, so recovery releases them. */
  job?: string;
}

/** Moves a group of containers as one (see MigrationEngine.migrateGroup). */
export async function runGroupMigration(group: string, from: string, to: string, run: GroupRun): Promise<GroupReport> {
  validateName('group', group);
  validateName('host', from);
  validateName('host', to);
  const hosts = run.hosts ?? (await loadHosts(run.config));
  const source = new RemoteHost(findHost(hosts, from), { defaultTimeoutS: run.config.commandTimeoutS });
  let members: GroupMember[];
  try {
    members = await groupMembers(source, group);
  } finally {
    source.dispose();
  }
  findHost(hosts, to);
  if (members.length === 0) throw new FerryError(ErrorCode.ContainerNotFound, `no running container of group '${group}' on ${from}`);
  const reqs: MigrationRequest[] = members.map((m) => ({ id: newMigrationId(), container: m.name, from, to, method: run.method }));
  await run.claim?.(reqs);
  const events: Record<string, MigrationEvents> = {};
  for (const m of members) {
    events[m.name] = new MigrationEvents();
    run.onMember?.(m.name, events[m.name]!);
  }
  const stage = { hosts, from, to, containers: members.map((m) => m.name), what: `group ${group}'s migration`, provision: run.provision ?? false };
  return throughEngine(stage, run, (fronts) => {
    const traffic: Record<string, TrafficHooks | undefined> = Object.fromEntries([...fronts].map(([name, f]) => [name, f.sw]));
    return new MigrationEngine(hosts, run.config, { registry: run.registry }).migrateGroup(group, reqs, { signal: run.signal, traffic, events, ...(run.job ? { job: run.job } : {}), journalStores: run.journalStores ?? [localJournal(run.config)] });
  });
}
