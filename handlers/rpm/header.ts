/**
 * The rpm header structure (rpm's lib/header.c; docs/formats.md): used twice in a package, for the
 * signature header and the main header.
 *
 *   magic 8e ad e8 01, 4 reserved bytes, il (u32 BE), dl (u32 BE),
 *   il index entries of 16 bytes (tag, type, offset into the data store, count; u32 BE each),
 *   dl bytes of data store.
 *
 * parseHeader checks everything a reader relies on (types, offsets and counts inside the store,
 * strings terminated, the region tag's trailer) and throws a FormatError naming the entry
 * otherwise. serializeHeader lays the entries out again in their original data order with rpm's
 * alignment (int16 2, int32 4, int64 8, zero padding), so a header whose values keep their sizes
 * comes out byte for byte as it went in. Nothing here knows what a tag means: that is rpm.ts.
 */
import { FormatError } from '../../src/kit/errors.js';

export const HEADER_MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);
const INTRO = 16;
const ENTRY = 16;
/** rpm's own bounds (hdrchkTags, hdrchkData): anything larger is not a header rpm would read. */
const MAX_ENTRIES = 0xffff;
const MAX_DATA = 0x0fffffff;

export enum Type {
  Char = 1,
  Int8 = 2,
  Int16 = 3,
  Int32 = 4,
  Int64 = 5,
  String = 6,
  Bin = 7,
  StringArray = 8,
  I18nString = 9,
}

const ALIGN: Record<number, number> = { [Type.Int16]: 2, [Type.Int32]: 4, [Type.Int64]: 8 };
const WIDTH: Record<number, number> = { [Type.Char]: 1, [Type.Int8]: 1, [Type.Int16]: 2, [Type.Int32]: 4, [Type.Int64]: 8, [Type.Bin]: 1 };

/** The region tags: the first entry of an immutable header points at a 16-byte trailer. */
export const REGION_TAGS = new Set([61, 62, 63]); // HEADERIMAGE, HEADERSIGNATURES, HEADERIMMUTABLE

export interface Entry {
  readonly tag: number;
  readonly type: Type;
  count: number;
  /** The entry's bytes in the data store (without alignment padding). */
  data: Buffer;
  /** Where the data was: entries are laid out again in this order. */
  readonly order: number;
}

export interface Header {
  readonly entries: Entry[];
  /** The header's size on disk (intro, index and data store). */
  readonly size: number;
}

/** The length of an entry's data from `offset`, or an error naming what is wrong. */
function dataLength(store: Buffer, type: Type, offset: number, count: number, what: string): number {
  const width = WIDTH[type];
  if (width !== undefined) {
    const length = width * count;
    if (offset + length > store.length) throw new FormatError(`${what}: ${count} values of ${width} bytes run past the data store (${store.length} bytes)`);
    return length;
  }
  if (type !== Type.String && type !== Type.StringArray && type !== Type.I18nString) throw new FormatError(`${what}: unknown type ${type}`);
  if (type === Type.String && count !== 1) throw new FormatError(`${what}: a string with count ${count}`);
  let end = offset;
  for (let i = 0; i < count; i++) {
    const nul = store.indexOf(0, end);
    if (nul < 0) throw new FormatError(`${what}: string ${i + 1} of ${count} is not terminated inside the data store`);
    end = nul + 1;
  }
  return end - offset;
}

/** Parse the header at the start of `buf`; `what` names it in errors. */
export function parseHeader(buf: Buffer, what: string): Header {
  const size = headerSize(buf, what);
  const il = buf.readUInt32BE(8);
  const dl = buf.readUInt32BE(12);
  if (buf.length < size) throw new FormatError(`truncated ${what}: ${size} bytes declared, ${buf.length} present`);
  const store = buf.subarray(INTRO + il * ENTRY, size);
  const raw = Array.from({ length: il }, (_, i) => {
    const p = INTRO + i * ENTRY;
    return { tag: buf.readUInt32BE(p), type: buf.readUInt32BE(p + 4) as Type, offset: buf.readInt32BE(p + 8), count: buf.readUInt32BE(p + 12), index: i };
  });
  const byOffset = [...raw].sort((a, b) => a.offset - b.offset || a.index - b.index);
  const order = new Map(byOffset.map((e, i) => [e, i]));
  const entries = raw.map((e) => {
    const name = `${what} entry ${e.index + 1} (tag ${e.tag})`;
    if (e.offset < 0 || e.offset >= dl) throw new FormatError(`${name}: offset ${e.offset} is outside the data store (${dl} bytes)`);
    if (e.count < 1) throw new FormatError(`${name}: count 0`);
    const align = ALIGN[e.type] ?? 1;
    if (e.offset % align) throw new FormatError(`${name}: offset ${e.offset} is not aligned to ${align}`);
    const length = dataLength(store, e.type, e.offset, e.count, name);
    return { tag: e.tag, type: e.type, count: e.count, data: Buffer.from(store.subarray(e.offset, e.offset + length)), order: order.get(e)! };
  });
  checkRegion(entries, what);
  return { entries, size };
}

