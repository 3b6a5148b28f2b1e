import { describe, expect, it } from 'vitest';
import { withPick } from '../../../src/app/migrate.ts';
import { resolveTarget, type GroupSurvey, type SurveyQuestion } from '../../../src/app/resolve-target.ts';
import { loadConfig } from '../../../src/config.ts';
import { ErrorCode, type FerryError } from '../../../src/errors.ts';
import type { HostsFile } from '../../../src/hosts/inventory.ts';
import { MigrationEvents, type MigrationEvent } from '../../../src/migrate/events.ts';
import { renderReport } from '../../../src/migrate/report.ts';
import type { MigrationRequest } from '../../../src/migrate/request.ts';
import { report } from '../chat/fixtures.ts';
import { catchFerry } from '../catch-ferry.ts';
import { capabilities, groupedHost } from '../helpers/hosts.ts';

/**
 * The target resolved as runMigration and planMigration resolve it, the hosts' answers given as plain
 * data (what surveyOverSsh would have found over SSH): which members are asked, the pick, the event
 * the chat thread and the CLI show, and the request the hooks and the engine get.
 */

const GiB = 1024 ** 3;
const config = loadConfig({});
const spec = groupedHost;
const hosts: HostsFile = {
  environment: 'default',
  knownHostsFile: '',
  inventoryFile: '/inv',
  hosts: [spec('lab-1', ['ferry', 'cloud_a']), spec('lab-2', ['ferry', 'cloud-b']), spec('lab-3', ['ferry', 'cloud-b']), spec('lab-4', ['ferry', 'cloud-b'], 'no host key is pinned for it')],
};
const caps = capabilities;
const req: MigrationRequest = { id: 'm-20260301120000-a1b2c3', container: 'web1', from: 'lab-1', to: 'group:ferry', method: 'auto' };

/** A survey that hands back `answer` and records what it was asked. */
function surveyed(answer: GroupSurvey): { asked: SurveyQuestion[]; survey: (q: SurveyQuestion) => Promise<GroupSurvey> } {
  const asked: SurveyQuestion[] = [];
  return { asked, survey: async (q) => (asked.push(q), answer) };
}

/** The FerryError `p` rejects with, checked for `code`. */
async function rejection(p: Promise<unknown>, code: ErrorCode): Promise<FerryError> {
  const thrown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return catchFerry(() => {
    throw thrown;
  }, code);
}

function recorded(): { events: MigrationEvents; seen: MigrationEvent[] } {
  const events = new MigrationEvents();
  const seen: MigrationEvent[] = [];
  events.on('event', (e) => seen.push(e));
  return { events, seen };
}

