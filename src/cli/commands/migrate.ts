import { loadConfig } from '../../config.ts';
import { ErrorCode, FerryError } from '../../errors.ts';
import { loadHostsFile } from '../../hosts/inventory.ts';
import { MigrationEvents, type MigrationEvent } from '../../migrate/events.ts';
import { MigrationEngine } from '../../migrate/MigrationEngine.ts';
import { parseMethod } from '../../migrate/methods.ts';
import { renderReport } from '../../migrate/report.ts';
import { parseFlags, type Output } from '../main.ts';

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
  });
  const [container] = positionals;
  if (!container || !values.from || !values.to || positionals.length > 1) {
    throw new FerryError(ErrorCode.UsageError, 'usage: ferry migrate NAME --from HOST --to HOST [--method M] [--json]');
  }
  const config = loadConfig();
  const engine = new MigrationEngine(await loadHostsFile(config.hostsFile), config);
  const events = new MigrationEvents();
  if (!values.quiet) events.on('event', (e) => {
    const line = describeEvent(e);
    if (line) io.err(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
  });
  const report = await engine.migrate({ container, from: values.from, to: values.to, method: parseMethod(values.method!) }, events);
  io.out(values.json ? JSON.stringify(report, null, 2) : renderReport(report));
  return report.outcome === 'migrated' ? 0 : 1;
}
