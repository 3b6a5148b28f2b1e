import { runMigration } from '../../app/migrate.ts';
import { loadConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { MigrationEvents, type MigrationEvent } from '../../migrate/events.ts';
import { METHODS, parseMethod } from '../../migrate/methods.ts';
import { renderGroupReport, renderReport } from '../../migrate/report.ts';
import { runGroupMigration } from '../../app/group.ts';
import { newMigrationId } from '../../migrate/request.ts';
import type { HoldMode } from '../../traffic/detect.ts';
import { validateName } from '../../util/names.ts';
import { numberFlag, parseFlags, usageError, type Command, type Output } from '../command.ts';
import { os } from '../os-user.ts';

export function describeEvent(e: MigrationEvent): string | null {
  switch (e.type) {
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

const SYNOPSIS = 'ferry migrate (NAME | --group GROUP) --from HOST --to HOST [--method M] [--json] [--quiet] [--hold | --no-hold] [--probe N [--probe-post] [--probe-port P]]';

export const migrateCommand: Command = {
  name: 'migrate',
  synopsis: SYNOPSIS,
  summary: 'move a running container between two hosts',
  details: [
    `--method M      auto (default: the fastest method both hosts support), ${METHODS.join(', ')}`,
    '--json          print the full report as JSON (every Table II column, CRIU statistics, bytes moved)',
    '--quiet         no progress lines on stderr',
    '--group GROUP   move every container of a group (deploy labels them) as one: one freeze window, restored in order',
    '--hold          hold clients through the freeze (needs HAProxy in front: ferry front); the default where HAProxy fronts it',
    '--no-hold       switch traffic without holding clients',
    '--probe N       run N concurrent clients through the migration and write a CSV and a response-time plot',
    '--probe-post    the probe POSTs a body with each request',
    '--probe-port P  the port the probe targets (default 80: HAProxy)',
    'exit status: 0 moved, 1 refused or rolled back, 2 usage',
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        from: { type: 'string' },
        to: { type: 'string' },
        method: { type: 'string', default: 'auto' },
        json: { type: 'boolean' },
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
    validateName('host', values.to);
    const method = parseMethod(values.method!);
    const clients = numberFlag('probe', values.probe, { min: 1, max: 1000, integer: true });
    const port = numberFlag('probe-port', values['probe-port'], { min: 1, max: 65535, integer: true });
    const hold: HoldMode = values.hold ? 'on' : values['no-hold'] ? 'off' : 'auto';
    const config = loadConfig();
    const events = new MigrationEvents();
    if (!values.quiet) {
      events.on('event', (e) => {
        const line = describeEvent(e);
        if (line) io.err(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
      });
    }
    const report = await runMigration(
      { id: newMigrationId(), container, from: values.from, to: values.to, method, requestedBy: `cli:${os.user()}`, requestedAt: new Date().toISOString() },
      { config, events, hold, provision: false, probe: clients ? { clients, port, post: values['probe-post'] } : undefined },
    );
    io.out(values.json ? JSON.stringify(report, null, 2) : renderReport(report));
    if (!values.json && report.probe) {
      const p = report.probe;
      io.out(`load probe: ${p.requests} requests, ${p.failures} failed, p50 ${p.p50Ms.toFixed(0)} ms, p99 ${p.p99Ms.toFixed(0)} ms, max ${p.maxMs.toFixed(0)} ms; ${p.csv}, ${p.png}`);
    }
    return report.outcome === 'migrated' ? 0 : 1;
  },
};

async function migrateGroup(group: string, positionals: string[], values: { from?: string; to?: string; method?: string; json?: boolean; quiet?: boolean; hold?: boolean; 'no-hold'?: boolean }, io: Output): Promise<number> {
  if (positionals.length || !values.from || !values.to) throw usageError(SYNOPSIS, '--group takes no container name');
  validateName('group', group);
  validateName('host', values.from);
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
