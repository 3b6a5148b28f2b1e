import type { FerryConfig } from '../config.ts';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { containerStatus } from '../hosts/containers.ts';
import { findHost, type HostsFile } from '../hosts/inventory.ts';
import { bundleDir } from '../hosts/paths.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import type { Say } from '../infra/providers/provider.ts';
import type { JournalRecord } from '../migrate/journal/record.ts';
import { HostJournalStore, newest, type JournalStore } from '../migrate/journal/stores.ts';
import { hasFront, removeFront } from '../traffic/front.ts';
import { validateName } from '../util/names.ts';
import { removeDeployed } from '../workloads/deploy.ts';
import { loadHosts } from './hosts.ts';
import { localJournal } from './migrate.ts';

/** `ferry rm NAME… [--on HOST] [--force]`. */
export interface RemoveRequest {
  names: string[];
  /** Only this host; else every host of the inventory is asked. */
  on?: string;
  /** Remove even while a migration of it is unfinished, or while it is paused. @defaultValue false */
  force?: boolean;
}

export interface RemoveDeps {
  config: FerryConfig;
  /** @defaultValue loaded from the configuration */
  hosts?: HostsFile;
  say?: Say;
  /** Journal stores besides the hosts' own. @defaultValue the controller's (the CLI's) */
  journalStores?: JournalStore[];
}

export interface Removed {
  name: string;
  host: string;
  /** runc's status before the removal; null when only files were left. */
  status: string | null;
  /** An HAProxy front for it was stopped there too. */
  front: boolean;
}

export interface RemoveResult {
  removed: Removed[];
  /** Names no host had (as a container or as files). */
  notFound: string[];
  /** Hosts that could not be asked (a copy there, if any, is left). */
  warnings: string[];
}

/** The migrations of these containers that have not ended, newest copy of each record. Pure. */
export function unfinishedMigrations(records: readonly JournalRecord[], names: readonly string[]): JournalRecord[] {
  return newest([...records]).filter((r) => names.includes(r.container) && !r.outcome);
}

/** Refuses while a migration is unfinished, naming it and what to do. Pure. */
export function assertNoUnfinished(open: readonly JournalRecord[], force: boolean): void {
  if (open.length === 0 || force) return;
  const list = open.map((r) => `${r.container} (${r.id}: ${r.from} → ${r.to}, ${r.method}, at ${r.phase})`).join(', ');
  throw new FerryError(
    ErrorCode.PreflightFailed,
    `a migration of ${list} is unfinished: removing now could destroy the only good copy. Run 'ferry recover' first, or remove anyway with --force`,
    { details: { migrations: open.map((r) => r.id) } },
  );
}

/**
 * `ferry rm`: finds where each container is (every host, or `on`): as a runc container, as files
 * left in its bundle directory, or as an HAProxy front; refuses while a migration of it is
 * unfinished in any host's journal (or the controller's) unless `force`; then stops and deletes
 * it with its bundle, pid file and runc log (removeDeployed) and stops its front.
 */
export async function removeContainersUseCase(req: RemoveRequest, deps: RemoveDeps): Promise<RemoveResult> {
  if (req.names.length === 0) throw new FerryError(ErrorCode.UsageError, 'name at least one container to remove');
  for (const n of req.names) validateName('container', n);
  if (req.on) validateName('host', req.on);
  const hosts = deps.hosts ?? (await loadHosts(deps.config));
  const specs = req.on ? [findHost(hosts, req.on)] : hosts.hosts.filter((h) => !h.unusable && h.hostKey);
  const say = deps.say ?? (() => undefined);
  const warnings: string[] = [];
  const sessions = specs.map((s) => new RemoteHost(s, { defaultTimeoutS: deps.config.commandTimeoutS, reconnectS: 5 }));
  try {
    const found: { host: RemoteHost; name: string; status: string | null; front: boolean }[] = [];
    const journals: JournalRecord[] = [];
    await Promise.all(
      sessions.map(async (h) => {
        try {
          for (const name of req.names) {
            const status = await containerStatus(h, name);
            const files = (await h.exec(['test', '-e', bundleDir(name)], { timeoutS: 30, idempotent: true })).code === 0;
            const front = await hasFront(h, name);
            if (status !== null || files || front) found.push({ host: h, name, status, front });
          }
          journals.push(...(await new HostJournalStore(h).list()));
        } catch (e) {
          if (req.on) throw e;
          warnings.push(`${h.name} could not be asked (${errorMessage(e)}): a copy there, if any, is left`);
        }
      }),
    );
    for (const store of deps.journalStores ?? [localJournal(deps.config)]) journals.push(...(await store.list()));
    assertNoUnfinished(unfinishedMigrations(journals, req.names), Boolean(req.force));
    if (req.force) {
      for (const r of unfinishedMigrations(journals, req.names)) warnings.push(`migration ${r.id} of ${r.container} was unfinished: removed anyway (--force); 'ferry recover' will find the container gone`);
    }

    const removed: Removed[] = [];
    for (const f of found.sort((a, b) => a.name.localeCompare(b.name) || a.host.name.localeCompare(b.host.name))) {
      if (f.status !== null || (await f.host.exec(['test', '-e', bundleDir(f.name)], { idempotent: true })).code === 0) {
        say(`removing ${f.name} from ${f.host.name}${f.status ? ` (${f.status})` : ' (files only)'}`);
        await removeDeployed(f.host, f.name, { force: req.force });
      }
      if (f.front) {
        say(`stopping the HAProxy front of ${f.name} on ${f.host.name}`);
        await removeFront(f.host, f.name);
      }
      removed.push({ name: f.name, host: f.host.name, status: f.status, front: f.front });
    }
    const notFound = req.names.filter((n) => !found.some((f) => f.name === n));
    return { removed, notFound, warnings };
  } finally {
    for (const h of sessions) h.dispose();
  }
}