describe('resolveTarget', () => {
  it('leaves a host target as it is, asking no host', async () => {
    const s = surveyed({ source: caps('lab-1'), memoryBytes: 0, candidates: [] });
    const r = await resolveTarget({ ...req, to: 'lab-2' }, { config, hosts, survey: s.survey });
    expect(r).toEqual({ req: { ...req, to: 'lab-2' } });
    expect(s.asked).toEqual([]);
  });

  it('asks the members but the source and the unusable ones, picks one, says so, and names it in the request', async () => {
    const { events, seen } = recorded();
    const s = surveyed({
      source: caps('lab-1'),
      memoryBytes: 256 * 1024 ** 2,
      candidates: [
        { host: 'lab-2', capabilities: caps('lab-2'), freeMemoryBytes: 6 * GiB, containers: 1 },
        { host: 'lab-3', capabilities: caps('lab-3'), freeMemoryBytes: 2 * GiB, containers: 0 },
      ],
    });
    const r = await resolveTarget(req, { config, hosts, events, survey: s.survey });
    expect(s.asked.map((q) => ({ container: q.container, source: q.source.name, members: q.members.map((m) => m.name) }))).toEqual([{ container: 'web1', source: 'lab-1', members: ['lab-2', 'lab-3'] }]);
    expect(r.req).toEqual({ ...req, to: 'lab-2' });
    expect(req.to).toBe('group:ferry'); // the request as asked for is not changed
    const reason =
      'lab-2 from group ferry: it has the most free memory (6.0 GiB, against 2.0 GiB on lab-3). Passed over: lab-1 (the source); lab-4 (not usable: no host key is pinned for it).';
    expect(r.pick).toMatchObject({ group: 'ferry', host: 'lab-2', reason });
    expect(seen).toEqual([{ type: 'target', group: 'ferry', host: 'lab-2', reason }]);
  });

  it('checks the method asked for from the probed source, and the container\'s memory', async () => {
    const s = surveyed({
      source: caps('lab-1'),
      memoryBytes: 3 * GiB,
      candidates: [
        { host: 'lab-2', capabilities: caps('lab-2', { uffd: false }), freeMemoryBytes: 8 * GiB, containers: 0 },
        { host: 'lab-3', capabilities: caps('lab-3'), freeMemoryBytes: 4 * GiB, containers: 5 },
      ],
    });
    const r = await resolveTarget({ ...req, method: 'lazy' }, { config, hosts, survey: s.survey });
    expect(r.req.to).toBe('lab-3');
    expect(r.pick?.passedOver).toContainEqual({ host: 'lab-2', why: expect.stringContaining('userfaultfd') });
  });

  it('refuses a group no member of which can take the container, naming each and why, and emits no pick', async () => {
    const { events, seen } = recorded();
    const s = surveyed({
      source: caps('lab-1'),
      memoryBytes: 3 * GiB,
      candidates: [
        { host: 'lab-2', capabilities: null, freeMemoryBytes: 0, containers: 0, error: 'SSH connection to lab-2 failed: connect ETIMEDOUT' },
        { host: 'lab-3', capabilities: caps('lab-3'), freeMemoryBytes: 1 * GiB, containers: 0 },
      ],
    });
    const e = await rejection(resolveTarget(req, { config, hosts, events, survey: s.survey }), ErrorCode.NoTargetInGroup);
    expect(e.message).toBe(
      'no member of group ferry can take the container: lab-1 (the source); lab-2 (unreachable (its probe failed: SSH connection to lab-2 failed: connect ETIMEDOUT)); ' +
        'lab-3 (1.0 GiB free, the container needs 3.0 GiB); lab-4 (not usable: no host key is pinned for it)',
    );
    expect(e.details).toMatchObject({ group: 'ferry', passedOver: expect.arrayContaining([{ host: 'lab-1', why: 'the source' }]) });
    expect(seen).toEqual([]);
  });

  it('refuses an unknown group before asking any host', async () => {
    const s = surveyed({ source: caps('lab-1'), memoryBytes: 0, candidates: [] });
    const e = await rejection(resolveTarget({ ...req, to: 'group:cloud-c' }, { config, hosts, survey: s.survey }), ErrorCode.UnknownGroup);
    expect(e.message).toBe("unknown group 'cloud-c': did you mean group:cloud-b or group:cloud_a?");
    expect(s.asked).toEqual([]);
  });
});

describe('withPick', () => {
  it('puts the group and the reason in the report, which prints them under its head line', () => {
    const r = withPick(report({ from: 'lab-1', to: 'lab-2', runsOn: 'lab-2' }), { group: 'ferry', host: 'lab-2', reason: 'lab-2 from group ferry: the only member that can take it (2.0 GiB free, 0 containers).', passedOver: [] });
    expect(r.groupTarget).toEqual({ group: 'ferry', reason: 'lab-2 from group ferry: the only member that can take it (2.0 GiB free, 0 containers).' });
    expect(renderReport(r).split('\n').slice(0, 2)).toEqual([
      `web1 moved from lab-1 to lab-2 (migration ${r.id})`,
      'target: lab-2 from group ferry: the only member that can take it (2.0 GiB free, 0 containers).',
    ]);
    expect(withPick(report(), undefined)).toEqual(report());
  });
});
