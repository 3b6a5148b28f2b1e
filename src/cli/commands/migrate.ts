import { loadConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { loadHostsFile } from '../../hosts/inventory.ts';
import { MigrationEvents, type MigrationEvent } from '../../migrate/events.ts';
import { MigrationEngine } from '../../migrate/MigrationEngine.ts';
import { parseMethod } from '../../migrate/methods.ts';
import { renderReport } from '../../migrate/report.ts';
import { parseFlags, type Output } from '../main.ts';
import { findHost } from '../../hosts/inventory.ts';
import { newMigrationId } from '../../migrate/MigrationEngine.ts';
import { trafficFor, type HoldMode } from '../../traffic/detect.ts';
import { startProbe, writeProbeOutput } from '../../probe/probe-run.ts';
import { validateName } from '../../util/names.ts';

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

export async function migrateCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseFlags(args, {
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
  });
  const [container] = positionals;
  if (!container || !values.from || !values.to || positionals.length > 1) {
    throw new FerryError(ErrorCode.UsageError, 'usage: ferry migrate NAME --from HOST --to HOST [--method M] [--json]');
  }
  const config = loadConfig();
  const file = await loadHostsFile(config.hostsFile);
  const engine = new MigrationEngine(file, config);
  if (values.hold && values['no-hold']) throw new FerryError(ErrorCode.UsageError, '--hold and --no-hold exclude each other');
  validateName('container', container);
  // Everything that can be checked without a host is checked before one is contacted.
  const method = parseMethod(values.method!);
  validateName('host', values.to);
  const hold: HoldMode = values.hold ? 'on' : values['no-hold'] ? 'off' : 'auto';
  const traffic = await trafficFor(file, container, validateName('host', values.from), hold);
  const events = new MigrationEvents();
  if (!values.quiet) events.on('event', (e) => {
    const line = describeEvent(e);
    if (line) io.err(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
  });
  const id = newMigrationId();
  const probe = values.probe ? startProbe(`http://${findHost(file, values.from).address}:${values['probe-port']}/${values['probe-post'] ? 'cgi-bin/post' : 'counter'}`, events, { concurrency: Number(values.probe), post: values['probe-post'] }) : undefined;
  let report;
  try {
    report = await engine.migrate({ id, container, from: values.from, to: values.to, method, traffic: traffic?.sw }, events);
  } finally {
    traffic?.front.dispose();
  }
  if (probe) {
    const r = await probe.stop();
    const files = await writeProbeOutput(config.benchDir, id, r);
    report = { ...report, probe: { ...r.summary, csv: files.csv, png: files.png } };
  }
  io.out(values.json ? JSON.stringify(report, null, 2) : renderReport(report));
  if (!values.json && report.probe) {
    const p = report.probe;
    io.out(`load probe: ${p.requests} requests, ${p.failures} failed, p50 ${p.p50Ms.toFixed(0)} ms, p99 ${p.p99Ms.toFixed(0)} ms, max ${p.maxMs.toFixed(0)} ms; ${p.csv}, ${p.png}`);
  }
  return report.outcome === 'migrated' ? 0 : 1;
}
