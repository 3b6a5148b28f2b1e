import { describe, expect, it } from 'vitest';
import { applyEvent, applyMemberEvent, groupReportStatus, queuedStatus, reportStatus, type StatusView } from '../../../../src/chat/core/status.ts';
import type { MigrationEvent } from '../../../../src/migrate/events.ts';
import { ID, report } from '../fixtures.ts';

const queued = queuedStatus({ id: ID, container: 'web1', from: 'aws-1', to: 'gcp-1', method: 'auto', requesterId: 'U0ALICE01', approverId: 'U0BOB0001' });
const fold = (events: MigrationEvent[], s: StatusView = queued) => events.reduce(applyEvent, s);

describe('queuedStatus', () => {
  it('starts queued with nothing finished', () => {
    expect(queued).toEqual({ id: ID, container: 'web1', from: 'aws-1', to: 'gcp-1', method: 'auto', requesterId: 'U0ALICE01', approverId: 'U0BOB0001', status: 'queued', finished: [] });
  });
});

describe('applyEvent', () => {
  it('moves to running on the first event and records the chosen method', () => {
    const s = applyEvent({ ...queued, position: 2 }, { type: 'method', method: 'page-server', reason: 'no soft-dirty' });
    expect(s.status).toBe('running');
    expect(s.position).toBeUndefined();
    expect(s.method).toBe('page-server');
    expect(s.methodReason).toBe('no soft-dirty');
  });

  it('tracks the current phase and the finished ones', () => {
    const s = fold([
      { type: 'phase-start', phase: 'preflight' },
      { type: 'phase-end', phase: 'preflight', seconds: 0.4 },
      { type: 'phase-start', phase: 'checkpoint', detail: 'final dump' },
    ]);
    expect(s.phase).toBe('checkpoint');
    expect(s.phaseDetail).toBe('final dump');
    expect(s.finished).toEqual([{ phase: 'preflight', seconds: 0.4 }]);
  });

  it('clears the current phase when it ends, keeping its detail in the finished list', () => {
    const s = fold([
      { type: 'phase-start', phase: 'pre-dump', detail: 'round 1' },
      { type: 'phase-end', phase: 'pre-dump', seconds: 1, detail: 'round 1' },
    ]);
    expect(s.phase).toBeUndefined();
    expect(s.finished).toEqual([{ phase: 'pre-dump', seconds: 1, detail: 'round 1' }]);
  });

  it('records rounds, the freeze, notes and a rollback', () => {
    const s = fold([
      { type: 'round', round: 3, pagesWritten: 10, pagesSkipped: 5, seconds: 0.1 },
      { type: 'frozen' },
      { type: 'info', message: 'page server listening' },
      { type: 'rollback', reason: 'restore failed' },
    ]);
    expect(s).toMatchObject({ rounds: 3, frozen: true, note: 'page server listening', rollbackReason: 'restore failed' });
  });

  it('does not change its input', () => {
    const before = structuredClone(queued);
    applyEvent(queued, { type: 'phase-end', phase: 'preflight', seconds: 1 });
    expect(queued).toEqual(before);
  });

  it('stays JSON-serializable (for job progress)', () => {
    const s = fold([{ type: 'method', method: 'normal', reason: 'asked' }, { type: 'phase-start', phase: 'transfer' }]);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(JSON.parse(JSON.stringify(s))).toMatchObject({ status: 'running', method: 'normal', phase: 'transfer' });
  });
});

describe('reportStatus', () => {
  it('ends done with the report’s timings and host', () => {
    const s = reportStatus(fold([{ type: 'phase-start', phase: 'switch' }]), report());
    expect(s).toMatchObject({ status: 'done', method: 'pc-ps-rsync', runsOn: 'gcp-1', totalSeconds: 9.87, downtimeSeconds: 1.4249 });
    expect(s.phase).toBeUndefined();
  });

  it('ends rolled-back with the error and where the container runs', () => {
    const s = reportStatus(queued, report({ outcome: 'rolled-back', runsOn: 'aws-1', error: 'restore failed', times: { ...report().times, downtime: null } }));
    expect(s).toMatchObject({ status: 'rolled-back', runsOn: 'aws-1', error: 'restore failed' });
    expect(s.downtimeSeconds).toBeUndefined();
  });
});

describe('a group’s status', () => {
  const g = queuedStatus({ id: ID, group: 'blog', from: 'aws-1', to: 'gcp-1', method: 'auto' });
  const member = (container: string, runsOn: string) => report({ container, runsOn, method: 'page-server', reason: 'no soft-dirty' });

  it('starts queued, naming the group and no container', () => {
    expect(g).toEqual({ id: ID, group: 'blog', from: 'aws-1', to: 'gcp-1', method: 'auto', status: 'queued', finished: [] });
  });

  it('keeps a member’s finished phases as that member’s', () => {
    const s = applyMemberEvent(applyMemberEvent(g, { type: 'phase-end', phase: 'checkpoint', seconds: 0.5 }, 'blog-db'), { type: 'phase-end', phase: 'checkpoint', seconds: 0.7, detail: 'final dump' }, 'blog-web');
    expect(s.status).toBe('running');
    expect(s.finished).toEqual([
      { phase: 'checkpoint', seconds: 0.5, member: 'blog-db' },
      { phase: 'checkpoint', seconds: 0.7, detail: 'final dump', member: 'blog-web' },
    ]);
  });

  it('ends with the group’s window, and one host when every member runs there', () => {
    const s = groupReportStatus(g, { group: 'blog', outcome: 'migrated', from: 'aws-1', to: 'gcp-1', members: [member('blog-db', 'gcp-1'), member('blog-web', 'gcp-1')], times: { downtime: 2.1, total: 6 } });
    expect(s).toMatchObject({ status: 'done', group: 'blog', method: 'page-server', methodReason: 'no soft-dirty', runsOn: 'gcp-1', totalSeconds: 6, downtimeSeconds: 2.1 });
    expect(s.membersOn).toBeUndefined();
  });

  it('says where each member runs when they are apart', () => {
    const s = groupReportStatus(g, { group: 'blog', outcome: 'rolled-back', from: 'aws-1', to: 'gcp-1', members: [member('blog-db', 'gcp-1'), member('blog-web', 'aws-1')], times: { downtime: null, total: 6 }, error: 'blog-web: boom' });
    expect(s).toMatchObject({ status: 'rolled-back', error: 'blog-web: boom', membersOn: [{ container: 'blog-db', runsOn: 'gcp-1' }, { container: 'blog-web', runsOn: 'aws-1' }] });
    expect(s.runsOn).toBeUndefined();
    expect(s.downtimeSeconds).toBeUndefined();
  });
});
