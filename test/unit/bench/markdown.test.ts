import { describe, expect, it } from 'vitest';
import { headlines, summarizeCell } from '../../../src/bench/aggregate.ts';
import { TABLE_HEAD, formatBits, renderCellTable, renderClientTable, renderGroupNote, renderHeadlines, renderProvenance, renderResultsMarkdown } from '../../../src/bench/markdown.ts';
import { COLUMN_TITLES } from '../../../src/migrate/report.ts';
import { results, webCell, wordpressCell } from './fixtures.ts';

const res = results();
const cells = res.cells.map((c) => summarizeCell(c, res.link.measurements));
const cell256 = cells[1]!;

/** A Markdown table as rows of cells (header first, separator dropped). */
function table(md: string): string[][] {
  return md
    .split('\n')
    .filter((l) => l.startsWith('|') && !l.startsWith('|---') && !/^\| ---/.test(l))
    .map((l) => l.slice(2, -2).split(' | '));
}

describe('renderCellTable', () => {
  const t = table(renderCellTable(cell256));

  it("has the paper's columns, in its order, and ours after them", () => {
    expect(t[0]).toEqual(TABLE_HEAD);
    expect(t[0]!.slice(1, 9)).toEqual(['preDump', 'preCopy', 'preMigration', 'checkpoint', 'transfer', 'restore', 'downtime', 'total'].map((k) => COLUMN_TITLES[k as keyof typeof COLUMN_TITLES]));
  });

  it('has one row per method, Podman, then the link limit', () => {
    expect(t.slice(1).map((r) => r[0])).toEqual(['Normal', 'Page Server', 'Page Server + HAProxy', 'Post-copy (lazy pages)', 'Podman (checkpoint --export, rsync, restore --import)', 'Link limit (iperf3: 900 Mbit/s)']);
  });

  it('writes mean ± sd, dashes for phases a method lacks, MiB moved, runs that moved', () => {
    const normal = t[1]!;
    expect(normal[1]).toBe('-');
    expect(normal[7]).toBe('2.90 ± 0.21');
    expect(normal[9]).toBe('256');
    expect(normal[10]).toBe('0.90 ± 0.00');
    expect(normal.at(-1)).toBe('2/2');
    expect(normal[12]).toMatch(/^\d+ MiB\/s \(\d+ %\)$/);
    expect(t[4]![10]).toBe('-'); // lazy: no frozen time from CRIU
    expect(t[4]![12]).toBe('-'); // lazy: no throughput
  });

  it('puts the floor in the link row: memory over measured bandwidth', () => {
    const limit = t.at(-1)!;
    const floor = `≥ ${((256 * 1048576 * 8) / 900e6).toFixed(2)}`;
    expect(limit[5]).toBe(floor);
    expect(limit[7]).toBe(floor);
    expect(limit[9]).toBe('256');
    expect(limit.at(-1)).toBe('2 measurements');
  });
});

describe('renderClientTable', () => {
  it('shows requests, failures, percentiles, the gap and gap over downtime for HAProxy rows', () => {
    const t = table(renderClientTable(cell256));
    expect(t.map((r) => r[0])).toEqual(['Method', 'Page Server + HAProxy']);
    expect(t[1]).toEqual(['Page Server + HAProxy', '10', '4000 ± 0', '0.0 ± 0.0', '7 ± 0', '1700 ± 0', '1.50 ± 0.11', '1.40 ± 0.10', '1.07']);
  });

  it('is empty without HAProxy rows', () => {
    const c = webCell(64);
    c.rows = c.rows.filter((r) => !r.front);
    expect(renderClientTable(summarizeCell(c, []))).toBe('');
  });
});

