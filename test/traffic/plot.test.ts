import { describe, expect, it } from 'vitest';
import { TrafficErrorCode } from '../../src/traffic/errors.ts';
import { glyph, textWidth } from '../../src/traffic/font.ts';
import { COLORS, formatTick, isPng, niceTicks, phaseColors, plotFrame, readPngHeader, renderPlotPng, requestPosition, type PlotPhase } from '../../src/traffic/plot.ts';
import type { Sample } from '../../src/probe/samples.ts';
import { decodeRgbPng } from './png.ts';

/** 100 requests, one every 10 ms, 10 ms each, except a 100 ms spike at the start to set the y scale. */
function samples(failAt: number[] = []): Sample[] {
  return Array.from({ length: 100 }, (_, i) => ({
    seq: i,
    client: i % 4,
    startMs: i * 10,
    latencyMs: i === 0 ? 100 : 10,
    status: failAt.includes(i) ? 0 : 200,
    ...(failAt.includes(i) ? { error: 'ECONNREFUSED' } : {}),
  }));
}

function countColor(png: Buffer, c: readonly number[]): number {
  const d = decodeRgbPng(png);
  let n = 0;
  for (let y = 0; y < d.height; y++) for (let x = 0; x < d.width; x++) if (d.pixel(x, y).every((v, k) => v === c[k])) n++;
  return n;
}

describe('renderPlotPng', () => {
  const phases: PlotPhase[] = [
    { name: 'pre-copy', startMs: 100, endMs: 300 },
    { name: 'checkpoint', startMs: 400, endMs: 600 },
  ];

  it('returns a valid PNG of the requested size', () => {
    const png = renderPlotPng(samples(), phases, { width: 640, height: 360 });
    expect(isPng(png)).toBe(true);
    expect(readPngHeader(png)).toMatchObject({ width: 640, height: 360, bitDepth: 8, colorType: 2 });
    const d = decodeRgbPng(png);
    expect(d.raw.length).toBe(360 * (1 + 640 * 3));
  });

  it('shades a phase band in its colour and leaves the rest of the plot area alone', () => {
    const width = 640;
    const height = 360;
    const png = renderPlotPng(samples(), phases, { width, height });
    const d = decodeRgbPng(png);
    const f = plotFrame(width, height);
    const colors = phaseColors(phases);
    const checkpoint = colors.get('checkpoint')!;
    expect(checkpoint).not.toEqual(colors.get('pre-copy'));
    // Request 50 starts at 500 ms, inside 'checkpoint' (400-600 ms); near the top no data is drawn.
    const xMid = f.left + Math.round((50 / 99) * (f.right - f.left));
    const xOutside = f.left + Math.round((80 / 99) * (f.right - f.left));
    const y = f.top + 3;
    expect(d.pixel(xMid, y)).toEqual([...checkpoint]);
    expect(d.pixel(xOutside, y)).not.toEqual([...checkpoint]);
    expect(d.pixel(xOutside, y)).toEqual([...COLORS.background]);
    const xPre = f.left + Math.round((20 / 99) * (f.right - f.left));
    expect(d.pixel(xPre, y)).toEqual([...colors.get('pre-copy')!]);
  });

  it('draws failed requests in red and only then', () => {
    expect(countColor(renderPlotPng(samples(), phases, { width: 320, height: 200 }), COLORS.failure)).toBe(0);
    expect(countColor(renderPlotPng(samples([30, 70]), phases, { width: 320, height: 200 }), COLORS.failure)).toBeGreaterThan(0);
  });

  it('draws axes and tick marks, with or without labels', () => {
    for (const labels of [true, false]) {
      const png = renderPlotPng(samples(), [], { width: 400, height: 300, labels });
      const d = decodeRgbPng(png);
      const f = plotFrame(400, 300, labels);
      expect(d.pixel(f.left, Math.round((f.top + f.bottom) / 2))).toEqual([...COLORS.axis]);
      expect(d.pixel(Math.round((f.left + f.right) / 2), f.bottom)).toEqual([...COLORS.axis]);
      expect(d.pixel(f.left - 2, f.bottom)).toEqual([...COLORS.axis]); // the y tick at 0
    }
  });

  it('copes with no samples, and rejects a size with no room for a plot', () => {
    expect(isPng(renderPlotPng([], [{ name: 'restore', startMs: 0, endMs: 1 }], { width: 200, height: 120 }))).toBe(true);
    expect(() => renderPlotPng(samples(), [], { width: 40, height: 30 })).toThrow(expect.objectContaining({ code: TrafficErrorCode.InvalidOption }));
  });
});

describe('plot helpers', () => {
  it('maps probe time to a fractional request number', () => {
    const starts = [0, 10, 20, 40];
    expect(requestPosition(starts, -5)).toBe(0);
    expect(requestPosition(starts, 15)).toBe(1.5);
    expect(requestPosition(starts, 30)).toBe(2.5);
    expect(requestPosition(starts, 99)).toBe(3);
    expect(requestPosition([], 5)).toBe(0);
  });

  it('picks 1-2-5 ticks that cover the maximum', () => {
    expect(niceTicks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(93)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(formatTick(0.4, 0.2)).toBe('0.4');
    expect(formatTick(20000, 5000)).toBe('20k');
    expect(formatTick(2500, 500)).toBe('2500');
  });

  it('gives repeated phases one colour and honours overrides', () => {
    const c = phaseColors(
      [
        { name: 'pre-copy', startMs: 0, endMs: 1 },
        { name: 'pre-copy', startMs: 2, endMs: 3 },
        { name: 'restore', startMs: 4, endMs: 5 },
      ],
      { restore: [1, 2, 3] },
    );
    expect([...c.keys()]).toEqual(['pre-copy', 'restore']);
    expect(c.get('restore')).toEqual([1, 2, 3]);
  });

  it('has a glyph for digits and letters, and a fallback', () => {
    for (const ch of '0123456789abcdefghijklmnopqrstuvwxyz-.#') {
      const g = glyph(ch);
      expect(g).toHaveLength(5);
      expect(g.every((row) => row.length === 3)).toBe(true);
    }
    expect(glyph('~')).toEqual(glyph('?'));
    expect(textWidth('ms', 2)).toBe(14);
  });
});
