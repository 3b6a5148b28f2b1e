import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertChartFont, type RenderOptions } from '../charts/render.ts';
import { responseTimePng, type RequestTiming, type ResponseTimeOptions } from '../charts/response-time.ts';
import type { MigrationEvents } from '../migrate/events.ts';
import { LoadProbe, isFailure, summarize, toCsv, type Sample } from './LoadProbe.ts';
import { PhaseRecorder, type TimedEvent } from './phases.ts';

export interface ProbeRun {
  stop(): Promise<{ samples: Sample[]; summary: ReturnType<typeof summarize>; csv: string; png: Buffer }>;
}

export interface StartProbeOptions {
  /**
   * Clients looping at once.
   * @defaultValue 50
   */
  concurrency?: number;
  /**
   * POST a numbered body with each request (to check bodies survive the hold server).
   * @defaultValue false
   */
  post?: boolean;
  /** The container being moved, for the chart's title. */
  container?: string;
  /**
   * Size, scale and font of the response-time chart.
   * @defaultValue the chart's own defaults (960x540 at 2x, DejaVu Sans)
   */
  chart?: ResponseTimeOptions & RenderOptions;
}

export function toRequestTimings(samples: readonly Sample[]): RequestTiming[] {
  return samples.map((s) => ({ startMs: s.startMs, latencyMs: s.latencyMs, failed: isFailure(s) }));
}

/** The method the engine announced (its last word, should it announce twice). */
export function methodFrom(timeline: readonly TimedEvent[]): string | undefined {
  let method: string | undefined;
  for (const { event } of timeline) if (event.type === 'method') method = event.method;
  return method;
}

/**
 * N clients hit the service for the whole migration; the chart shades the engine's phases.
 * The chart's font is checked here, before the migration starts, so a missing font cannot
 * cost the report of a migration that has already happened.
 */
export function startProbe(url: string, events: MigrationEvents, opts: StartProbeOptions = {}): ProbeRun {
  assertChartFont(opts.chart);
  const probe = new LoadProbe({
    url,
    concurrency: opts.concurrency ?? 50,
    durationMs: 30 * 60_000,
    timeoutMs: 60_000,
    ...(opts.post ? { method: 'POST', body: (seq: number) => `probe-body-${seq}-${'x'.repeat(seq % 97)}`, headers: { 'content-type': 'text/plain' } } : {}),
  });
  const rec = new PhaseRecorder(events, () => probe.elapsedMs());
  const running = probe.run();
  return {
    async stop() {
      probe.stop();
      const samples = await running;
      const phases = rec.phases(probe.elapsedMs());
      const method = methodFrom(rec.timeline());
      rec.dispose();
      const png = await responseTimePng({ requests: toRequestTimings(samples), phases, ...(opts.container ? { container: opts.container } : {}), ...(method ? { method } : {}) }, opts.chart);
      return { samples, summary: summarize(samples), csv: toCsv(samples), png };
    },
  };
}

export async function writeProbeOutput(dir: string, id: string, r: { csv: string; png: Buffer }): Promise<{ csv: string; png: string }> {
  await mkdir(dir, { recursive: true });
  const csv = path.join(dir, `${id}.csv`);
  const png = path.join(dir, `${id}.png`);
  await writeFile(csv, r.csv);
  await writeFile(png, r.png);
  return { csv, png };
}
