import { runMigration } from '../../app/migrate.ts';
import { planMigration, renderPlan, type DryRunResult } from '../../app/plan.ts';
import { loadConfig } from '../../config.ts';
import { ErrorCode, FerryError, errorHint, toFerryError } from '../../errors.ts';
import { MigrationEvents, type MigrationEvent } from '../../migrate/events.ts';
import { METHODS, parseMethod } from '../../migrate/methods.ts';
import { renderGroupReport, renderReport, type MigrationReport } from '../../migrate/report.ts';
import { runGroupMigration } from '../../app/group.ts';
import { newMigrationId, type MigrationRequest } from '../../migrate/request.ts';
import type { HoldMode } from '../../traffic/detect.ts';
import { GROUP_TARGET_PREFIX, validateName, validateTarget } from '../../util/names.ts';
import { numberFlag, parseFlags, usageError, type Command, type Output } from '../command.ts';
import { os } from '../os-user.ts';

export function describeEvent(e: MigrationEvent): string | null {
  switch (e.type) {
    case 'target':
      return `target: ${e.reason}`;
    case 'method':
      return `method ${e.method}: ${e.reason}`;
    case 'phase-start':
      return `${e.phase}${e.detail ? ` (${e.detail})` : ''} …`;
    case 'phase-end':
      return `${e.phase}${e.detail ? ` (${e.detail})` : ''} done in ${e.seconds.toFixed(2)} s`;
    case 'round':
      return `pre-copy round ${e.round}: ${e.pagesWritten} pages written, ${e.pagesSkipped} skipped`;
    case 'info':
      return e.message;
    case 'frozen':
      return 'container frozen';
    case 'rollback':
      return `rolling back: ${e.reason}`;
  }
}

const SYNOPSIS =
  'ferry migrate (NAME | --group GROUP) --from HOST --to (HOST | group:NAME) [--method M] [--dry-run] [--json | --format text|json|summary+json] [--quiet] [--hold | --no-hold] [--probe N [--probe-post] [--probe-port P]]';

/** How the result is printed on stdout. */
export const FORMATS = ['text', 'json', 'summary+json'] as const;
export type Format = (typeof FORMATS)[number];

/** What `ferry migrate` prints as text: the report's table, and the load probe's line when one ran (pure). */
export function reportText(report: MigrationReport): string {
  const p = report.probe;
  const probe = p ? `\nload probe: ${p.requests} requests, ${p.failures} failed, p50 ${p.p50Ms.toFixed(0)} ms, p99 ${p.p99Ms.toFixed(0)} ms, max ${p.maxMs.toFixed(0)} ms; ${p.csv}, ${p.png}` : '';
  return renderReport(report) + probe;
}

/**
 * stdout in each format (pure). `summary+json` is one JSON object holding the text Ferry prints
 * and the data, so a caller (playbooks/migrate.yml) shows the same summary without rendering it
 * again: `{ summary, report }`, `{ summary, plan }` for a dry run, `{ summary, error }` on failure.
 */
export function formatResult(format: Format, r: { report: MigrationReport } | { plan: DryRunResult } | { error: FerryError }): string {
  const [text, key, data] = 'report' in r ? [reportText(r.report), 'report', r.report] : 'plan' in r ? [renderPlan(r.plan), 'plan', r.plan] : [errorText(r.error), 'error', r.error.toJSON()];
  if (format === 'text') return text;
  if (format === 'json') return JSON.stringify(key === 'error' ? { error: data } : data, null, 2);
  return JSON.stringify({ summary: text, [key]: data }, null, 2);
}

/** An error as main() prints it on stderr. */
function errorText(e: FerryError): string {
  const hint = errorHint(e.code);
  return `ferry: ${e.message} [${e.code}]${hint ? `\nferry: ${hint}` : ''}`;
}

function parseFormat(format: string | undefined, json: boolean | undefined): Format {
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) throw new FerryError(ErrorCode.UsageError, `--format must be one of ${FORMATS.join(', ')} (got '${format}')`);
  if (json && format !== undefined && format !== 'json') throw new FerryError(ErrorCode.UsageError, `--json and --format ${format} exclude each other`);
  return json ? 'json' : ((format as Format | undefined) ?? 'text');
}

