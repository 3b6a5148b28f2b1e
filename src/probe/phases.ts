import type { MigrationEvent, MigrationEvents } from '../migrate/events.ts';

/** A phase on the probe's clock (ms since the probe started). */
export interface PhaseSpan {
  name: string;
  startMs: number;
  endMs: number;
}

/** A migration event stamped on the probe's clock. */
export interface TimedEvent {
  atMs: number;
  event: MigrationEvent;
}

/**
 * Phase bands from the engine's phase-start / phase-end events. A phase still open at the
 * end runs to `untilMs` (e.g. the probe's last sample); repeated phases (pre-copy rounds)
 * give one band each. Also a 'downtime' band from the 'frozen' event to the end of 'health'.
 */
export function phasesFromEvents(events: readonly TimedEvent[], untilMs: number): PhaseSpan[] {
  const open = new Map<string, number>();
  const out: PhaseSpan[] = [];
  let frozenAt: number | null = null;
  for (const { atMs, event } of events) {
    if (event.type === 'phase-start') open.set(event.phase, atMs);
    else if (event.type === 'frozen') frozenAt = atMs;
    else if (event.type === 'phase-end') {
      const start = open.get(event.phase);
      if (start === undefined) continue;
      open.delete(event.phase);
      out.push({ name: event.phase, startMs: start, endMs: atMs });
      if (event.phase === 'health' && frozenAt !== null) {
        out.push({ name: 'downtime', startMs: frozenAt, endMs: atMs });
        frozenAt = null;
      }
    }
  }
  for (const [name, start] of open) out.push({ name, startMs: start, endMs: Math.max(start, untilMs) });
  if (frozenAt !== null) out.push({ name: 'downtime', startMs: frozenAt, endMs: Math.max(frozenAt, untilMs) });
  return out.sort((a, b) => a.startMs - b.startMs);
}

/** Listens to a migration and stamps each event with `now()` (pass probe.elapsedMs). */
export class PhaseRecorder {
  private readonly log: TimedEvent[] = [];
  private readonly listener = (event: MigrationEvent): void => {
    this.log.push({ atMs: this.now(), event });
  };

  constructor(
    private readonly events: MigrationEvents,
    private readonly now: () => number,
  ) {
    events.on('event', this.listener);
  }

  timeline(): readonly TimedEvent[] {
    return this.log;
  }

  phases(untilMs = this.now()): PhaseSpan[] {
    return phasesFromEvents(this.log, untilMs);
  }

  dispose(): void {
    this.events.off('event', this.listener);
  }
}
