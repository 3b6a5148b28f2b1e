import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** The loose shape tests read specs through: vega-lite's own types are unions too deep to walk. */
export interface Layer {
  name?: string;
  layer?: Layer[];
  mark: { type: string } & Record<string, unknown>;
  data?: { values: Record<string, unknown>[] };
  transform?: unknown[];
  encoding: Record<string, Record<string, unknown> & { scale?: Record<string, unknown>; axis?: Record<string, unknown> }>;
}

export interface LooseSpec {
  title: { text: string; subtitle?: string };
  width?: number;
  height?: number | { step: number };
  data?: { values: Record<string, unknown>[] };
  layer?: Layer[];
  facet?: Record<string, Record<string, unknown>>;
  spec?: { layer: Layer[] };
  encoding?: Record<string, Record<string, unknown>>;
}

export function loose(spec: TopLevelSpec): LooseSpec {
  return spec as unknown as LooseSpec;
}

/** A layer by name, looked for in nested layers too. */
export function layerNamed(spec: TopLevelSpec, name: string): Layer | undefined {
  const find = (layers: readonly Layer[] | undefined): Layer | undefined => {
    for (const l of layers ?? []) {
      if (l.name === name) return l;
      const inner = find(l.layer);
      if (inner) return inner;
    }
    return undefined;
  };
  return find(loose(spec).layer);
}

/** Layer names in drawing order, nested layers flattened. */
export function layerNames(spec: TopLevelSpec): string[] {
  const walk = (layers: readonly Layer[] | undefined): string[] => (layers ?? []).flatMap((l) => [...(l.name ? [l.name] : []), ...walk(l.layer)]);
  return walk(loose(spec).layer);
}

/** What vega-lite warns about while compiling: for Ferry's own specs, each warning is a mistake. */
export function compileWarnings(spec: TopLevelSpec): string[] {
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn);
  logger.warn = (...args: readonly unknown[]) => {
    warnings.push(args.map(String).join(' '));
    return logger;
  };
  compile(spec, { logger });
  return warnings;
}
