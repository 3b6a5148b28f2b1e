import { GLYPH_ADVANCE, glyph } from './font.ts';

export type Rgb = readonly [number, number, number];

/** An RGB pixel buffer with the few drawing operations a line plot needs; clips silently. */
export class Raster {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb,
  ) {
    this.data = new Uint8Array(width * height * 3);
    this.fillRect(0, 0, width - 1, height - 1, background);
  }

  set(x: number, y: number, c: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.data[i] = c[0];
    this.data[i + 1] = c[1];
    this.data[i + 2] = c[2];
  }

  get(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 3;
    return [this.data[i]!, this.data[i + 1]!, this.data[i + 2]!];
  }

  /** Corners inclusive, in any order. */
  fillRect(x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
    const xa = Math.max(0, Math.min(x0, x1));
    const xb = Math.min(this.width - 1, Math.max(x0, x1));
    const ya = Math.max(0, Math.min(y0, y1));
    const yb = Math.min(this.height - 1, Math.max(y0, y1));
    for (let y = ya; y <= yb; y++) for (let x = xa; x <= xb; x++) this.set(x, y, c);
  }

  /** Bresenham, endpoints included. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    let x = x0;
    let y = y0;
    for (;;) {
      this.set(x, y, c);
      if (x === x1 && y === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y += sy;
      }
    }
  }

  /** Top-left anchored text in the built-in font. */
  text(x: number, y: number, s: string, c: Rgb, scale = 1): void {
    for (let k = 0; k < s.length; k++) {
      const rows = glyph(s[k]!);
      const gx = x + k * GLYPH_ADVANCE * scale;
      rows.forEach((row, ry) =>
        row.forEach((on, rx) => {
          if (on) this.fillRect(gx + rx * scale, y + ry * scale, gx + (rx + 1) * scale - 1, y + (ry + 1) * scale - 1, c);
        }),
      );
    }
  }
}
