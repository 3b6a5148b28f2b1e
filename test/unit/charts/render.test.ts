import { existsSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { downtimeBySizePng, downtimeBySizeSvg } from '../../../src/charts/downtime-by-size.ts';
import { phaseBreakdownPng, phaseBreakdownSvg } from '../../../src/charts/phase-breakdown.ts';
import { PNG_SIGNATURE, isPng, readPngHeader } from '../../../src/charts/png-info.ts';
import { DEFAULT_FONT_FILE, assertChartFont, specToSvg, svgToPng } from '../../../src/charts/render.ts';
import { responseTimePng, responseTimeSvg, type ResponseTimeData } from '../../../src/charts/response-time.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { methodFrom, toRequestTimings } from '../../../src/probe/probe-run.ts';
import { EXAMPLE_BREAKDOWN, EXAMPLE_DOWNTIME, probeFixture } from './fixtures.ts';

const fontMissing = !existsSync(DEFAULT_FONT_FILE);
const needsFont = `needs ${DEFAULT_FONT_FILE} (apt-get install fonts-dejavu-core)`;

function holdData(opts: { hold?: boolean; clients?: number } = {}): ResponseTimeData {
  const f = probeFixture({ clients: 8, ...opts });
  return { requests: toRequestTimings(f.samples), phases: f.phases, container: 'web1', method: methodFrom(f.timeline)! };
}

/** Size the SVG declares on its root element. */
function svgSize(svg: string): { width: number; height: number } {
  const m = /^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  if (!m) throw new Error(`no width/height on the SVG root: ${svg.slice(0, 200)}`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

interface Pixels {
  total: number;
  /** Neither white nor nearly white. */
  inked: number;
  /** Strongly red, as failed requests are drawn. */
  red: number;
}

function pixels(png: Buffer): Pixels {
  const img = PNG.sync.read(png);
  let inked = 0;
  let red = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    const [r, g, b] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
    if (r < 240 || g < 240 || b < 240) inked++;
    if (r > 180 && g < 90 && b < 90) red++;
  }
  return { total: img.width * img.height, inked, red };
}

function expectPngOf(png: Buffer, size: { width: number; height: number }, scale: number): void {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  const h = readPngHeader(png)!;
  expect(h).toMatchObject({ width: Math.round(size.width * scale), height: Math.round(size.height * scale), bitDepth: 8 });
  const p = pixels(png);
  // Not blank (axes, text, data), not a solid block either.
  expect(p.inked).toBeGreaterThan(p.total * 0.01);
  expect(p.inked).toBeLessThan(p.total * 0.9);
}

describe('png-info', () => {
  it('reads the IHDR and rejects what is not a PNG', () => {
    const ihdr = Buffer.alloc(25);
    ihdr.writeUInt32BE(13, 0);
    ihdr.write('IHDR', 4, 'ascii');
    ihdr.writeUInt32BE(640, 8);
    ihdr.writeUInt32BE(360, 12);
    ihdr[16] = 8;
    ihdr[17] = 6;
    const png = Buffer.concat([PNG_SIGNATURE, ihdr, Buffer.alloc(4)]);
    expect(readPngHeader(png)).toEqual({ width: 640, height: 360, bitDepth: 8, colorType: 6 });
    expect(isPng(png.subarray(0, 20))).toBe(false);
    expect(isPng(Buffer.from('not a png at all, just some text that is long enough'))).toBe(false);
  });
});

describe('chart font', () => {
  it('is a FerryError naming the package when the file is missing', async () => {
    const missing = { fontFile: '/nonexistent/DejaVuSans.ttf' };
    expect(() => assertChartFont(missing)).toThrow(expect.objectContaining({ code: ErrorCode.ChartFontMissing, message: expect.stringContaining('fonts-dejavu-core') }));
    await expect(responseTimePng(holdData({ clients: 1 }), missing)).rejects.toMatchObject({ code: ErrorCode.ChartFontMissing });
    await expect(svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', missing)).rejects.toMatchObject({ code: ErrorCode.ChartFontMissing });
  });
});

describe.skipIf(fontMissing)(`rendering (${needsFont})`, () => {
  it('response time: an SVG of the requested size with mixed-case labels, and a PNG of it at 2x', async () => {
    const d = holdData();
    const svg = await responseTimeSvg(d, { width: 800, height: 450 });
    expect(svgSize(svg)).toEqual({ width: 800, height: 450 });
    expect(svg).toContain('seconds since the probe started');
    expect(svg).toContain('frozen 1.25 s');
    expect(svg).toContain('checkpoint');
    expectPngOf(await responseTimePng(d, { width: 800, height: 450 }), { width: 800, height: 450 }, 2);
  });

  it('response time: failed requests show in red, and only when there are some', async () => {
    const ok = pixels(await responseTimePng(holdData({ hold: true }), { width: 640, height: 360, scale: 1 }));
    const failing = pixels(await responseTimePng(holdData({ hold: false }), { width: 640, height: 360, scale: 1 }));
    expect(ok.red).toBe(0);
    expect(failing.red).toBeGreaterThan(20);
  });

  it('downtime by size: a PNG matching its SVG', async () => {
    const svg = await downtimeBySizeSvg(EXAMPLE_DOWNTIME);
    expect(svgSize(svg)).toEqual({ width: 720, height: 440 });
    expect(svg).toContain('1 GiB');
    expect(svg).toContain('page-server');
    expectPngOf(await downtimeBySizePng(EXAMPLE_DOWNTIME, { scale: 1.5 }), svgSize(svg), 1.5);
  });

  it('phase breakdown: a PNG matching its SVG, with and without size panels', async () => {
    const svg = await phaseBreakdownSvg(EXAMPLE_BREAKDOWN);
    expect(svg).toContain('pre-copy');
    expectPngOf(await phaseBreakdownPng(EXAMPLE_BREAKDOWN), svgSize(svg), 2);
    const sized = [256, 1024].flatMap((mib) => EXAMPLE_BREAKDOWN.map((r) => ({ ...r, mib })));
    const svg2 = await phaseBreakdownSvg(sized);
    expect(svg2).toContain('256 MiB');
    expect(svgSize(svg2).height).toBeGreaterThan(svgSize(svg).height);
    expectPngOf(await phaseBreakdownPng(sized), svgSize(svg2), 2);
  });

  it('wraps a spec vega cannot lay out in a coded error', async () => {
    const bad = { title: 'broken', data: { values: [{ a: 1 }] }, transform: [{ calculate: 'datum.a +', as: 'b' }], mark: 'point', encoding: { x: { field: 'b', type: 'quantitative' } } };
    await expect(specToSvg(bad as never)).rejects.toMatchObject({ code: ErrorCode.ChartRenderFailed, message: expect.stringContaining("'broken'") });
  });

  it('refuses a scale out of range', async () => {
    await expect(downtimeBySizePng(EXAMPLE_DOWNTIME, { scale: 0 })).rejects.toMatchObject({ code: ErrorCode.ChartInvalid });
  });
});
