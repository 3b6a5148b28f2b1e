import type { Config } from 'vega-lite';

/** The family every chart names; render.ts gives resvg and the text measurer its font files. */
export const FONT_FAMILY = 'DejaVu Sans';

/**
 * One colour per engine phase, shared by every chart so "transfer" looks the same in the
 * response-time bands and in the phase-breakdown bars. No reds: red marks failed requests.
 */
export const PHASE_COLORS: Readonly<Record<string, string>> = {
  preflight: '#c7c7c7',
  prepare: '#d8b5a5',
  'pre-dump': '#4c78a8',
  'pre-copy': '#72b7b2',
  switch: '#9d755d',
  checkpoint: '#f58518',
  transfer: '#eeca3b',
  restore: '#54a24b',
  health: '#b279a2',
  cleanup: '#e0e0e0',
  rollback: '#79706e',
};

/** For a phase name outside PHASE_COLORS (a future phase still gets a colour). */
export const FALLBACK_PHASE_COLOR = '#bab0ac';

export const FAILURE_COLOR = '#d62728';
export const REQUEST_COLOR = '#1f4e79';
export const FREEZE_COLOR = '#222222';

export function phaseColor(name: string): string {
  return PHASE_COLORS[name] ?? FALLBACK_PHASE_COLOR;
}

/** Shared look: one font, quiet grid, titles left-aligned like a figure caption. */
export const CHART_CONFIG: Config = {
  font: FONT_FAMILY,
  background: 'white',
  padding: 12,
  title: { anchor: 'start', fontSize: 15, subtitleFontSize: 12, subtitleColor: '#555555', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#eeeeee', domainColor: '#888888', tickColor: '#888888' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  view: { stroke: '#cccccc' },
};

/** "0.53 s", "12.4 s": two significant decimals below 10 s, one above. */
export function formatSeconds(s: number): string {
  return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
}

/** "64 MiB", "1 GiB", "1.5 GiB". */
export function formatMiB(mib: number): string {
  if (mib >= 1024) return `${Number((mib / 1024).toFixed(2))} GiB`;
  return `${Number(mib.toFixed(1))} MiB`;
}
