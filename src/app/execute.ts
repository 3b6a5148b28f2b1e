import type { GroupReport, MigrationReport } from '../migrate/report.ts';
import type { MigrationRequest } from '../migrate/request.ts';
import { runMigration, type MigrationRun } from './migrate.ts';
import { planMigration, type DryRunResult } from './plan.ts';

export type RequestResult = { dryRun: false; report: MigrationReport } | DryRunResult;

/** A group's move as the queue carries its result (runGroupMigration's report; a group has no dry run). */
export type GroupRequestResult = { dryRun: false; group: GroupReport };

/** A request as chat and the queue carry it: a dry run is planned, anything else run. */
export async function executeRequest(req: MigrationRequest, run: MigrationRun): Promise<RequestResult> {
  if (req.dryRun) return planMigration(req, run);
  return { dryRun: false, report: await runMigration(req, run) };
}