/** An immutable region's first entry points at a trailer naming the same tag and the region's
 *  entries (offset -16 × count); rpm refuses a header whose trailer disagrees. */
function checkRegion(entries: readonly Entry[], what: string): void {
  const region = entries[0];
  if (!REGION_TAGS.has(region.tag)) return;
  const trailer = region.data;
  if (region.type !== Type.Bin || region.count !== 16 || trailer.readUInt32BE(0) !== region.tag || trailer.readUInt32BE(4) !== Type.Bin) {
    throw new FormatError(`${what}: bad region trailer for tag ${region.tag}`);
  }
  const regionEntries = -trailer.readInt32BE(8) / ENTRY;
  if (!Number.isInteger(regionEntries) || regionEntries < 1 || regionEntries > entries.length) {
    throw new FormatError(`${what}: region trailer claims ${regionEntries} entries of ${entries.length}`);
  }
}

/** The region trailer for `entries` entries (rpm writes it when the set of tags changes). */
export function regionTrailer(tag: number, entries: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeUInt32BE(tag, 0);
  out.writeUInt32BE(Type.Bin, 4);
  out.writeInt32BE(-entries * ENTRY, 8);
  out.writeUInt32BE(16, 12);
  return out;
}

/** The header's bytes: entries in their index order, data in the original data order. */
export function serializeHeader(entries: readonly Entry[]): Buffer {
  const offsets = new Map<Entry, number>();
  const parts: Buffer[] = [];
  let dl = 0;
  for (const e of [...entries].sort((a, b) => a.order - b.order)) {
    const pad = (ALIGN[e.type] ?? 1) - 1;
    const aligned = (dl + pad) & ~pad;
    if (aligned > dl) parts.push(Buffer.alloc(aligned - dl));
    offsets.set(e, aligned);
    parts.push(e.data);
    dl = aligned + e.data.length;
  }
  const index = Buffer.alloc(INTRO + entries.length * ENTRY);
  HEADER_MAGIC.copy(index);
  index.writeUInt32BE(entries.length, 8);
  index.writeUInt32BE(dl, 12);
  entries.forEach((e, i) => {
    const p = INTRO + i * ENTRY;
    index.writeUInt32BE(e.tag, p);
    index.writeUInt32BE(e.type, p + 4);
    index.writeUInt32BE(offsets.get(e)!, p + 8);
    index.writeUInt32BE(e.count, p + 12);
  });
  return Buffer.concat([index, ...parts]);
}

/** The size of the header whose intro is `intro` (16 bytes), before reading the rest. */
export function headerSize(intro: Buffer, what: string): number {
  if (intro.length < INTRO) throw new FormatError(`truncated ${what}`);
  if (!intro.subarray(0, 4).equals(HEADER_MAGIC.subarray(0, 4))) throw new FormatError(`bad ${what} magic ${intro.subarray(0, 4).toString('hex')}`);
  const il = intro.readUInt32BE(8);
  const dl = intro.readUInt32BE(12);
  if (il < 1 || il > MAX_ENTRIES) throw new FormatError(`${what}: ${il} index entries (rpm allows 1 to ${MAX_ENTRIES})`);
  if (dl > MAX_DATA) throw new FormatError(`${what}: data store of ${dl} bytes (rpm allows ${MAX_DATA})`);
  return INTRO + il * ENTRY + dl;
}

// Values, read and written. Integers are unsigned and big-endian, as rpm stores them.

export function readInts(e: Entry): number[] {
  const width = WIDTH[e.type];
  if (e.type < Type.Int8 || e.type > Type.Int64) throw new FormatError(`tag ${e.tag}: type ${e.type} where integers are expected`);
  return Array.from({ length: e.count }, (_, i) =>
    width === 1 ? e.data[i] : width === 2 ? e.data.readUInt16BE(2 * i) : width === 4 ? e.data.readUInt32BE(4 * i) : Number(e.data.readBigUInt64BE(8 * i)),
  );
}

export function writeInts(e: Entry, values: readonly number[]): void {
  const width = WIDTH[e.type];
  const data = Buffer.alloc(width * values.length);
  values.forEach((v, i) => {
    if (width === 1) data[i] = v;
    else if (width === 2) data.writeUInt16BE(v, 2 * i);
    else if (width === 4) data.writeUInt32BE(v, 4 * i);
    else data.writeBigUInt64BE(BigInt(v), 8 * i);
  });
  e.data = data;
  e.count = values.length;
}

export function readStrings(e: Entry): string[] {
  if (e.type !== Type.String && e.type !== Type.StringArray && e.type !== Type.I18nString) throw new FormatError(`tag ${e.tag}: type ${e.type} where strings are expected`);
  return e.data.toString('utf8', 0, e.data.length - 1).split('\0');
}

export function writeStrings(e: Entry, values: readonly string[]): void {
  e.data = Buffer.from(values.map((v) => `${v}\0`).join(''), 'utf8');
  e.count = e.type === Type.String ? 1 : values.length;
}