export const migrateCommand: Command = {
  name: 'migrate',
  synopsis: SYNOPSIS,
  summary: 'move a running container between two hosts',
  details: [
    '--to group:NAME the member of an inventory group best able to take the container, picked when it runs (never the',
    '                source): it must answer the probe, run the method and have free memory for the container; then',
    '                soft-dirty tracking, the most free memory, the fewest containers, the name. The pick and why are',
    '                printed and in the report (groupTarget); with --dry-run, the member that would be picked now',
    `--method M      auto (default: the fastest method both hosts support), ${METHODS.join(', ')}`,
    '--dry-run       say what would happen (target picked, provision check, Terraform plan, probe, method, hooks); change nothing',
    '--json          print the full report as JSON (every Table II column, CRIU statistics, bytes moved); a failure as {"error": …}',
    '--format F      text (default), json (= --json), or summary+json: {"summary": the text, "report"|"plan"|"error": the data}',
    '--quiet         no progress lines on stderr',
    '--group GROUP   move every container of a group (deploy labels them) as one: one freeze window, restored in order (to a host)',
    '--hold          hold clients through the freeze (needs HAProxy in front: ferry front); the default where HAProxy fronts it',
    '--no-hold       switch traffic without holding clients',
    '--probe N       run N concurrent clients through the migration and write a CSV and a response-time plot',
    '--probe-post    the probe POSTs a body with each request',
    '--probe-port P  the port the probe targets (default 80: HAProxy)',
    'hooks: the pre_migrate, post_migrate and on_rollback playbooks the inventory names run around the migration; their output goes to stderr',
    'exit status: 0 moved (or, with --dry-run, would move), 1 refused or rolled back, 2 usage',
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        from: { type: 'string' },
        to: { type: 'string' },
        method: { type: 'string', default: 'auto' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        format: { type: 'string' },
        quiet: { type: 'boolean' },
        hold: { type: 'boolean' },
        'no-hold': { type: 'boolean' },
        probe: { type: 'string' },
        'probe-port': { type: 'string', default: '80' },
        'probe-post': { type: 'boolean' },
        group: { type: 'string' },
      },
      SYNOPSIS,
    );
    if (values.group) return migrateGroup(values.group, positionals, values, io);
    const [container] = positionals;
    if (!container || !values.from || !values.to || positionals.length > 1) throw usageError(SYNOPSIS);
    if (values.hold && values['no-hold']) throw new FerryError(ErrorCode.UsageError, '--hold and --no-hold exclude each other');
    // Everything that can be checked without a host is checked before one is contacted.
    validateName('container', container);
    validateName('host', values.from);
    validateTarget(values.to);
    const method = parseMethod(values.method!);
    const clients = numberFlag('probe', values.probe, { min: 1, max: 1000, integer: true });
    const port = numberFlag('probe-port', values['probe-port'], { min: 1, max: 65535, integer: true });
    const hold: HoldMode = values.hold ? 'on' : values['no-hold'] ? 'off' : 'auto';
    const format = parseFormat(values.format, values.json);
    if (values['dry-run'] && clients) throw new FerryError(ErrorCode.UsageError, '--probe needs a migration to watch: it does not go with --dry-run');
    const config = loadConfig();
    const stamp = () => `[${new Date().toISOString().slice(11, 23)}]`;
    const events = new MigrationEvents();
    if (!values.quiet) {
      events.on('event', (e) => {
        const line = describeEvent(e);
        if (line) io.err(`${stamp()} ${line}`);
      });
    }
    const req: MigrationRequest = { id: newMigrationId(), container, from: values.from, to: values.to, method, requestedBy: `cli:${os.user()}`, requestedAt: new Date().toISOString() };
    try {
      if (values['dry-run']) {
        const plan = await planMigration({ ...req, dryRun: true }, { config, events, onStep: values.quiet ? undefined : (s) => io.err(`${stamp()} ${s.step} ${s.state}${s.detail ? ` (${s.detail})` : ''}`) });
        io.out(formatResult(format, { plan }));
        return 0;
      }
      const report = await runMigration(req, {
        config,
        events,
        hold,
        provision: false,
        probe: clients ? { clients, port, post: values['probe-post'] } : undefined,
        onHookOutput: values.quiet ? undefined : (o) => o.lines.forEach((l) => io.err(`${stamp()} ${o.hook} | ${l}`)),
      });
      io.out(formatResult(format, { report }));
      return report.outcome === 'migrated' ? 0 : 1;
    } catch (e) {
      // A caller reading stdout gets the failure there too; main() still says it on stderr and sets the exit code.
      if (format !== 'text') io.out(formatResult(format, { error: toFerryError(e) }));
      throw e;
    }
  },
};

async function migrateGroup(
  group: string,
  positionals: string[],
  values: { from?: string; to?: string; method?: string; json?: boolean; quiet?: boolean; hold?: boolean; 'no-hold'?: boolean; 'dry-run'?: boolean },
  io: Output,
): Promise<number> {
  if (positionals.length || !values.from || !values.to) throw usageError(SYNOPSIS, '--group takes no container name');
  // Planning is per container: a group's "dry run" would have moved the group.
  if (values['dry-run']) throw new FerryError(ErrorCode.UsageError, '--dry-run does not go with --group: a dry run checks one container, so run one for each member (nothing was done)');
  validateName('group', group);
  validateName('host', values.from);
  if (values.to.startsWith(GROUP_TARGET_PREFIX)) throw new FerryError(ErrorCode.UsageError, '--group moves every member to one host: give --to a host (a target group, --to group:NAME, picks a host for one container); nothing was done');
  validateName('host', values.to);
  const method = parseMethod(values.method!);
  const config = loadConfig();
  const report = await runGroupMigration(group, values.from, values.to, {
    config,
    method,
    hold: values.hold ? 'on' : values['no-hold'] ? 'off' : 'auto',
    onMember: (name, events) => {
      if (values.quiet) return;
      events.on('event', (e) => {
        const line = describeEvent(e);
        if (line) io.err(`[${new Date().toISOString().slice(11, 23)}] ${name}: ${line}`);
      });
    },
  });
  io.out(values.json ? JSON.stringify(report, null, 2) : renderGroupReport(report));
  return report.outcome === 'migrated' ? 0 : 1;
}
