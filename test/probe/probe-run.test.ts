import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readPngHeader } from '../../src/charts/png-info.ts';
import { DEFAULT_FONT_FILE } from '../../src/charts/render.ts';
import { ErrorCode } from '../../src/errors.ts';
import { MigrationEvents } from '../../src/migrate/events.ts';
import { CSV_HEADER } from '../../src/probe/samples.ts';
import { methodFrom, startProbe, toRequestTimings, writeProbeOutput } from '../../src/probe/probe-run.ts';
import { Closer, closeServer, listenOn } from '../traffic/helpers.ts';

let closer: Closer;

beforeEach(() => {
  closer = new Closer();
});

afterEach(async () => {
  await closer.closeAll();
});

describe('probe-run helpers', () => {
  it('maps samples to chart requests, failures by status or error', () => {
    const timings = toRequestTimings([
      { seq: 0, client: 0, startMs: 1, latencyMs: 2, status: 200 },
      { seq: 1, client: 1, startMs: 3, latencyMs: 4, status: 503 },
      { seq: 2, client: 0, startMs: 5, latencyMs: 6, status: 0, error: 'ECONNREFUSED' },
    ]);
    expect(timings).toEqual([
      { startMs: 1, latencyMs: 2, failed: false },
      { startMs: 3, latencyMs: 4, failed: true },
      { startMs: 5, latencyMs: 6, failed: true },
    ]);
  });

  it('takes the method the engine announced last', () => {
    expect(methodFrom([])).toBeUndefined();
    expect(
      methodFrom([
        { atMs: 1, event: { type: 'method', method: 'normal', reason: 'asked' } },
        { atMs: 2, event: { type: 'frozen' } },
        { atMs: 3, event: { type: 'method', method: 'lazy', reason: 'asked again' } },
      ]),
    ).toBe('lazy');
  });
});

describe.skipIf(!existsSync(DEFAULT_FONT_FILE))(`startProbe and writeProbeOutput (needs ${DEFAULT_FONT_FILE}: apt-get install fonts-dejavu-core)`, () => {
  it('probes a local server through engine events and writes the CSV and the chart', async () => {
    let n = 0;
    const server = http.createServer((_req, res) => {
      n++;
      res.statusCode = n % 10 === 0 ? 503 : 200;
      res.end('ok');
    });
    const port = await listenOn(server);
    closer.add(() => closeServer(server));
    const events = new MigrationEvents();
    const run = startProbe(`http://127.0.0.1:${port}/counter`, events, { concurrency: 2, container: 'web1' });
    events.emitEvent({ type: 'method', method: 'page-server', reason: 'test' });
    events.emitEvent({ type: 'frozen' });
    events.emitEvent({ type: 'phase-start', phase: 'checkpoint' });
    await new Promise((r) => setTimeout(r, 50));
    events.emitEvent({ type: 'phase-end', phase: 'checkpoint', seconds: 0.05 });
    events.emitEvent({ type: 'phase-start', phase: 'health' });
    events.emitEvent({ type: 'phase-end', phase: 'health', seconds: 0 });
    const r = await run.stop();
    expect(r.samples.length).toBeGreaterThan(0);
    expect(r.summary.requests).toBe(r.samples.length);
    expect(r.summary.failures).toBe(r.samples.filter((s) => s.status === 503).length);
    expect(readPngHeader(r.png)).toMatchObject({ width: 1920, height: 1080 });

    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-probe-'));
    closer.add(() => rm(dir, { recursive: true, force: true }));
    const files = await writeProbeOutput(dir, 'm-1', r);
    expect(files).toEqual({ csv: path.join(dir, 'm-1.csv'), png: path.join(dir, 'm-1.png') });
    expect((await readFile(files.csv, 'utf8')).split('\n')[0]).toBe(CSV_HEADER);
    expect((await readFile(files.png)).equals(r.png)).toBe(true);
  });

});

describe('startProbe without the chart font', () => {
  it('refuses to start, before any request, so a migration cannot end with no chart', async () => {
    let n = 0;
    const server = http.createServer((_req, res) => {
      n++;
      res.end('ok');
    });
    const port = await listenOn(server);
    closer.add(() => closeServer(server));
    expect(() => startProbe(`http://127.0.0.1:${port}/`, new MigrationEvents(), { chart: { fontFile: '/nonexistent/DejaVuSans.ttf' } })).toThrow(
      expect.objectContaining({ code: ErrorCode.ChartFontMissing }),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(n).toBe(0);
  });
});
