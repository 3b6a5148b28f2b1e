import type { Queue } from 'bullmq';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ErrorCode, decodeError } from '../errors.ts';
import { PHASE_COLUMNS } from '../migrate/clock.ts';
import type { MigrationReport } from '../migrate/report.ts';
import type { JobResult, MigrationJobData } from './jobs.ts';

/** A Table II column as a metric label: `preDump` → `pre_dump`. */
const PHASE_LABEL = (c: string) => c.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);

/** How a job ended, as the `outcome` label says it. */
export type MetricOutcome = 'migrated' | 'rolled-back' | 'failed' | 'cancelled' | 'dry-run';

/**
 * Ferry's Prometheus metrics, fed by the worker's job results (see createMigrationWorker): migrations
 * by method and outcome, and histograms of downtime and of each Table II phase of the migrations that
 * moved. `render()` adds the queue's own counts (BullMQ's exporter). One per process
 * ({@link ferryMetrics}); tests make their own.
 */
export class FerryMetrics {
  readonly registry: Registry;
  private readonly migrations: Counter<'method' | 'outcome'>;
  private readonly downtime: Histogram<'method'>;
  private readonly phases: Histogram<'method' | 'phase'>;

  /** @param opts.processMetrics - Node's own metrics (CPU, memory, event loop). @defaultValue true */
  constructor(opts: { processMetrics?: boolean } = {}) {
    this.registry = new Registry();
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'ferry_process_' });
    this.migrations = new Counter({
      name: 'ferry_migrations_total',
      help: 'Migrations run by the workers of this process, by method (the one that ran; the one asked for when the job failed before choosing) and outcome',
      labelNames: ['method', 'outcome'],
      registers: [this.registry],
    });
    this.downtime = new Histogram({
      name: 'ferry_migration_downtime_seconds',
      help: 'Downtime of migrations that moved their container: from the freeze to the first successful health check on the target',
      labelNames: ['method'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [this.registry],
    });
    this.phases = new Histogram({
      name: 'ferry_migration_phase_seconds',
      help: "Each Table II phase of migrations that moved their container (pre_dump, pre_copy, pre_migration, checkpoint, transfer, restore, downtime, total); a phase the method does not have is not observed",
      labelNames: ['method', 'phase'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers: [this.registry],
    });
  }

  /** A finished job (BullMQ's `completed`): a migration's report, a group's (one count per member), or a dry run's plan. */
  recordResult(result: JobResult): void {
    if (result.dryRun) return void this.migrations.inc({ method: result.method, outcome: 'dry-run' });
    // A group's members are migrations each (its own window is in its report, not a metric).
    if ('group' in result) return void result.group.members.forEach((r) => this.recordReport(r));
    this.recordReport(result.report);
  }

  private recordReport(r: MigrationReport): void {
    this.migrations.inc({ method: r.method, outcome: r.outcome });
    // A rolled-back migration's phases stop wherever it failed: they would skew the histograms.
    if (r.outcome !== 'migrated') return;
    if (r.times.downtime !== null) this.downtime.observe({ method: r.method }, r.times.downtime);
    for (const c of PHASE_COLUMNS) {
      const s = r.times[c];
      if (s !== null) this.phases.observe({ method: r.method, phase: PHASE_LABEL(c) }, s);
    }
  }

  /** A failed job (BullMQ's `failed`, its reason as the worker encoded it): failed, or cancelled before the freeze. */
  recordFailure(data: MigrationJobData, failedReason: string): void {
    const outcome: MetricOutcome = decodeError(failedReason).code === ErrorCode.Cancelled ? 'cancelled' : 'failed';
    this.migrations.inc({ method: data.method, outcome });
  }

  /** The exposition text: Ferry's metrics, then the queue's job counts by state (BullMQ's own exporter). */
  async render(queue?: Queue): Promise<string> {
    const own = await this.registry.metrics();
    return queue ? `${own.trimEnd()}\n${await queue.exportPrometheusMetrics()}\n` : own;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

let shared: FerryMetrics | undefined;

/** This process's metrics: the worker feeds them, the bot's and the worker's /metrics show them. */
export function ferryMetrics(): FerryMetrics {
  return (shared ??= new FerryMetrics());
}
