import { describe, expect, it } from 'vitest';
import { downtimeBySizeSpec } from '../../../src/charts/downtime-by-size.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { EXAMPLE_DOWNTIME } from './fixtures.ts';
import { compileWarnings, loose } from './spec-helpers.ts';

const points = [
  { method: 'normal', mib: 64, downtimeS: 1, sdS: 0.1 },
  { method: 'normal', mib: 1024, downtimeS: 10, sdS: 0.5 },
  { method: 'lazy', mib: 64, downtimeS: 0.9 },
  { method: 'lazy', mib: 1024, downtimeS: 1.2 },
];

describe('downtimeBySizeSpec', () => {
  it('puts memory on a log axis ticked at the measured sizes, downtime in seconds from zero', () => {
    const s = loose(downtimeBySizeSpec(points));
    expect(s.encoding!.x).toMatchObject({ field: 'mib', scale: { type: 'log' }, axis: { values: [64, 1024] } });
    const line = s.layer!.find((l) => l.mark.type === 'line')!;
    expect(line.encoding.y).toMatchObject({ field: 'downtime', title: 'downtime (s)', scale: { zero: true } });
    expect(s.title.text).toBe('Downtime against memory size');
  });

  it('draws one line and one point series per method, in the order given', () => {
    const s = loose(downtimeBySizeSpec(points));
    expect(s.encoding!.color).toMatchObject({ field: 'method', scale: { domain: ['normal', 'lazy'] } });
    expect(s.layer!.map((l) => l.mark.type)).toEqual(['line', 'point', 'errorbar']);
  });

  it('gives an error bar of one sd either side where an sd is known, and none elsewhere', () => {
    const s = loose(downtimeBySizeSpec(points));
    expect(s.data!.values).toEqual([
      { method: 'normal', mib: 64, downtime: 1, lo: 0.9, hi: 1.1 },
      { method: 'normal', mib: 1024, downtime: 10, lo: 9.5, hi: 10.5 },
      { method: 'lazy', mib: 64, downtime: 0.9 },
      { method: 'lazy', mib: 1024, downtime: 1.2 },
    ]);
    const bars = s.layer!.find((l) => l.mark.type === 'errorbar')!;
    expect(bars.transform).toEqual([{ filter: 'isValid(datum.lo)' }]);
    expect(bars.encoding.y!.field).toBe('lo');
    expect(bars.encoding.y2!.field).toBe('hi');
  });

  it('keeps error bars above zero, and on a log downtime axis above 0 s', () => {
    const wide = [{ method: 'normal', mib: 64, downtimeS: 0.5, sdS: 0.8 }];
    expect(loose(downtimeBySizeSpec(wide)).data!.values[0]).toMatchObject({ lo: 0, hi: 1.3 });
    const log = loose(downtimeBySizeSpec(wide, { logY: true }));
    expect(log.data!.values[0]!.lo).toBeGreaterThan(0);
    expect(log.layer![0]!.encoding.y).toMatchObject({ scale: { type: 'log' }, title: 'downtime (s, log scale)' });
  });

  it('refuses sizes and times out of range', () => {
    expect(() => downtimeBySizeSpec([{ method: 'normal', mib: 0, downtimeS: 1 }])).toThrow(expect.objectContaining({ code: ErrorCode.ChartInvalid }));
    expect(() => downtimeBySizeSpec([{ method: 'normal', mib: 64, downtimeS: -1 }])).toThrow(expect.objectContaining({ code: ErrorCode.ChartInvalid }));
    expect(() => downtimeBySizeSpec([{ method: 'normal', mib: 64, downtimeS: 1, sdS: Number.NaN }])).toThrow(expect.objectContaining({ code: ErrorCode.ChartInvalid }));
  });

  it('takes the example benchmark cells, and compiles without a vega-lite warning', () => {
    expect(compileWarnings(downtimeBySizeSpec(EXAMPLE_DOWNTIME))).toEqual([]);
    expect(compileWarnings(downtimeBySizeSpec(EXAMPLE_DOWNTIME, { logY: true }))).toEqual([]);
    const s = loose(downtimeBySizeSpec(EXAMPLE_DOWNTIME, { subtitle: 'example' }));
    expect(s.data!.values).toHaveLength(EXAMPLE_DOWNTIME.length);
    expect(s.title.subtitle).toBe('example');
  });
});
