import { describe, expect, it } from 'vitest';
import { floorSeconds, headlines, linkByDirection, linkMean, memoryThroughput, rowTraits, stat, summarizeCell, wireSeconds } from '../../../src/bench/aggregate.ts';
import { PEER_ROW, cellRows } from '../../../src/bench/plan.ts';
import { failedRun, runFromReport } from '../../../src/bench/results.ts';
import { WEB } from '../../../src/bench/workloads.ts';
import { NO_TIMES, link, report, results, webCell, wordpressCell } from './fixtures.ts';

const row = (id: string) => cellRows(WEB, ['normal', 'page-server', 'precopy', 'pc-ps', 'pc-ps-rsync', 'lazy', 'pc-lazy'], { haproxy: true, peer: true }).find((r) => r.id === id)!;

describe('stat', () => {
  it('gives the mean and the sample standard deviation', () => {
    expect(stat([])).toBeNull();
    expect(stat([2])).toEqual({ mean: 2, sd: 0, n: 1 });
    const s = stat([1, 2, 3, 4])!;
    expect(s.mean).toBe(2.5);
    expect(s.sd).toBeCloseTo(Math.sqrt(5 / 3), 12);
  });
});

describe('wireSeconds and memoryThroughput', () => {
  const t = { ...NO_TIMES, preDump: 1, preCopy: 2, checkpoint: 0.5, transfer: 0.25, restore: 9, downtime: 9, total: 20 };

  it('counts transfer and pre-copy; checkpoint and pre-dump too through the page server', () => {
    expect(wireSeconds(t, rowTraits(row('normal')))).toBe(2.25);
    expect(wireSeconds(t, rowTraits(row('precopy')))).toBe(2.25);
    expect(wireSeconds(t, rowTraits(row('page-server')))).toBe(3.75);
    expect(wireSeconds(t, rowTraits(row('pc-ps-rsync')))).toBe(3.75);
    expect(wireSeconds(t, rowTraits(PEER_ROW))).toBe(2.25);
  });

  it('has no figure for post-copy, whose memory follows after the restore', () => {
    expect(wireSeconds(t, rowTraits(row('lazy')))).toBeNull();
    expect(wireSeconds(t, rowTraits(row('pc-lazy')))).toBeNull();
  });

  it('is bytes over those seconds, null without either', () => {
    const r = runFromReport(row('normal'), 1, report({ method: 'normal', times: { transfer: 2, checkpoint: 1 } }), false);
    expect(memoryThroughput(r, rowTraits(row('normal')))).toBe((256 * 1048576) / 2);
    expect(memoryThroughput({ ...r, times: NO_TIMES }, rowTraits(row('normal')))).toBeNull();
    expect(memoryThroughput({ ...r, bytes: 0 }, rowTraits(row('normal')))).toBeNull();
  });
});

describe('the link', () => {
  const ms = [link('a', 'b', 1000), link('a', 'b', 900), link('b', 'a', 500)];

  it('averages each direction, and all of them for the limit row', () => {
    expect(linkByDirection(ms)).toEqual(new Map([['a>b', 950e6], ['b>a', 500e6]]));
    expect(linkMean(ms)!.mean).toBeCloseTo(800e6, 3);
    expect(linkMean([])).toBeNull();
  });

  it('floors a transfer at bytes over bandwidth', () => {
    expect(floorSeconds(256 * 1048576, 200e6)).toBeCloseTo((256 * 1048576 * 8) / 200e6, 12);
  });
});

