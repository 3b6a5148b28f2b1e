/**
 * The benchmark as Markdown, shaped like the paper's Table II (methods as rows, its columns in
 * seconds, mean ± sd), one table per workload and size, plus Podman's row and the link's limit,
 * the clients' view behind HAProxy, the headline ratios, and where every figure came from. Pure.
 */
import { PHASE_COLUMNS } from '../migrate/clock.ts';
import { COLUMN_TITLES } from '../migrate/report.ts';
import { describeProfile } from '../infra/link/profile.ts';
import type { CellSummary, Headline, RowSummary, Stat } from './aggregate.ts';
import type { BenchResults } from './results.ts';

const pm = (s: Stat | null | undefined, digits = 2, scale = 1) => (s ? `${(s.mean * scale).toFixed(digits)} ± ${(s.sd * scale).toFixed(digits)}` : '-');
const int = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatBits(bps: number): string {
  return bps >= 1e9 ? `${(bps / 1e9).toFixed(2)} Gbit/s` : `${(bps / 1e6).toFixed(0)} Mbit/s`;
}

function mib(bytes: number): string {
  const m = bytes / 1048576;
  return m >= 10 ? m.toFixed(0) : m.toFixed(1);
}

function pagesCell(r: RowSummary): string {
  if (!r.finalOverRound1 || !r.pagesRound1 || !r.pagesFinal) return '-';
  return `${(r.finalOverRound1.mean * 100).toFixed(1)} % (${int(r.pagesFinal.mean)} / ${int(r.pagesRound1.mean)})`;
}

function throughputCell(r: RowSummary): string {
  if (!r.throughput) return '-';
  const rate = `${(r.throughput.mean / 1048576).toFixed(0)} MiB/s`;
  return r.linkPct ? `${rate} (${r.linkPct.mean.toFixed(0)} %)` : rate;
}

export const TABLE_HEAD = [
  'Method',
  ...PHASE_COLUMNS.map((c) => COLUMN_TITLES[c]),
  'Moved (MiB)',
  'Frozen (s)',
  'Final / round 1 pages',
  'Memory throughput (% of link)',
  'Runs',
];

const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;

