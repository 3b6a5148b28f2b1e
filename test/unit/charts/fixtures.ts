/**
 * Synthetic chart inputs, deterministic (seeded). Nothing here is a measurement: the shapes
 * follow what Ferry's own runs reported (README: page-server with the hold server, downtime
 * about 1.25 s; the 256 MiB benchmark table), so the example pictures look like real ones.
 */
import type { DowntimePoint } from '../../../src/charts/downtime-by-size.ts';
import type { PhaseBreakdownRow } from '../../../src/charts/phase-breakdown.ts';
import type { MigrationEvent } from '../../../src/migrate/events.ts';
import { phasesFromEvents, type PhaseSpan, type TimedEvent } from '../../../src/probe/phases.ts';
import type { Sample } from '../../../src/probe/samples.ts';

/** mulberry32: a tiny seeded generator, so every run draws the same picture. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-normal around `median` ms. */
function latency(rand: () => number, median: number, sigma: number): number {
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return median * Math.exp(sigma * z);
}

/** The engine's events of a page-server migration, on the probe's clock (ms). */
export const HOLD_TIMELINE: readonly TimedEvent[] = (
  [
    [100, { type: 'phase-start', phase: 'preflight' }],
    [150, { type: 'method', method: 'page-server', reason: 'no soft-dirty tracking on the source' }],
    [1300, { type: 'phase-end', phase: 'preflight', seconds: 1.2 }],
    [1300, { type: 'phase-start', phase: 'prepare' }],
    [2500, { type: 'phase-end', phase: 'prepare', seconds: 1.2 }],
    [2500, { type: 'phase-start', phase: 'switch', detail: 'divert traffic from the source' }],
    [2560, { type: 'phase-end', phase: 'switch', seconds: 0.06, detail: 'divert traffic from the source' }],
    [2560, { type: 'frozen' }],
    [2560, { type: 'phase-start', phase: 'checkpoint' }],
    [3150, { type: 'phase-end', phase: 'checkpoint', seconds: 0.59 }],
    [3150, { type: 'phase-start', phase: 'transfer' }],
    [3580, { type: 'phase-end', phase: 'transfer', seconds: 0.43 }],
    [3580, { type: 'phase-start', phase: 'restore' }],
    [3770, { type: 'phase-end', phase: 'restore', seconds: 0.19 }],
    [3770, { type: 'phase-start', phase: 'health' }],
    [3810, { type: 'phase-end', phase: 'health', seconds: 0.04 }],
    [3810, { type: 'phase-start', phase: 'switch', detail: 'traffic to lab-2' }],
    [3860, { type: 'phase-end', phase: 'switch', seconds: 0.05, detail: 'traffic to lab-2' }],
    [3860, { type: 'phase-start', phase: 'cleanup' }],
    [5000, { type: 'phase-end', phase: 'cleanup', seconds: 1.14 }],
  ] as [number, MigrationEvent][]
).map(([atMs, event]) => ({ atMs, event }));

export const HOLD_END_MS = 5600;

export interface ProbeFixture {
  samples: Sample[];
  timeline: readonly TimedEvent[];
  phases: PhaseSpan[];
}

/**
 * A closed-loop probe through HAProxy during HOLD_TIMELINE. With `hold`, requests that start
 * once traffic is diverted wait at the hold server until the target is healthy, then are
 * answered; without it they are refused until traffic moves to the target.
 */
export function probeFixture({ hold = true, clients = 50, seed = 7 }: { hold?: boolean; clients?: number; seed?: number } = {}): ProbeFixture {
  const rand = seeded(seed);
  const divertAt = 2500;
  const healthyAt = 3810;
  const targetAt = hold ? healthyAt : 3860;
  const raw: Omit<Sample, 'seq'>[] = [];
  for (let client = 0; client < clients; client++) {
    let t = rand() * 30;
    while (t < HOLD_END_MS) {
      const held = t >= divertAt && t < targetAt;
      let s: Omit<Sample, 'seq'>;
      if (held && hold) s = { client, startMs: t, latencyMs: healthyAt - t + latency(rand, 12, 0.3), status: 200 };
      else if (held) s = { client, startMs: t, latencyMs: latency(rand, 20, 0.3), status: 503 };
      else {
        // A SYN now and then lost in the lab's busy bridge costs the kernel's 1 s retransmit.
        const retransmit = rand() < 0.004 ? 1000 : 0;
        s = { client, startMs: t, latencyMs: latency(rand, 35, 0.45) + retransmit, status: 200 };
      }
      raw.push(s);
      t += s.latencyMs;
    }
  }
  raw.sort((a, b) => a.startMs - b.startMs);
  const samples = raw.map((s, seq) => ({ seq, ...s }));
  return { samples, timeline: HOLD_TIMELINE, phases: phasesFromEvents(HOLD_TIMELINE, HOLD_END_MS) };
}

/**
 * Example benchmark cells: the 256 MiB means and sds are the README's measured table
 * (namespace lab, 5 runs); the other sizes and the Podman row are made up to show the chart.
 */
export const EXAMPLE_DOWNTIME: readonly DowntimePoint[] = [
  { method: 'normal', mib: 64, downtimeS: 0.98, sdS: 0.07 },
  { method: 'normal', mib: 256, downtimeS: 2.93, sdS: 0.2 },
  { method: 'normal', mib: 1024, downtimeS: 10.6, sdS: 0.6 },
  { method: 'page-server', mib: 64, downtimeS: 0.74, sdS: 0.05 },
  { method: 'page-server', mib: 256, downtimeS: 1.82, sdS: 0.1 },
  { method: 'page-server', mib: 1024, downtimeS: 6.1, sdS: 0.35 },
  { method: 'lazy', mib: 64, downtimeS: 0.95, sdS: 0.06 },
  { method: 'lazy', mib: 256, downtimeS: 1.07, sdS: 0.09 },
  { method: 'lazy', mib: 1024, downtimeS: 1.31, sdS: 0.11 },
  { method: 'podman', mib: 64, downtimeS: 1.9, sdS: 0.12 },
  { method: 'podman', mib: 256, downtimeS: 4.1, sdS: 0.25 },
  { method: 'podman', mib: 1024, downtimeS: 12.4, sdS: 0.8 },
];

/** Example bars: normal, page-server and lazy are the README's measured 256 MiB means; pc-ps-rsync is made up. */
export const EXAMPLE_BREAKDOWN: readonly PhaseBreakdownRow[] = [
  { method: 'normal', seconds: { checkpoint: 0.32, transfer: 2.3, restore: 0.3 } },
  { method: 'page-server', seconds: { checkpoint: 0.59, transfer: 0.94, restore: 0.29 } },
  { method: 'pc-ps-rsync', seconds: { preDump: 1.4, preCopy: 0.9, checkpoint: 0.21, transfer: 0.35, restore: 0.3 } },
  { method: 'lazy', seconds: { checkpoint: 0.2, transfer: 0.7, restore: 0.17 } },
];