describe('summarizeCell', () => {
  const res = results();
  const cell = summarizeCell(res.cells[1]!, res.link.measurements);
  const get = (id: string) => cell.rows.find((r) => r.row.id === id)!;

  it('keeps the rows in order, each with mean ± sd per Table II column', () => {
    expect(cell.rows.map((r) => r.row.id)).toEqual(['normal', 'page-server', 'page-server+haproxy', 'lazy', 'podman']);
    const d = get('normal').columns.downtime!;
    expect(d.n).toBe(2);
    expect(d.mean).toBeCloseTo(2.9, 10);
    expect(d.sd).toBeCloseTo(Math.sqrt(((2.9 * 0.05) ** 2 * 2) / 1), 10);
    expect(get('normal').columns.preDump).toBeNull();
  });

  it("has the link's limit: bandwidth of both directions and the cell's memory over it", () => {
    expect(cell.link!.bitsPerSecond.mean).toBeCloseTo(900e6, 3);
    expect(cell.link!.floorS).toBeCloseTo((256 * 1048576 * 8) / 900e6, 9);
  });

  it('puts throughput against the link measured in the same direction', () => {
    const n = get('normal');
    // run 1 lab-1 → lab-2 (1000 Mbit/s): 256 MiB in 2.3·0.95 s; run 2 lab-2 → lab-1 (800 Mbit/s): in 2.3·1.05 s
    const r1 = ((256 * 1048576 * 8) / (2.3 * 0.95) / 1000e6) * 100;
    const r2 = ((256 * 1048576 * 8) / (2.3 * 1.05) / 800e6) * 100;
    expect(n.linkPct!.mean).toBeCloseTo((r1 + r2) / 2, 9);
    expect(get('lazy').linkPct).toBeNull();
  });

  it("leaves out CRIU's frozen time where lazy dumps report none, and keeps Podman's", () => {
    expect(get('lazy').frozenMs).toBeNull();
    expect(get('page-server').frozenMs!.mean).toBe(900);
    expect(get('podman').frozenMs!.mean).toBe(1200);
  });

  it('has the clients view for the HAProxy row only, with gap over downtime', () => {
    expect(get('page-server').client).toBeNull();
    const c = get('page-server+haproxy').client!;
    expect(c.clients).toBe(10);
    expect(c.gapS.mean).toBeCloseTo(1.5, 10);
    expect(c.gapOverDowntime!.mean).toBeCloseTo(1.5 / 1.4, 10);
  });

  it('counts rolled-back and failed runs apart from the figures, with their messages', () => {
    const c = webCell(64);
    const ps = c.rows.find((r) => r.id === 'page-server')!;
    c.runs.push(runFromReport(ps, 3, report({ outcome: 'rolled-back', runsOn: 'lab-1', error: 'restore failed', times: { downtime: 99 } }), false));
    c.runs.push(failedRun(ps, 4, 'lab-1', 'lab-2', 'preflight: port taken'));
    const s = summarizeCell(c, []).rows.find((r) => r.row.id === 'page-server')!;
    expect(s.runs).toBe(4);
    expect(s.failures).toBe(2);
    expect(s.columns.downtime!.n).toBe(2);
    expect(s.errors).toEqual(['restore failed', 'preflight: port taken']);
    expect(summarizeCell(c, []).link).toBeNull();
  });

  it("compares pre-copy's final dump with round 1", () => {
    const pc = row('pc-ps-rsync');
    const rounds = [
      { round: 1, pagesWritten: 8225, pagesSkipped: 0, seconds: 3 },
      { round: 2, pagesWritten: 1000, pagesSkipped: 7000, seconds: 1 },
    ];
    const c = { workload: 'web', title: 'web', mib: 32, rows: [pc], skipped: [], runs: [runFromReport(pc, 1, report({ method: 'pc-ps-rsync', rounds, criu: { frozenMs: 1, pagesWritten: 521, pagesSkipped: 7700, pagesLazy: 0 } }), false)] };
    const s = summarizeCell(c, []).rows[0]!;
    expect(s.finalOverRound1!.mean).toBeCloseTo(521 / 8225, 12);
    expect(s.pagesRound1!.mean).toBe(8225);
    expect(s.pagesFinal!.mean).toBe(521);
  });
});

describe('headlines', () => {
  it("states issue 14's ratios from the run, at the largest size", () => {
    const res = results();
    const hs = headlines(res.cells.map((c) => summarizeCell(c, res.link.measurements)));
    const h = Object.fromEntries(hs.map((x) => [x.key, x]));
    // at 1024 MiB (k = 4): page-server 1.3·4 = 5.2 s is the best Ferry row (lazy ≈ 1.08 s is better)
    expect(h['best-vs-normal']!.value).toBeCloseTo(1.08 / 11.6, 9);
    expect(h['best-vs-normal']!.detail).toContain('Post-copy (lazy pages)');
    expect(h['lazy-scaling']!.value).toBeCloseTo(1.08 / 1.005, 9);
    expect(h['lazy-scaling']!.label).toContain('1024 MiB');
    expect(h['best-vs-podman']!.value).toBeCloseTo(1.08 / 17.6, 9);
    expect(h['throughput-vs-link']!.value).toBeGreaterThan(0);
    expect(h['final-vs-round1']!.value).toBeNull();
    expect(h['final-vs-round1']!.detail).toContain('soft-dirty');
    expect(h['gap-vs-downtime']!.value).toBeCloseTo(1.5 / 1.4, 9);
  });

  it('says what could not be measured, rather than inventing it', () => {
    const hs = headlines([]);
    expect(hs).toHaveLength(6);
    expect(hs.every((x) => x.value === null && x.detail.startsWith('not measured'))).toBe(true);
  });
});

describe('the WordPress group cell', () => {
  const res = results([webCell(256), wordpressCell()]);
  const wp = summarizeCell(res.cells[1]!, res.link.measurements);
  const get = (id: string) => wp.rows.find((r) => r.row.id === id)!;

  it("is its own cell, a row per method, with the group's window as downtime", () => {
    expect(wp).toMatchObject({ workload: 'wordpress', title: "WordPress + MariaDB (the paper's workload)", mib: 180, group: { name: 'bench-wp', members: ['bench-wp-db', 'bench-wp-web'] } });
    expect(wp.rows.map((r) => r.row.id)).toEqual(['normal', 'page-server']);
    expect(get('page-server').columns.downtime!.mean).toBeCloseTo(9, 10);
    expect(get('page-server').columns.total!.mean).toBeCloseTo(11, 10);
    expect(get('normal').columns.downtime!.mean).toBeCloseTo(9 * 1.2, 10);
    expect(get('page-server').columns.restore!.mean).toBeCloseTo(3.1, 10);
  });

  it('sums the bytes over the members and puts the pair\'s memory against the link', () => {
    expect(get('page-server').bytes!.mean).toBe((230 + 452) * 1048576);
    expect(wp.link!.floorS).toBeCloseTo((180 * 1048576 * 8) / 900e6, 9);
    expect(get('page-server').frozenMs!.mean).toBe(1200);
  });

  it("leaves the ratios to the web cells", () => {
    const hs = headlines([wp]);
    expect(hs.every((h) => h.value === null)).toBe(true);
    const withWeb = headlines([summarizeCell(res.cells[0]!, res.link.measurements), wp]);
    expect(withWeb.find((h) => h.key === 'best-vs-normal')!.detail).toContain('web at 256 MiB');
  });
});
