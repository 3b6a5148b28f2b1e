import { describe, expect, it } from 'vitest';
import { MigrationEvents } from '../../../src/migrate/events.ts';
import { PhaseRecorder, phasesFromEvents } from '../../../src/probe/phases.ts';

describe('phasesFromEvents', () => {
  it('pairs starts with ends, keeps repeated phases, and adds the downtime band', () => {
    const phases = phasesFromEvents(
      [
        { atMs: 0, event: { type: 'phase-start', phase: 'preflight' } },
        { atMs: 5, event: { type: 'phase-end', phase: 'preflight', seconds: 0.005 } },
        { atMs: 10, event: { type: 'phase-start', phase: 'pre-copy' } },
        { atMs: 20, event: { type: 'phase-end', phase: 'pre-copy', seconds: 0.01 } },
        { atMs: 21, event: { type: 'phase-start', phase: 'pre-copy' } },
        { atMs: 25, event: { type: 'phase-end', phase: 'pre-copy', seconds: 0.004 } },
        { atMs: 30, event: { type: 'frozen' } },
        { atMs: 30, event: { type: 'phase-start', phase: 'checkpoint' } },
        { atMs: 40, event: { type: 'phase-end', phase: 'checkpoint', seconds: 0.01 } },
        { atMs: 41, event: { type: 'phase-start', phase: 'health' } },
        { atMs: 50, event: { type: 'phase-end', phase: 'health', seconds: 0.009 } },
        { atMs: 51, event: { type: 'phase-start', phase: 'cleanup' } },
      ],
      60,
    );
    expect(phases).toEqual([
      { name: 'preflight', startMs: 0, endMs: 5 },
      { name: 'pre-copy', startMs: 10, endMs: 20 },
      { name: 'pre-copy', startMs: 21, endMs: 25 },
      { name: 'checkpoint', startMs: 30, endMs: 40 },
      { name: 'downtime', startMs: 30, endMs: 50 },
      { name: 'health', startMs: 41, endMs: 50 },
      { name: 'cleanup', startMs: 51, endMs: 60 },
    ]);
  });

  it('PhaseRecorder stamps engine events with the given clock', () => {
    const events = new MigrationEvents();
    let now = 100;
    const rec = new PhaseRecorder(events, () => now);
    events.emitEvent({ type: 'phase-start', phase: 'transfer' });
    now = 250;
    events.emitEvent({ type: 'phase-end', phase: 'transfer', seconds: 0.15 });
    rec.dispose();
    events.emitEvent({ type: 'phase-start', phase: 'restore' });
    expect(rec.phases()).toEqual([{ name: 'transfer', startMs: 100, endMs: 250 }]);
    expect(rec.timeline()).toHaveLength(2);
  });
});
