/** Plain-text table with aligned columns; numbers right-aligned. */
export function renderTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers.map(String), ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || /^-?\d+(\.\d+)?( ?[a-zA-Z%]+)?$/.test(String(r[i]))));
  const fmt = (r: readonly string[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)].join('\n');
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  // Compare the rounded value, so 1048575 B reads 1.0 MiB rather than 1024 KiB.
  const shown = (x: number) => Number(x.toFixed(x < 10 ? 1 : 0));
  while (shown(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const r = shown(v);
  return `${r < 10 ? r.toFixed(1) : r.toFixed(0)} ${units[u]}`;
}

/** `1 change`, `2 changes`, `0 changes`: a count and its noun, singular only for exactly one. */
export function count(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}
