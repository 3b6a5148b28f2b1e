import { localJournal } from '../../app/migrate.ts';
import { recoverOrphans, unfinished } from '../../app/recover.ts';
import { connectRedis } from '../../chat/runtime.ts';
import { loadConfig } from '../../config.ts';
import { MigrationEvents } from '../../migrate/events.ts';
import type { JournalStore } from '../../migrate/journal/stores.ts';
import { RedisJournalStore } from '../../queue/RedisJournalStore.ts';
import { afterRecovery, recoveryClaim } from '../../queue/recovery.ts';
import { renderTable } from '../../util/table.ts';
import { parseFlags, type Command } from '../command.ts';

const SYNOPSIS = 'ferry recover [--list] [--id ID] [--json]';

export const recoverCommand: Command = {
  name: 'recover',
  synopsis: SYNOPSIS,
  summary: 'finish or undo every migration whose process died (a killed `ferry migrate` or worker)',
  details: [
    'Reads the journals (this controller, Redis when REDIS_URL is set, and every host), then, for each migration',
    'whose owner is gone: finishes it when the target copy is restored and healthy, rolls it back otherwise',
    '(restoring from the images when the dump completed), puts HAProxy right and removes what it left.',
    'A migration whose process still runs is left alone. Workers do the same when they start.',
    '--list   only show the unfinished migrations',
    '--id ID  only this migration',
    'exit status: 0 nothing left unfinished, 1 something could not be recovered',
  ].join('\n'),
  async run(args, io) {
    const { values } = parseFlags(args, { list: { type: 'boolean' }, id: { type: 'string' }, json: { type: 'boolean' } }, SYNOPSIS);
    const config = loadConfig();
    const stores: JournalStore[] = [localJournal(config)];
    const redis = config.redisUrl ? (await connectRedis(config)).redis : undefined;
    if (redis) stores.push(new RedisJournalStore(redis));
    try {
      if (values.list) {
        const { records } = await unfinished({ config, stores, only: values.id });
        if (values.json) io.out(JSON.stringify(records, null, 2));
        else if (records.length === 0) io.out('no unfinished migrations');
        else io.out(renderTable(['id', 'container', 'from', 'to', 'method', 'phase', 'owner', 'heartbeat'], records.map((r) => [r.id, r.container, r.from, r.to, r.method, r.phase, r.owner, r.heartbeatAt])));
        return 0;
      }
      const events = new MigrationEvents();
      if (!values.json) events.on('event', (e) => e.type === 'info' && io.err(`  ${e.message}`));
      const reports = await recoverOrphans({
        config,
        stores,
        only: values.id,
        events,
        // As the workers' recovery does it (queue/recovery.ts): the same claims, released the same way.
        claim: redis ? recoveryClaim(redis) : undefined,
        onRecovered: redis ? (r, rep) => afterRecovery(redis, r, rep) : undefined,
      });
      if (values.json) io.out(JSON.stringify(reports, null, 2));
      else if (reports.length === 0) io.out('no unfinished migrations');
      else io.out(renderTable(['id', 'container', 'was at', 'outcome', 'runs on', 'why'], reports.map((r) => [r.id, r.container, r.phase, r.outcome, r.runsOn ?? '?', r.error ?? r.steps.at(-1) ?? ''])));
      return reports.some((r) => r.outcome === 'failed') ? 1 : 0;
    } finally {
      redis?.disconnect();
    }
  },
};
