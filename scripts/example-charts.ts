// Redraws the README's example charts from the chart tests' fixtures: synthetic, seeded data
// shaped like Ferry's measured runs, not measurements. `ferry migrate --probe` and the benchmark
// draw the real ones. Run: npm run charts:examples
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { downtimeBySizePng } from '../src/charts/downtime-by-size.ts';
import { phaseBreakdownPng } from '../src/charts/phase-breakdown.ts';
import { responseTimePng } from '../src/charts/response-time.ts';
import { methodFrom, toRequestTimings } from '../src/probe/probe-run.ts';
import { EXAMPLE_BREAKDOWN, EXAMPLE_DOWNTIME, probeFixture } from '../test/unit/charts/fixtures.ts';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const example = 'Example data, not a measurement (npm run charts:examples)';

async function write(file: string, png: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, png);
  console.log(`${path.relative(process.cwd(), file)}: ${png.length} bytes`);
}

const hold = probeFixture();
await write(
  path.join(docs, 'response-time-hold.png'),
  await responseTimePng({ requests: toRequestTimings(hold.samples), phases: hold.phases, container: 'web1', method: methodFrom(hold.timeline)! }, { note: example }),
);
await write(path.join(docs, 'charts', 'downtime-by-size.png'), await downtimeBySizePng(EXAMPLE_DOWNTIME, { subtitle: example }));
await write(path.join(docs, 'charts', 'phase-breakdown.png'), await phaseBreakdownPng(EXAMPLE_BREAKDOWN, { title: 'Where the time goes at 256 MiB, per method', subtitle: example }));
