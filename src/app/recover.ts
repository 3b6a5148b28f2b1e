import type { FerryConfig } from '../config.ts';
import { errorMessage } from '../errors.ts';
import { findHost, type HostsFile } from '../hosts/inventory.ts';
import { RemoteHost } from '../hosts/RemoteHost.ts';
import { logger } from '../log.ts';
import type { MigrationEvents } from '../migrate/events.ts';
import { Journal, LEASE_S, ownerIsDeadHere } from '../migrate/journal/Journal.ts';
import { atLeast, isOrphaned, type JournalRecord } from '../migrate/journal/record.ts';
import { HostJournalStore, newest, type JournalStore } from '../migrate/journal/stores.ts';
import { reconcile, type ReconcileResult } from '../migrate/reconcile.ts';
import { TrafficSwitch } from '../traffic/TrafficSwitch.ts';
import { loadHosts } from './hosts.ts';

export interface RecoveryReport {
  id: string;
  container: string;
  from: string;
  to: string;
  method: string;
  /** How far the migration had come when its process died. */
  phase: string;
  /** `skipped` when its owner still runs (or another recoverer holds it). */
  outcome: ReconcileResult['outcome'] | 'skipped';
  runsOn: string | null;
  steps: string[];
  error?: string;
}

export interface RecoverOptions {
  config: FerryConfig;
  hosts?: HostsFile;
  /** The controller's stores (Redis for the bot and workers, a directory for the CLI). */
  stores: JournalStore[];
  /** Also read every host's own journal: records a lost Redis or another controller's disk held. @defaultValue true */
  scanHosts?: boolean;
  /** Only records of this migration id. */
  only?: string;
  /**
   * Exclusive right to recover one migration (a Redis SET NX, a lock file): two workers starting
   * at once must not both act. @defaultValue always granted
   */
  claim?: (id: string) => Promise<boolean>;
  /** Called after each recovery (release the container's queue claim, tell the chat). */
  onRecovered?: (r: JournalRecord, report: RecoveryReport) => Promise<void>;
  events?: MigrationEvents;
  now?: () => Date;
}

/** Every migration record that has not finished, newest copy of each, from all stores. */
export async function unfinished(opts: RecoverOptions): Promise<{ records: JournalRecord[]; hosts: HostsFile }> {
  const hosts = opts.hosts ?? (await loadHosts(opts.config));
  const lists = await Promise.all(opts.stores.map((s) => s.list().catch(() => [] as JournalRecord[])));
  if (opts.scanHosts !== false) {
    const perHost = await Promise.all(
      hosts.hosts.map(async (spec) => {
        const h = new RemoteHost(spec, { defaultTimeoutS: 30, reconnectS: 5 });
        try {
          return await new HostJournalStore(h).list();
        } catch (e) {
          logger().warn({ host: spec.name, err: errorMessage(e) }, 'recover: host journal unreadable');
          return [];
        } finally {
          h.dispose();
        }
      }),
    );
    lists.push(...perHost);
  }
  const records = newest(lists.flat()).filter((r) => !r.outcome && (!opts.only || r.id === opts.only));
  return { records, hosts };
}

/**
 * `ferry recover` and every worker at start: finds migrations whose process died (its owner gone
 * from this machine, or silent for longer than the lease) and finishes or undoes each, by the
 * same rules as a rollback. A migration whose owner still runs is left alone.
 */
export async function recoverOrphans(opts: RecoverOptions): Promise<RecoveryReport[]> {
  const { records, hosts } = await unfinished(opts);
  const now = opts.now?.() ?? new Date();
  const reports: RecoveryReport[] = [];
  for (const r of records) {
    const base = { id: r.id, container: r.container, from: r.from, to: r.to, method: r.method, phase: r.phase };
    if (!isOrphaned(r, now, { leaseS: LEASE_S, ownerDead: ownerIsDeadHere(r.owner) })) {
      reports.push({ ...base, outcome: 'skipped', runsOn: null, steps: [`its owner ${r.owner} is alive (heartbeat ${r.heartbeatAt})`] });
      continue;
    }
    if (opts.claim && !(await opts.claim(r.id))) {
      reports.push({ ...base, outcome: 'skipped', runsOn: null, steps: ['another process is recovering it'] });
      continue;
    }
    // Whatever the caller's claim covers, the source host's claim covers every recoverer.
    const sourceHost = new RemoteHost(findHost(hosts, r.from), { defaultTimeoutS: 30, reconnectS: 5 });
    const onSource = new HostJournalStore(sourceHost);
    let report: RecoveryReport;
    try {
      if (!(await onSource.claimRecovery(r.id))) {
        reports.push({ ...base, outcome: 'skipped', runsOn: null, steps: [`another process is recovering it (its claim on ${r.from})`] });
        continue;
      }
      try {
        report = await recoverOne(r, hosts, opts, groupMode(r, records)).catch(
          (e): RecoveryReport => ({ ...base, outcome: 'failed', runsOn: null, steps: [], error: errorMessage(e) }),
        );
      } finally {
        await onSource.releaseRecovery(r.id).catch(() => undefined);
      }
    } catch (e) {
      report = { ...base, outcome: 'failed', runsOn: null, steps: [], error: `could not claim it on ${r.from}: ${errorMessage(e)}` };
    } finally {
      sourceHost.dispose();
    }
    reports.push(report);
    await opts.onRecovered?.(r, report).catch((e) => logger().warn({ migration: r.id, err: errorMessage(e) }, 'recover: after-recovery step failed'));
  }
  return reports;
}

/**
 * A lone migration is finished when its target copy is healthy, undone otherwise. A group's
 * members move as one: finished together once any of them was switched (the point of no return),
 * otherwise undone together, healthy target copies included.
 */
export function groupMode(r: JournalRecord, all: JournalRecord[]): 'recover' | 'rollback' {
  if (!r.group) return 'recover';
  const members = all.filter((x) => x.group && r.group!.ids.includes(x.id));
  return members.some((x) => atLeast(x, 'switched')) ? 'recover' : 'rollback';
}

async function recoverOne(r: JournalRecord, hosts: HostsFile, opts: RecoverOptions, mode: 'recover' | 'rollback'): Promise<RecoveryReport> {
  const t = opts.config.commandTimeoutS;
  const source = new RemoteHost(findHost(hosts, r.from), { defaultTimeoutS: t });
  const target = new RemoteHost(findHost(hosts, r.to), { defaultTimeoutS: t });
  const front = r.traffic ? new RemoteHost(findHost(hosts, r.traffic.front), { defaultTimeoutS: t }) : undefined;
  // The dead process's hold server died with it: recovery points HAProxy straight at a server.
  const traffic = front ? new TrafficSwitch({ container: r.container, front, hold: false }) : undefined;
  const journal = Journal.resume([new HostJournalStore(source), ...opts.stores], opts.stores, r);
  journal.startHeartbeat();
  try {
    logger().warn({ migration: r.id, container: r.container, phase: r.phase, owner: r.owner }, 'recovering an orphaned migration');
    const res = await reconcile(journal.record, mode, { config: opts.config, source, target, journal, traffic, events: opts.events });
    return { id: r.id, container: r.container, from: r.from, to: r.to, method: r.method, phase: r.phase, outcome: res.outcome, runsOn: res.runsOn, steps: res.steps, error: res.error };
  } finally {
    journal.stop();
    for (const h of [source, target, front]) h?.dispose();
  }
}
