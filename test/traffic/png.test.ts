import { describe, expect, it } from 'vitest';
import { PNG_SIGNATURE, crc32, encodePngRgb, isPng, pngChunks, readPngHeader } from '../../src/traffic/png.ts';
import { decodeRgbPng } from './png.ts';

describe('png', () => {
  it('computes the standard CRC-32 check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('1234'), Buffer.from('56789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('encodes RGB pixels that decode back unchanged', () => {
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 1, 2, 3, 250, 251, 252]);
    const png = encodePngRgb(3, 2, rgb);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(readPngHeader(png)).toEqual({ width: 3, height: 2, bitDepth: 8, colorType: 2 });
    const chunks = pngChunks(png);
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(chunks.every((c) => c.crcOk)).toBe(true);
    const d = decodeRgbPng(png);
    expect(d.raw.length).toBe(2 * (1 + 3 * 3));
    expect(d.pixel(0, 0)).toEqual([255, 0, 0]);
    expect(d.pixel(2, 0)).toEqual([0, 0, 255]);
    expect(d.pixel(1, 1)).toEqual([1, 2, 3]);
  });

  it('isPng checks the signature and a well-formed IHDR', () => {
    const png = encodePngRgb(1, 1, new Uint8Array(3));
    expect(isPng(png)).toBe(true);
    expect(isPng(png.subarray(0, 20))).toBe(false);
    const badSig = Buffer.from(png);
    badSig[1] = 0;
    expect(isPng(badSig)).toBe(false);
    const badCrc = Buffer.from(png);
    badCrc[17] ^= 0xff; // inside IHDR's width
    expect(isPng(badCrc)).toBe(false);
    expect(isPng(Buffer.from('not a png at all, just some text'))).toBe(false);
  });

  it('refuses sizes and buffers that do not match', () => {
    expect(() => encodePngRgb(0, 1, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodePngRgb(2, 2, new Uint8Array(11))).toThrow(RangeError);
  });
});
