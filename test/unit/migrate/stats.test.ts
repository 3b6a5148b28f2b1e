import { describe, expect, it } from 'vitest';
import { decodeFields, pagemapTotals, parseDumpStats, parseRestoreStats } from '../../../src/migrate/stats.ts';

// ---- a tiny protobuf encoder, independent of the decoder under test ----

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

const uintField = (field: number, value: number | bigint) => [...varint(field * 8 + 0), ...varint(value)];
const bytesField = (field: number, bytes: number[]) => [...varint(field * 8 + 2), ...varint(bytes.length), ...bytes];
const message = (values: Record<number, number | bigint>) => Object.entries(values).flatMap(([f, v]) => uintField(Number(f), v));

const IMG_SERVICE_MAGIC = 0x55105940;
const STATS_MAGIC = 0x57093306;

/** A CRIU image: service magic, stats magic, payload size, payload (all u32 little-endian). */
function criuImage(payload: number[]): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32LE(IMG_SERVICE_MAGIC, 0);
  head.writeUInt32LE(STATS_MAGIC, 4);
  head.writeUInt32LE(payload.length, 8);
  return Buffer.concat([head, Buffer.from(payload)]);
}

const dumpImage = (entry: Record<number, number | bigint>) => criuImage(bytesField(1, message(entry)));
const restoreImage = (entry: Record<number, number | bigint>) => criuImage(bytesField(2, message(entry)));

describe('varint encoder (test helper)', () => {
  it('encodes as protobuf does', () => {
    expect(varint(1)).toEqual([0x01]);
    expect(varint(300)).toEqual([0xac, 0x02]);
  });
});

describe('parseDumpStats', () => {
  it('reads every dump_stats_entry field', () => {
    const img = dumpImage({ 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 9: 9 });
    expect(parseDumpStats(img)).toEqual({
      freezingTimeUs: 1,
      frozenTimeUs: 2,
      memdumpTimeUs: 3,
      memwriteTimeUs: 4,
      pagesScanned: 5,
      pagesSkippedParent: 6,
      pagesWritten: 7,
      pagesLazy: 9,
    });
  });

  it('reads realistic multi-byte values', () => {
    const s = parseDumpStats(dumpImage({ 1: 1834, 2: 283_941, 5: 262_144, 6: 250_000, 7: 12_144 }));
    expect(s).toMatchObject({ freezingTimeUs: 1834, frozenTimeUs: 283_941, pagesScanned: 262_144, pagesSkippedParent: 250_000, pagesWritten: 12_144 });
  });

  it('reads uint64 values above 2^32 exactly', () => {
    const big = 2 ** 40 + 12345;
    const s = parseDumpStats(dumpImage({ 5: BigInt(big), 7: BigInt(2 ** 33) }));
    expect(s!.pagesScanned).toBe(big);
    expect(s!.pagesWritten).toBe(2 ** 33);
  });

  it('defaults absent fields to 0', () => {
    expect(parseDumpStats(dumpImage({ 7: 42 }))).toEqual({
      freezingTimeUs: 0,
      frozenTimeUs: 0,
      memdumpTimeUs: 0,
      memwriteTimeUs: 0,
      pagesScanned: 0,
      pagesSkippedParent: 0,
      pagesWritten: 42,
      pagesLazy: 0,
    });
  });

  it('skips unknown fields of other wire types (fixed32, fixed64, length-delimited)', () => {
    const fixed32 = [...varint(10 * 8 + 5), 1, 2, 3, 4];
    const fixed64 = [...varint(11 * 8 + 1), 1, 0, 0, 0, 0, 0, 0, 0];
    const inner = [...uintField(1, 11), ...fixed32, ...fixed64, ...bytesField(12, [9, 9, 9]), ...uintField(7, 77)];
    expect(parseDumpStats(criuImage(bytesField(1, inner)))).toMatchObject({ freezingTimeUs: 11, pagesWritten: 77 });
  });

  it('reads an image without the service magic (single magic)', () => {
    const payload = bytesField(1, message({ 7: 5 }));
    const img = Buffer.alloc(8 + payload.length);
    img.writeUInt32LE(STATS_MAGIC, 0);
    img.writeUInt32LE(payload.length, 4);
    Buffer.from(payload).copy(img, 8);
    expect(parseDumpStats(img)!.pagesWritten).toBe(5);
  });

  it('returns null for a restore image', () => {
    expect(parseDumpStats(restoreImage({ 5: 100 }))).toBeNull();
  });
});

describe('parseRestoreStats', () => {
  it('reads every restore_stats_entry field', () => {
    expect(parseRestoreStats(restoreImage({ 1: 1, 2: 2, 3: 3, 4: 4, 5: 5 }))).toEqual({
      pagesCompared: 1,
      pagesSkippedCow: 2,
      forkingTimeUs: 3,
      restoreTimeUs: 4,
      pagesRestored: 5,
    });
  });

  it('reads uint64 values above 2^32', () => {
    expect(parseRestoreStats(restoreImage({ 5: BigInt(2 ** 36 + 1) }))!.pagesRestored).toBe(2 ** 36 + 1);
  });

  it('returns null for a dump image', () => {
    expect(parseRestoreStats(dumpImage({ 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 9: 9 }))).toBeNull();
  });
});

describe('decodeFields', () => {
  it('collects repeated fields in order', () => {
    const f = decodeFields(Buffer.from([...uintField(3, 1), ...uintField(3, 2), ...bytesField(4, [0xff])]));
    expect(f.get(3)).toEqual([1, 2]);
    expect(f.get(4)).toEqual([Buffer.from([0xff])]);
  });

  it('returns no fields for an empty buffer', () => {
    expect(decodeFields(Buffer.alloc(0)).size).toBe(0);
  });

  it('throws on a truncated varint value', () => {
    expect(() => decodeFields(Buffer.from([0x08, 0x80, 0x80]))).toThrow('truncated varint');
  });

  it('throws on a truncated key', () => {
    expect(() => decodeFields(Buffer.from([0x80]))).toThrow('truncated varint');
  });

  it('throws on an unsupported wire type', () => {
    expect(() => decodeFields(Buffer.from([0x0b]))).toThrow(/unsupported protobuf wire type 3/);
  });
});

describe('pagemapTotals (lazy dumps, whose stats CRIU zeroes)', () => {
  it('sums every "Pagemap generated" line of a dump log', () => {
    const log = [
      '(00.185065) Pagemap generated: 0 pages (0 lazy) 0 holes',
      '(00.185247) Pagemap generated: 16 pages (0 lazy) 2 holes',
      '(00.185300) Dumping path for 3 fd via self 10 [/]',
      '(00.185588) Pagemap generated: 8208 pages (8208 lazy) 1 holes',
    ].join('\n');
    expect(pagemapTotals(log)).toEqual({ pages: 8224, lazy: 8208, holes: 3 });
  });
  it('says null when the log has no such line (not zero pages)', () => {
    expect(pagemapTotals('(00.1) Dumping finished successfully\n')).toBeNull();
  });
});