describe('provenance and the whole file', () => {
  it('says lab, hosts, machine, kernel, link and how it was shaped and measured', () => {
    const p = renderProvenance(res);
    expect(p).toContain('2026-12-01 10:00 UTC');
    expect(p).toContain('commit 0123456789ab');
    expect(p).toContain('namespace lab');
    expect(p).toContain('lab-1 (10.247.0.11): kernel 6.18.0, CRIU 4.2.1, runc 1.1.5, Podman 4.3.1, soft-dirty no, userfaultfd yes');
    expect(p).toContain('2 cores (Example CPU), 24 GiB, kernel 6.18.0');
    expect(p).toContain("Link: lan (the lab's bare link, unshaped)");
    expect(p).toContain('lab-1 → lab-2 1.00 Gbit/s (0 retransmits), lab-2 → lab-1 800 Mbit/s');
  });

  it('marks a quick run as a harness check and an incomplete run as such', () => {
    const md = renderResultsMarkdown({ ...res, meta: { ...res.meta, quick: true }, incomplete: 'interrupted' }, cells, []);
    expect(md).toContain('--quick');
    expect(md).toContain('**Incomplete run**: interrupted');
  });

  it('has a table per cell, skipped rows with reasons, the ratios and the skipped workloads', () => {
    const md = renderResultsMarkdown(res, cells, headlines(cells));
    expect(md.startsWith('# Ferry benchmark: namespace lab, link lan')).toBe(true);
    expect(md.match(/^## web, \d+ MiB/gm)).toEqual(['## web, 64 MiB', '## web, 256 MiB', '## web, 1024 MiB']);
    expect(md).toContain('- skipped precopy, pc-ps, pc-ps-rsync, pc-lazy: no soft-dirty tracking');
    expect(md).toContain('## Ratios');
    expect(md).toContain("- the final dump's pages against round 1's: **not measured**");
    expect(md).toContain('- web at 4096 MiB: 4096 MiB needs about 6144 MiB free on lab-1');
  });

  it('formats the ratios and bandwidths', () => {
    expect(renderHeadlines([{ key: 'lazy-scaling', label: 'x', value: 0.0312, detail: 'd' }])).toBe('- x: **0.031** (d)');
    expect(formatBits(184e6)).toBe('184 Mbit/s');
    expect(formatBits(21.3e9)).toBe('21.30 Gbit/s');
  });
});

describe('the WordPress section', () => {
  const wres = results([webCell(64), wordpressCell()]);
  const wcells = wres.cells.map((c) => summarizeCell(c, wres.link.measurements));
  const md = renderResultsMarkdown(wres, wcells, headlines(wcells));
  const section = md.slice(md.indexOf("## WordPress + MariaDB (the paper's workload)"), md.indexOf('## Ratios'));

  it('is a section of its own after the web cells, with a Table II of the group moves', () => {
    expect(md.match(/^## .*$/gm)).toEqual(['## web, 64 MiB (1 MiB/s dirtied)', "## WordPress + MariaDB (the paper's workload)", '## Ratios', '## Skipped']);
    const t = table(section);
    expect(t[0]).toEqual(TABLE_HEAD);
    expect(t.slice(1).map((r) => r[0])).toEqual(['Normal', 'Page Server', 'Link limit (iperf3: 900 Mbit/s)']);
    const ps = t[2]!;
    expect(ps[7]).toBe('9.00 ± 0.64'); // the group's window
    expect(ps[9]).toBe('682'); // both members' bytes
    expect(ps.at(-1)).toBe('2/2');
    expect(t[3]![9]).toBe('180'); // the pair's memory
  });

  it('says what the group figures are, and what was left out', () => {
    expect(section).toContain('The group bench-wp (bench-wp-db, bench-wp-web, restored in that order) moved as one');
    expect(section).toContain("Downtime is the group's one window");
    expect(section).toContain('180 MiB of memory');
    expect(section).toContain("- skipped the Podman row: the peer's image is Ferry's web rootfs; wordpress is not built for Podman");
    expect(section).not.toContain('Clients through HAProxy');
  });

  it('has no group note for a cell of one container', () => {
    expect(renderGroupNote(wcells[0]!)).toBe('');
  });
});
