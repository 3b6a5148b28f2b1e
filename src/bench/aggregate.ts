import { PHASE_COLUMNS, type PhaseTimes } from '../migrate/clock.ts';
import { METHOD_INFO, type Method } from '../migrate/methods.ts';
import { COLUMN_TITLES, type MigrationReport } from '../migrate/report.ts';

export interface Stat {
  mean: number;
  sd: number;
  n: number;
}

export interface MethodSummary {
  method: Method;
  runs: number;
  failures: number;
  columns: Record<keyof PhaseTimes, Stat | null>;
  bytes: Stat;
  pagesWritten: Stat | null;
  frozenMs: Stat | null;
}

export function stat(xs: readonly number[]): Stat | null {
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, n: xs.length };
}

/** Mean and sample standard deviation per method and Table II column, as the paper reports them. */
export function aggregate(reports: readonly MigrationReport[]): MethodSummary[] {
  const methods = [...new Set(reports.map((r) => r.method))];
  return methods.map((method) => {
    const all = reports.filter((r) => r.method === method);
    const ok = all.filter((r) => r.outcome === 'migrated');
    const col = (c: keyof PhaseTimes) => stat(ok.map((r) => r.times[c]).filter((v): v is number => v !== null));
    return {
      method,
      runs: all.length,
      failures: all.length - ok.length,
      columns: Object.fromEntries(PHASE_COLUMNS.map((c) => [c, col(c)])) as Record<keyof PhaseTimes, Stat | null>,
      bytes: stat(ok.map((r) => r.bytes.total)) ?? { mean: 0, sd: 0, n: 0 },
      pagesWritten: METHOD_INFO[method].lazy ? null : stat(ok.map((r) => r.criu?.pagesWritten ?? 0)),
      frozenMs: METHOD_INFO[method].lazy ? null : stat(ok.map((r) => r.criu?.frozenMs ?? 0)),
    };
  });
}

const pm = (s: Stat | null) => (s === null ? '-' : `${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)}`);

/** A Markdown table in the paper's layout (seconds, mean ± sd), plus bytes moved. */
export function renderBenchMarkdown(summaries: readonly MethodSummary[]): string {
  const head = ['Method', ...PHASE_COLUMNS.map((c) => COLUMN_TITLES[c]), 'Moved (MiB)', 'Runs'];
  const rows = summaries.map((s) => [
    METHOD_INFO[s.method].title,
    ...PHASE_COLUMNS.map((c) => pm(s.columns[c])),
    (s.bytes.mean / 1048576).toFixed(0),
    `${s.runs - s.failures}/${s.runs}`,
  ]);
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