/** One cell's Table II: its rows, then the link's limit. */
export function renderCellTable(c: CellSummary): string {
  const rows = c.rows.map((r) => [
    r.row.title,
    ...PHASE_COLUMNS.map((col) => pm(r.columns[col])),
    r.bytes ? mib(r.bytes.mean) : '-',
    pm(r.frozenMs, 2, 1 / 1000),
    pagesCell(r),
    throughputCell(r),
    `${r.runs - r.failures}/${r.runs}`,
  ]);
  if (c.link) {
    const floor = `≥ ${c.link.floorS.toFixed(2)}`;
    const cols = PHASE_COLUMNS.map((col) => (col === 'transfer' || col === 'downtime' ? floor : '-'));
    rows.push([`Link limit (iperf3: ${formatBits(c.link.bitsPerSecond.mean)})`, ...cols, String(c.mib), '-', '-', '100 %', `${c.link.bitsPerSecond.n} measurements`]);
  }
  return [line(TABLE_HEAD), line(TABLE_HEAD.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The clients' view of the rows behind HAProxy, or '' when none ran. */
export function renderClientTable(c: CellSummary): string {
  const rows = c.rows.filter((r) => r.client);
  if (rows.length === 0) return '';
  const head = ['Method', 'Clients', 'Requests', 'Failed', 'p50 (ms)', 'p99 (ms)', 'Client-visible gap (s)', 'Downtime (s)', 'Gap / downtime'];
  return [
    line(head),
    line(head.map(() => '---')),
    ...rows.map((r) => {
      const cl = r.client!;
      return line([r.row.title, String(cl.clients), pm(cl.requests, 0), pm(cl.failures, 1), pm(cl.p50Ms, 0), pm(cl.p99Ms, 0), pm(cl.gapS), pm(r.columns.downtime), cl.gapOverDowntime ? `${cl.gapOverDowntime.mean.toFixed(2)}` : '-']);
    }),
  ].join('\n');
}

export function renderHeadlines(hs: readonly Headline[]): string {
  return hs.map((h) => `- ${h.label}: ${h.value === null ? '**not measured**' : `**${h.value.toFixed(h.value < 0.1 ? 3 : 2)}**`} (${h.detail})`).join('\n');
}

/** Where the numbers came from: the lines every table carries. */
export function renderProvenance(res: BenchResults): string {
  const m = res.meta;
  const hosts = m.hosts
    .map((h) => `${h.name} (${h.address}): kernel ${h.kernel}, CRIU ${h.criu ?? 'missing'}, runc ${h.runc ?? 'missing'}, Podman ${h.podman ?? 'not installed'}, soft-dirty ${h.softDirty ? 'yes' : 'no'}, userfaultfd ${h.uffd ? 'yes' : 'no'}`)
    .join('; ');
  const iperf = res.link.measurements.length
    ? res.link.measurements.map((x) => `${x.from} → ${x.to} ${formatBits(x.bitsPerSecond)}${x.retransmits !== null ? ` (${int(x.retransmits)} retransmits)` : ''}`).join(', ')
    : 'not measured';
  return [
    `- When: ${m.date.replace('T', ' ').slice(0, 16)} UTC; Ferry ${m.ferry.version}${m.ferry.commit ? `, commit ${m.ferry.commit.slice(0, 12)}` : ''}${m.quick ? '; **--quick** (a harness check, not a measurement)' : ''}`,
    `- Lab: ${m.labTitle}; ${hosts}`,
    `- Machine: ${m.machine.cores} cores (${m.machine.cpu}), ${m.machine.memGiB} GiB, kernel ${m.machine.kernel}`,
    `- Link: ${describeProfile(res.link.profile)}; shaping: ${res.link.shaping}; iperf3: ${iperf}`,
    `- ${m.runs} runs per row, alternating direction; seconds, mean ± sd over the runs that moved the container; web ballast incompressible, rewritten at ${m.dirtyMiBPerS} MiB/s`,
    '- Moved: bytes over the link (page server + rsync; Podman: its archive by rsync). Frozen: CRIU\'s own frozen time. Final / round 1: the final dump\'s pages against pre-copy round 1\'s. ' +
      'Memory throughput: bytes moved ÷ the phases in which they cross the link (transfer and pre-copy, plus checkpoint and pre-dump through the page server), as a percentage of the link measured in the same direction. Link limit: the container\'s memory at the measured bandwidth',
  ].join('\n');
}

/** What a group cell's figures are, in words (pure): its table reads like the others but adds up members. */
export function renderGroupNote(c: CellSummary): string {
  if (!c.group) return '';
  return [
    `The group ${c.group.name} (${c.group.members.join(', ')}, restored in that order) moved as one, as \`ferry migrate --group\` moves it, ${c.mib} MiB of memory between them once deployed.`,
    "Downtime is the group's one window, from the first member's freeze to the last member's healthy restore; total is the group's job.",
    "Pre-copy, checkpoint and transfer are the longest member's (they run side by side); restore is the members' sum (one after the other).",
    "Moved is summed over the members, their bundles (root filesystems) included; frozen is the longest member's. Each member's report is in the JSON.",
  ].join(' ');
}

/** The whole results file as Markdown. */
export function renderResultsMarkdown(res: BenchResults, cells: readonly CellSummary[], hs: readonly Headline[]): string {
  const out = [`# Ferry benchmark: ${res.meta.lab} lab, link ${res.link.profile.name}`, '', renderProvenance(res), ''];
  if (res.incomplete) out.push(`**Incomplete run**: ${res.incomplete}`, '');
  for (const c of cells) {
    out.push(`## ${c.title}`, '', renderCellTable(c), '');
    if (c.group) out.push(renderGroupNote(c), '');
    const client = renderClientTable(c);
    if (client) out.push(`Clients through HAProxy during each migration (closed-loop load probe):`, '', client, '');
    const cell = res.cells.find((x) => x.workload === c.workload && x.mib === c.mib);
    for (const s of cell?.skipped ?? []) out.push(`- skipped ${s.what}: ${s.reason}`);
    for (const r of c.rows) for (const e of r.errors) out.push(`- ${r.row.title} failed once or more: ${e}`);
    if (out.at(-1) !== '') out.push('');
  }
  out.push('## Ratios', '', renderHeadlines(hs), '');
  if (res.skipped.length) out.push('## Skipped', '', ...res.skipped.map((s) => `- ${s.what}: ${s.reason}`), '');
  return out.join('\n');
}
