import { describe, expect, it } from 'vitest';
import { BREAKDOWN_PHASES, phaseBreakdownSpec } from '../../../src/charts/phase-breakdown.ts';
import { phaseColor } from '../../../src/charts/style.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { PHASE_COLUMNS } from '../../../src/migrate/clock.ts';
import { EXAMPLE_BREAKDOWN } from './fixtures.ts';
import { compileWarnings, loose } from './spec-helpers.ts';

const rows = [
  { method: 'normal', seconds: { checkpoint: 0.32, transfer: 2.3, restore: 0.3 } },
  { method: 'pc-ps', seconds: { preDump: 1.4, preCopy: 0.9, checkpoint: 0.21, transfer: 0.35, restore: 0.3 } },
];

describe('phaseBreakdownSpec', () => {
  it('has a segment per Table II column a method has, stacked in the table order', () => {
    const s = loose(phaseBreakdownSpec(rows));
    const bars = s.layer!.find((l) => l.mark.type === 'bar')!;
    const segs = bars.data!.values;
    expect(segs.filter((v) => v.method === 'normal').map((v) => [v.phase, v.seconds])).toEqual([
      ['checkpoint', 0.32],
      ['transfer', 2.3],
      ['restore', 0.3],
    ]);
    expect(segs.filter((v) => v.method === 'pc-ps').map((v) => v.phase)).toEqual(['pre-dump', 'pre-copy', 'checkpoint', 'transfer', 'restore']);
    expect(bars.encoding.x).toMatchObject({ field: 'seconds', stack: 'zero' });
    expect(bars.encoding.order).toMatchObject({ field: 'order' });
    expect(bars.encoding.y).toMatchObject({ field: 'method', sort: ['normal', 'pc-ps'] });
    expect(bars.encoding.color!.scale).toEqual({ domain: ['pre-dump', 'pre-copy', 'checkpoint', 'transfer', 'restore'], range: ['pre-dump', 'pre-copy', 'checkpoint', 'transfer', 'restore'].map(phaseColor) });
  });

  it('uses the engine\'s own column names', () => {
    for (const { key } of BREAKDOWN_PHASES) expect(PHASE_COLUMNS).toContain(key);
  });

  it('ends each bar with its total', () => {
    const labels = loose(phaseBreakdownSpec(rows)).layer!.find((l) => l.mark.type === 'text')!;
    expect(labels.data!.values.map((v) => [v.method, v.label])).toEqual([
      ['normal', '2.92 s'],
      ['pc-ps', '3.16 s'],
    ]);
  });

  it('skips missing and null columns, and refuses negative times', () => {
    const s = loose(phaseBreakdownSpec([{ method: 'lazy', seconds: { preDump: null, checkpoint: 0.2, restore: 0.17 } }]));
    expect(s.layer![0]!.data!.values.map((v) => v.phase)).toEqual(['checkpoint', 'restore']);
    expect(() => phaseBreakdownSpec([{ method: 'lazy', seconds: { transfer: -0.1 } }])).toThrow(expect.objectContaining({ code: ErrorCode.ChartInvalid }));
  });

  it('gives each memory size its own panel, smallest first', () => {
    const sized = [1024, 64].flatMap((mib) => rows.map((r) => ({ ...r, mib })));
    const s = loose(phaseBreakdownSpec(sized));
    expect(s.facet!.row).toMatchObject({ field: 'size', sort: ['64 MiB', '1 GiB'] });
    expect(s.spec!.layer.map((l) => l.mark.type)).toEqual(['bar', 'text']);
    expect(s.data!.values.filter((v) => v.kind === 'segment')).toHaveLength(16);
    expect(s.data!.values.filter((v) => v.kind === 'total').map((v) => v.size)).toEqual(['1 GiB', '1 GiB', '64 MiB', '64 MiB']);
  });

  it('takes the example rows, and compiles without a vega-lite warning', () => {
    expect(compileWarnings(phaseBreakdownSpec(EXAMPLE_BREAKDOWN))).toEqual([]);
    expect(compileWarnings(phaseBreakdownSpec(EXAMPLE_BREAKDOWN.map((r) => ({ ...r, mib: 256 }))))).toEqual([]);
    expect(loose(phaseBreakdownSpec(EXAMPLE_BREAKDOWN)).layer![1]!.data!.values).toHaveLength(EXAMPLE_BREAKDOWN.length);
  });
});
