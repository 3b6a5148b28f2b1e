import { describe, expect, it } from 'vitest';
import { membersOf } from '../../../src/app/group.ts';
import { groupMode } from '../../../src/app/recover.ts';
import type { JournalRecord } from '../../../src/migrate/journal/record.ts';
import { groupTable, renderGroupReport, type MigrationReport } from '../../../src/migrate/report.ts';

const cfg = (group?: string, order?: string) => ({ annotations: { ...(group ? { 'org.ferry.group': group } : {}), ...(order ? { 'org.ferry.group.order': order } : {}) } });

describe('membersOf', () => {
  it('keeps the group\'s members in restore order, the database first', () => {
    const m = membersOf('blog', [
      { name: 'blog-web', config: cfg('blog', '1') },
      { name: 'other', config: cfg('shop', '0') },
      { name: 'blog-db', config: cfg('blog', '0') },
      { name: 'plain', config: {} },
    ]);
    expect(m).toEqual([
      { name: 'blog-db', order: 0 },
      { name: 'blog-web', order: 1 },
    ]);
  });

  it('orders members without an order by name', () => {
    expect(membersOf('g', [{ name: 'b', config: cfg('g') }, { name: 'a', config: cfg('g') }]).map((x) => x.name)).toEqual(['a', 'b']);
  });
});

describe('renderGroupReport', () => {
  const member = (container: string, downtime: number): MigrationReport => ({
    id: `m-${container}`,
    container,
    from: 'lab-1',
    to: 'lab-2',
    method: 'page-server',
    methodTitle: 'Page Server',
    reason: 'requested explicitly',
    outcome: 'migrated',
    runsOn: 'lab-2',
    times: { preDump: null, preCopy: null, preMigration: null, checkpoint: 0.5, transfer: 0.4, restore: 0.6, downtime, total: 4 },
    criu: null,
    bytes: { total: 1, rsync: 1, pages: 0 },
    rounds: [],
    health: 'TCP connect to :3306',
  });

  it('has a row per member and one for the group, with its one downtime window', () => {
    const text = renderGroupReport({ group: 'blog', outcome: 'migrated', from: 'lab-1', to: 'lab-2', members: [member('blog-db', 1.5), member('blog-web', 1.9)], times: { downtime: 2.1, total: 6 } });
    expect(text).toContain('group blog moved from lab-1 to lab-2');
    expect(text).toMatch(/blog-db \(Page Server\).*1\.50/);
    expect(text).toMatch(/blog-web \(Page Server\).*1\.90/);
    expect(text).toMatch(/group blog .*2\.10.*6\.00/);
  });

  it('groupTable (shared with the chat summary) can leave out columns and the method titles', () => {
    const g = { group: 'blog', outcome: 'migrated' as const, from: 'lab-1', to: 'lab-2', members: [member('blog-db', 1.5), member('blog-web', 1.9)], times: { downtime: 2.1, total: 6 } };
    expect(renderGroupReport(g)).toContain(groupTable(g));
    const lines = groupTable(g, { columns: ['downtime', 'total'], methods: false }).split('\n');
    expect(lines[0]).toMatch(/^Member\s+Outcome\s+Downtime \(s\)\s+Total \(s\)$/);
    expect(lines.slice(2)).toEqual([expect.stringMatching(/^blog-db\s+migrated\s+1\.50\s+4\.00$/), expect.stringMatching(/^blog-web\s+migrated\s+1\.90\s+4\.00$/), expect.stringMatching(/^group blog\s+migrated\s+2\.10\s+6\.00$/)]);
  });
});

describe('groupMode (recovery of a group)', () => {
  const rec = (id: string, phase: JournalRecord['phase'], group = true): JournalRecord => ({
    version: 1, id, container: id, from: 'a', to: 'b', method: 'page-server', traits: { pageServer: true, lazy: false, preCopy: false }, seq: 1, phase,
    owner: 'x:1', heartbeatAt: '', startedAt: '', updatedAt: '', ...(group ? { group: { name: 'blog', ids: ['m-db', 'm-web'] } } : {}),
  });
  it('finishes a lone migration whose target is healthy, as ever', () => {
    expect(groupMode(rec('m-x', 'healthy', false), [])).toBe('recover');
  });
  it('undoes a group none of whose members was switched, healthy ones included', () => {
    const all = [rec('m-db', 'healthy'), rec('m-web', 'restoring')];
    expect(groupMode(all[0]!, all)).toBe('rollback');
  });
  it('finishes a group once any member passed the switch', () => {
    const all = [rec('m-db', 'switched'), rec('m-web', 'healthy')];
    expect(groupMode(all[1]!, all)).toBe('recover');
  });
});
