/**
 * CRIU's own statistics (`stats-dump`, `stats-restore` in the images or work directory), read
 * without crit: a CRIU image is magic numbers, then a 4-byte length and one protobuf message.
 */
export interface DumpStats {
  freezingTimeUs: number;
  frozenTimeUs: number;
  memdumpTimeUs: number;
  memwriteTimeUs: number;
  pagesScanned: number;
  pagesSkippedParent: number;
  pagesWritten: number;
  pagesLazy: number;
}

export interface RestoreStats {
  pagesCompared: number;
  pagesSkippedCow: number;
  forkingTimeUs: number;
  restoreTimeUs: number;
  pagesRestored: number;
}

const IMG_COMMON_MAGIC = 0x54564319;
const IMG_SERVICE_MAGIC = 0x55105940;

type Fields = Map<number, (number | Buffer)[]>;

function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [result, pos];
    mul *= 128;
  }
}

/**
 * Minimal protobuf decoder: varints and length-delimited fields, which is all stats use. A malformed
 * image throws a plain Error (as a short one throws RangeError): statistics are optional, and their one
 * reader of a host's image, `readDumpStats` (context.ts), takes any failure as "no statistics", so
 * none of these reaches a user.
 */
export function decodeFields(buf: Buffer): Fields {
  const fields: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    let key: number;
    [key, pos] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let value: number | Buffer;
    if (wire === 0) {
      [value, pos] = readVarint(buf, pos);
    } else if (wire === 2) {
      let len: number;
      [len, pos] = readVarint(buf, pos);
      value = buf.subarray(pos, pos + len);
      pos += len;
    } else if (wire === 5) {
      value = buf.readUInt32LE(pos);
      pos += 4;
    } else if (wire === 1) {
      value = Number(buf.readBigUInt64LE(pos));
      pos += 8;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
    const list = fields.get(field) ?? [];
    list.push(value);
    fields.set(field, list);
  }
  return fields;
}

function payload(image: Buffer): Buffer {
  let pos = 0;
  const first = image.readUInt32LE(0);
  pos = first === IMG_COMMON_MAGIC || first === IMG_SERVICE_MAGIC ? 8 : 4;
  const size = image.readUInt32LE(pos);
  return image.subarray(pos + 4, pos + 4 + size);
}

const num = (f: Fields, n: number) => {
  const v = f.get(n)?.[0];
  return typeof v === 'number' ? v : 0;
};

function sub(image: Buffer, field: number): Fields | null {
  const outer = decodeFields(payload(image));
  const inner = outer.get(field)?.[0];
  return Buffer.isBuffer(inner) ? decodeFields(inner) : null;
}

export function parseDumpStats(image: Buffer): DumpStats | null {
  const f = sub(image, 1);
  if (!f) return null;
  return {
    freezingTimeUs: num(f, 1),
    frozenTimeUs: num(f, 2),
    memdumpTimeUs: num(f, 3),
    memwriteTimeUs: num(f, 4),
    pagesScanned: num(f, 5),
    pagesSkippedParent: num(f, 6),
    pagesWritten: num(f, 7),
    pagesLazy: num(f, 9),
  };
}

export function parseRestoreStats(image: Buffer): RestoreStats | null {
  const f = sub(image, 2);
  if (!f) return null;
  return {
    pagesCompared: num(f, 1),
    pagesSkippedCow: num(f, 2),
    forkingTimeUs: num(f, 3),
    restoreTimeUs: num(f, 4),
    pagesRestored: num(f, 5),
  };
}

/**
 * Page counts from a dump log's "Pagemap generated: N pages (M lazy) H holes" lines (one per VMA
 * batch). Needed for lazy dumps: CRIU 4.2's lazy page server re-initialises the dump statistics
 * before they are written, so their stats-dump holds zeros.
 */
export function pagemapTotals(log: string): { pages: number; lazy: number; holes: number } | null {
  let pages = 0;
  let lazy = 0;
  let holes = 0;
  let seen = false;
  for (const m of log.matchAll(/Pagemap generated: (\d+) pages \((\d+) lazy\) (\d+) holes/g)) {
    seen = true;
    pages += Number(m[1]);
    lazy += Number(m[2]);
    holes += Number(m[3]);
  }
  return seen ? { pages, lazy, holes } : null;
}
