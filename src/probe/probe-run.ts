import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MigrationEvents } from '../migrate/events.ts';
import { LoadProbe, summarize, toCsv, type Sample } from './LoadProbe.ts';
import { PhaseRecorder } from './phases.ts';
import { renderPlotPng } from '../traffic/plot.ts';

export interface ProbeRun {
  stop(): Promise<{ samples: Sample[]; summary: ReturnType<typeof summarize>; csv: string; png: Buffer }>;
}

/** N clients hit the service for the whole migration; the plot shades the engine's phases. */
export function startProbe(url: string, events: MigrationEvents, opts: { concurrency?: number; post?: boolean } = {}): ProbeRun {
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
      rec.dispose();
      return { samples, summary: summarize(samples), csv: toCsv(samples), png: renderPlotPng(samples, phases) };
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
