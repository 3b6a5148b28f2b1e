import { describe, expect, it } from 'vitest';
import { applyEvent, queuedStatus, reportStatus, type StatusView } from '../../../../src/chat/core/status.ts';
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
