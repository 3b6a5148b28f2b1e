import { inflateSync } from 'node:zlib';

/** A minimal decoder written apart from the encoder, for 8-bit RGB PNGs with filter 0 only. */
export interface Decoded {
  width: number;
  height: number;
  /** Inflated IDAT: per row one filter byte then width*3 bytes. */
  raw: Buffer;
  pixel(x: number, y: number): [number, number, number];
}

export function decodeRgbPng(png: Buffer): Decoded {
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('ascii', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = 1 + width * 3;
  return {
    width,
    height,
    raw,
    pixel(x, y) {
      if (raw[y * stride] !== 0) throw new Error(`row ${y} uses filter ${raw[y * stride]}: this decoder only reads filter 0`);
      const i = y * stride + 1 + x * 3;
      return [raw[i]!, raw[i + 1]!, raw[i + 2]!];
    },
  };
}
