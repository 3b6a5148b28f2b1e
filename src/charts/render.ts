import { existsSync } from 'node:fs';
import path from 'node:path';
import { renderAsync } from '@resvg/resvg-js';
import * as fontkit from 'fontkit';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { FONT_FAMILY } from './style.ts';

/** Debian's fonts-dejavu-core (installed by scripts/setup.sh). */
export const DEFAULT_FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

export interface RenderOptions {
  /**
   * TrueType file of the regular face: drawn by resvg and used to measure text for vega's layout.
   * Its family should be DejaVu Sans, the family the specs name.
   * @defaultValue DEFAULT_FONT_FILE
   */
  fontFile?: string;
  /**
   * Bold face, for titles.
   * @defaultValue `DejaVuSans-Bold.ttf` beside `fontFile` when it exists; without it titles use the regular face
   */
  boldFontFile?: string;
  /**
   * Pixels per SVG unit in the PNG: 2 keeps text crisp on high-density screens and in Slack previews.
   * @defaultValue 2
   */
  scale?: number;
}

interface Fonts {
  files: string[];
  regular: fontkit.Font;
  bold: fontkit.Font;
}

const loaded = new Map<string, Fonts>();

function openFont(file: string): fontkit.Font {
  let f: fontkit.Font | fontkit.FontCollection;
  try {
    f = fontkit.openSync(file);
  } catch (e) {
    throw new FerryError(ErrorCode.ChartFontMissing, `chart font ${file} could not be read (${errorMessage(e)}): reinstall Debian's fonts-dejavu-core or pass another TrueType file as fontFile`, { original: e, details: { fontFile: file } });
  }
  if ('fonts' in f) return f.fonts[0]!; // a .ttc collection: its first face
  return f;
}

function fonts(opts: RenderOptions): Fonts {
  const regularFile = opts.fontFile ?? DEFAULT_FONT_FILE;
  if (!existsSync(regularFile)) {
    throw new FerryError(
      ErrorCode.ChartFontMissing,
      `the chart font ${regularFile} is missing: install it with 'apt-get install fonts-dejavu-core' (scripts/setup.sh does) or pass another TrueType file as fontFile`,
      { details: { fontFile: regularFile } },
    );
  }
  const besideRegular = path.join(path.dirname(regularFile), 'DejaVuSans-Bold.ttf');
  const boldFile = opts.boldFontFile ?? (existsSync(besideRegular) ? besideRegular : undefined);
  const key = `${regularFile}\0${boldFile ?? ''}`;
  let f = loaded.get(key);
  if (!f) {
    const regular = openFont(regularFile);
    const bold = boldFile ? openFont(boldFile) : regular;
    f = { files: boldFile ? [regularFile, boldFile] : [regularFile], regular, bold };
    loaded.set(key, f);
  }
  return f;
}

/** Throws the ChartFontMissing error now, for callers that must not find out after the work is done. */
export function assertChartFont(opts: Pick<RenderOptions, 'fontFile' | 'boldFontFile'> = {}): void {
  fonts(opts);
}

/** The part of a vega scenegraph text item the measurer reads. */
interface TextItem {
  fontSize?: number | string;
  fontWeight?: string | number;
}

/** vega-scenegraph's text measurer, re-exported by vega but missing from its typings. */
interface TextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

/**
 * Without a canvas, vega guesses every character at 0.8 em, which spreads legends and drops
 * axis labels it thinks overlap. Measuring with the very font resvg will draw makes the layout
 * fit the picture (vl-convert does the same). The measurer is process-wide in vega, so it
 * follows the fonts of the latest render.
 */
function measureWith(f: Fonts): void {
  const metrics = (vega as unknown as { textMetrics: TextMetrics }).textMetrics;
  const cache = new Map<string, number>();
  metrics.width = (item, text) => {
    const s = text == null ? '' : String(text).trim();
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    if (s === '' || size <= 0) return 0;
    const w = item.fontWeight;
    const bold = w === 'bold' || w === 'bolder' || (typeof w === 'number' && w >= 600) || (typeof w === 'string' && Number(w) >= 600);
    const key = `${bold ? 'b' : 'r'}${s}`;
    let em = cache.get(key);
    if (em === undefined) {
      const font = bold ? f.bold : f.regular;
      em = font.layout(s).advanceWidth / font.unitsPerEm;
      cache.set(key, em);
    }
    return em * size;
  };
}

/** Vega-Lite spec → SVG text, laid out headless (no browser, no canvas). */
export async function specToSvg(spec: TopLevelSpec, opts: RenderOptions = {}): Promise<string> {
  measureWith(fonts(opts));
  let view: vega.View | undefined;
  try {
    const compiled = compile(spec, { logger: vega.logger(vega.Error) }).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
    return await view.toSVG();
  } catch (e) {
    throw new FerryError(ErrorCode.ChartRenderFailed, `could not lay out the chart '${chartName(spec)}': ${errorMessage(e)}`, { original: e });
  } finally {
    view?.finalize();
  }
}

/** SVG text → PNG bytes (resvg), with only the chart font: no system font lookup, same picture on every machine. */
export async function svgToPng(svg: string, opts: RenderOptions = {}): Promise<Buffer> {
  const f = fonts(opts);
  const scale = opts.scale ?? 2;
  if (!(scale > 0 && scale <= 8)) throw new FerryError(ErrorCode.ChartInvalid, `scale must be above 0 and at most 8, got ${scale}`, { details: { scale } });
  try {
    const img = await renderAsync(svg, {
      font: { loadSystemFonts: false, fontFiles: f.files, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
      fitTo: { mode: 'zoom', value: scale },
      background: 'white',
      logLevel: 'off',
    });
    return img.asPng();
  } catch (e) {
    throw new FerryError(ErrorCode.ChartRenderFailed, `could not rasterise the chart SVG: ${errorMessage(e)}`, { original: e });
  }
}

export async function specToPng(spec: TopLevelSpec, opts: RenderOptions = {}): Promise<Buffer> {
  return svgToPng(await specToSvg(spec, opts), opts);
}

function chartName(spec: TopLevelSpec): string {
  const t = (spec as { title?: unknown }).title;
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object' && 'text' in t) return String((t as { text: unknown }).text);
  return 'untitled';
}
