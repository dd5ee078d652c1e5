/**
 * Zip records: reading an archive through its central directory the way Perl's
 * Archive::Zip 1.68 reads it (which is what the Perl tool's output depends on), plus the shared
 * rules the zip-family handlers apply: DOS times, extra-field normalization, and the zip
 * "kinds" file(1) tells apart (which decides whether the Perl tool touches a file at all).
 *
 * Record layouts (APPNOTE.TXT): local header 30 bytes, central header 46, EOCD 22, zip64 EOCD
 * record 56, zip64 locator 20, data descriptor 16 (with signature).
 */
import { FormatError } from '../../src/kit/errors.js';
import { readExactSync, type Source } from '../../src/kit/io.js';
import { gmtime } from '../../src/kit/time.js';

export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;
export const SIG_DATA_DESCRIPTOR = 0x08074b50;

export const STORED = 0;
export const DEFLATED = 8;
export const FLAG_ENCRYPTED = 0x1;
export const FLAG_DATA_DESCRIPTOR = 0x8;
export const FLAG_UTF8 = 0x800;
export const FA_UNIX = 3;

/** Archive::Zip's earliest representable time: 1980-01-01 12:01:00 UTC. */
export const SAFE_EPOCH = 315576060;

const EMPTY = Buffer.alloc(0);
const KNOWN_SIGNATURES = new Set([SIG_CENTRAL, SIG_LOCAL, SIG_EOCD, SIG_DATA_DESCRIPTOR, SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR]);

/** Fields that local headers and central directory records share. */
export interface HeaderFields {
  versionNeeded: number;
  bitFlag: number;
  method: number;
  lastMod: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** File name bytes as stored in this header. */
  name: Buffer;
  extra: Buffer;
}

export interface CentralEntry extends HeaderFields {
  index: number;
  versionMadeBy: number;
  fileAttributeFormat: number;
  comment: Buffer;
  internalAttrs: number;
  externalAttrs: number;
  localHeaderOffset: number;
}

export interface ZipArchive {
  /** The central directory, parsed on demand (compact: a million entries cost little). */
  directory: CentralDirectory;
  comment: Buffer;
  /** Bytes before the archive proper (a prefix such as a shebang or junk), as Archive::Zip
   *  computes it: where the central directory is minus where the EOCD says it is. */
  eocdOffset: number;
  /** The archive has a zip64 end-of-central-directory record. */
  zip64: boolean;
  /** Offset of the first central directory header. */
  centralStart: number;
  /** Version made by / needed from the zip64 EOCD record (0 when there is none). */
  zip64VersionMadeBy: number;
  zip64VersionNeeded: number;
}

export interface LocalHeader extends HeaderFields {
  offset: number;
  dataOffset: number;
  /** A zip64 extended-information field was found (and removed) in a zip64 archive. */
  zip64: boolean;
}

const fail = (what: string, offset?: number): never => {
  throw new FormatError(`Reading ZIP archive failed: ${what}`, offset);
};

function u64(buf: Buffer, off: number): number {
  const v = buf.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('zip64 value too large', off);
  return Number(v);
}

/** Archive::Zip's _findEndOfCentralDirectory: the last EOCD signature within the final
 *  32 KiB, searched in growing 512-byte steps from the end. */
function findEocd(src: Source): number {
  if (src.size < 22) fail('file is too short');
  let seek = 0;
  for (;;) {
    seek = Math.min(seek + 512, src.size);
    const data = src.readSync(src.size - seek, seek);
    const pos = data.lastIndexOf('PK\x05\x06', undefined, 'latin1');
    if (pos >= 0) return src.size - seek + pos;
    if (seek === src.size || seek >= 32768) fail("can't find EOCD signature");
  }
}

/** Pull the zip64 extended information (0x0001) out of an extra field, as Archive::Zip does
 *  for archives with a zip64 EOCD: returns the field without it and the 64-bit values. */
export function extractZip64(extra: Buffer, fields: number[], central: boolean): { extra: Buffer; values: number[]; found: boolean } {
  const kept: Buffer[] = [];
  let zip64Data: Buffer | undefined;
  let rest = extra;
  while (rest.length >= 4) {
    const id = rest.readUInt16LE(0);
    const size = rest.readUInt16LE(2);
    if (rest.length < 4 + size) fail('invalid extra field (bad data)');
    if (id !== 0x0001) kept.push(rest.subarray(0, 4 + size));
    else zip64Data = rest.subarray(4, 4 + size);
    rest = rest.subarray(4 + size);
  }
  if (rest.length !== 0) fail('invalid extra field (bad header ID or data size)');
  const values = [...fields];
  const found = zip64Data !== undefined;
  if (zip64Data) {
    const len = zip64Data.length;
    let want: boolean[];
    // Archive::Zip's tolerance for writers that always store the full set of fields.
    if (!central && len === 16) want = [true, true, false, false];
    else if (!central && (len === 24 || len === 28)) want = [true, true, true, len === 28];
    else if (central && len === 24) want = [true, true, true, false];
    else if (central && len === 28) want = [true, true, true, true];
    else want = [values[0] === 0xffffffff, values[1] === 0xffffffff, values[2] === 0xffffffff, values[3] === 0xffff];
    let expected = 0;
    want.forEach((w, i) => w && (expected += i === 3 ? 4 : 8));
    if (expected !== len) fail('invalid zip64 extended information extra field');
    let p = 0;
    want.forEach((w, i) => {
      if (!w) return;
      if (i === 3) {
        values[3] = zip64Data!.readUInt32LE(p);
        p += 4;
      } else {
        values[i] = u64(zip64Data!, p);
        p += 8;
      }
    });
  }
  return { extra: Buffer.concat(kept), values, found };
}

/** Read the central directory (Archive::Zip's readFromFileHandle). */
export function readZip(src: Source): ZipArchive {
  let eocdPos = findEocd(src);
  let zip64 = false;
  let cdSize = 0;
  let cdOffset = 0;
  let zip64VersionMadeBy = 0;
  let zip64VersionNeeded = 0;
  let declared = 0;
  // A zip64 locator right before the EOCD, pointing at a consistent zip64 record.
  if (eocdPos >= 20 + 4 - 4 && eocdPos - 20 >= 0) {
    const locPos = eocdPos - 20;
    const loc = src.readSync(locPos, 20);
    if (loc.length === 20 && loc.readUInt32LE(0) === SIG_ZIP64_LOCATOR) {
      const recPos = u64(loc, 8);
      if (recPos <= locPos - 56) {
        const rec = src.readSync(recPos, 56);
        if (rec.length === 56 && rec.readUInt32LE(0) === SIG_ZIP64_EOCD && recPos + 12 + u64(rec, 4) === locPos) {
          zip64 = true;
          zip64VersionMadeBy = rec.readUInt16LE(12);
          zip64VersionNeeded = rec.readUInt16LE(14);
          declared = u64(rec, 32);
          cdSize = u64(rec, 40);
          cdOffset = u64(rec, 48);
        }
      }
    }
  }
  const eocd = readExactSync(src, eocdPos, 22, 'end of central directory');
  const commentLength = eocd.readUInt16LE(20);
  if (!zip64) {
    const marks = [eocd.readUInt16LE(4), eocd.readUInt16LE(6), eocd.readUInt16LE(8), eocd.readUInt16LE(10)];
    declared = eocd.readUInt16LE(10);
    cdSize = eocd.readUInt32LE(12);
    cdOffset = eocd.readUInt32LE(16);
    if (marks.includes(0xffff) || cdSize === 0xffffffff || cdOffset === 0xffffffff) fail('unexpected zip64 marker values in EOCD');
  }
  const comment = commentLength ? readExactSync(src, eocdPos + 22, commentLength, 'zipfile comment') : Buffer.alloc(0);
  if (zip64) {
    // Archive::Zip then works from the zip64 record's position.
    const locPos = eocdPos - 20;
    const loc = src.readSync(locPos, 20);
    eocdPos = u64(loc, 8);
  }
  const centralStart = eocdPos - cdSize;
  if (centralStart < 0) fail('central directory starts before the file');
  const eocdOffset = centralStart - cdOffset;

  // The whole central directory (plus the record that ends it) in one read, then indexed.
  const cd = src.readSync(centralStart, eocdPos + 4 - centralStart);
  const directory = new CentralDirectory(cd, centralStart, zip64, declared);
  return { directory, comment, eocdOffset, zip64, centralStart, zip64VersionMadeBy, zip64VersionNeeded };
}

/**
 * The central directory: the raw records, their positions, and the few values that cannot be
 * read straight from them (zip64 fields; compressed sizes a data descriptor corrects), so an
 * archive of a million entries is indexed in a few bytes per entry. `entry(i)` is a live view.
 */
/** Sizes and offsets: 32-bit unless the archive is zip64. */
type Numbers = Float64Array<ArrayBuffer> | Uint32Array<ArrayBuffer>;

function grow<T extends Numbers>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

export class CentralDirectory {
  readonly count: number;
  private readonly pos: Uint32Array;
  /** Sizes and offsets as Archive::Zip reads them (zip64 fields applied; a stored member's size
   *  from its compressed size; a data descriptor's compressed size once one is read). */
  readonly usize: Numbers;
  readonly csize: Numbers;
  readonly offset: Numbers;
  private readonly zip64Extra = new Map<number, Buffer>();

  constructor(
    private readonly cd: Buffer,
    centralStart: number,
    zip64: boolean,
    /** The entry count the end record declares: the arrays' first size (it may lie). */
    declared: number,
  ) {
    let capacity = Math.max(16, Math.min(declared, Math.floor(cd.length / 46) + 1));
    // The central directory is one Buffer (under 4 GiB): positions fit 32 bits; sizes and
    // offsets do unless the archive is zip64.
    const numbers = (n: number): Numbers => (zip64 ? new Float64Array(n) : new Uint32Array(n));
    let pos = new Uint32Array(capacity);
    let usizes = numbers(capacity);
    let csizes = numbers(capacity);
    let offsets = numbers(capacity);
    let count = 0;
    let p = 0;
    for (;;) {
      if (p + 4 > cd.length) fail('reading header signature', centralStart + p);
      const sig = cd.readUInt32LE(p);
      if (!KNOWN_SIGNATURES.has(sig)) fail(`bad signature: 0x${sig.toString(16).padStart(8, '0')} at offset ${centralStart + p}`);
      if (sig === (zip64 ? SIG_ZIP64_EOCD : SIG_EOCD)) break;
      if (p + 46 > cd.length) fail('reading central dir header', centralStart + p);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      if (p + 46 + nameLen + extraLen + commentLen > cd.length) fail('reading central dir header', centralStart + p);
      let usize = cd.readUInt32LE(p + 24);
      let csize = cd.readUInt32LE(p + 20);
      let offset = cd.readUInt32LE(p + 42);
      if (zip64 && extraLen) {
        const r = extractZip64(cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen), [usize, csize, offset, cd.readUInt16LE(p + 34)], true);
        if (r.found) this.zip64Extra.set(count, r.extra);
        [usize, csize, offset] = r.values;
      }
      // Archive::Zip takes a stored member's size from its compressed size.
      if (usize !== csize && cd.readUInt16LE(p + 10) === STORED) usize = csize;
      if (count === capacity) {
        capacity *= 2;
        [pos, usizes, csizes, offsets] = [grow(pos, capacity), grow(usizes, capacity), grow(csizes, capacity), grow(offsets, capacity)];
      }
      pos[count] = p;
      usizes[count] = usize;
      csizes[count] = csize;
      offsets[count] = offset;
      count++;
      p += 46 + nameLen + extraLen + commentLen;
    }
    this.count = count;
    // Exact arrays (a copy only when the declared count was off).
    const fit = <T extends Numbers>(a: T): T => (a.length === count ? a : (a.slice(0, count) as T));
    this.pos = fit(pos);
    this.usize = fit(usizes);
    this.csize = fit(csizes);
    this.offset = fit(offsets);
  }

  entry(i: number): CentralEntry {
    return new EntryView(this, i);
  }

  /** Raw record fields of entry `i`. */
  u8(i: number, at: number): number {
    return this.cd[this.pos[i] + at];
  }
  u16(i: number, at: number): number {
    return this.cd.readUInt16LE(this.pos[i] + at);
  }
  u32(i: number, at: number): number {
    return this.cd.readUInt32LE(this.pos[i] + at);
  }
  /** Bytes of entry `i` after its fixed header: `skip` into them, `length` long. */
  bytes(i: number, skip: number, length: number): Buffer {
    const v = this.pos[i] + 46 + skip;
    return this.cd.subarray(v, v + length);
  }
  /** Entry `i`'s name bytes against entry `j`'s, as Buffer.compare orders them (no copies:
   *  sorting a million members allocates nothing). */
  compareNames(i: number, j: number): number {
    const cd = this.cd;
    let a = this.pos[i] + 46;
    let b = this.pos[j] + 46;
    const la = this.u16(i, 28);
    const lb = this.u16(j, 28);
    // A loop, not Buffer.compare: names share short prefixes, and the native call's argument
    // checks cost more than the bytes it compares (20 million comparisons for a million names).
    const end = a + Math.min(la, lb);
    for (; a < end; a++, b++) {
      const d = cd[a] - cd[b];
      if (d !== 0) return d;
    }
    return la - lb;
  }
  /** Entry `i`'s name as Archive::Zip holds it (perlName), read straight from the directory. */
  nameString(i: number): string {
    const at = this.pos[i] + 46;
    const end = at + this.u16(i, 28);
    // No subarray for the usual (unflagged, or ASCII) name: a million of them are read, and
    // decoding ASCII as UTF-8 gives the same string.
    const flag = this.u16(i, 8);
    if (flag & FLAG_UTF8 && !this.ascii(at, end)) return perlName(this.cd.subarray(at, end), flag);
    return this.cd.toString('latin1', at, end);
  }
  /** The first entry whose name Archive::Zip cannot write back as it is, and why: an empty
   *  name (it refuses the archive), or one flagged UTF-8 that is not valid UTF-8 (it would write
   *  replacement characters, renaming the member). */
  unwritableName(): { index: number; problem: string } | undefined {
    for (let i = 0; i < this.count; i++) {
      const length = this.u16(i, 28);
      if (length === 0) return { index: i, problem: 'has an empty name, which Archive::Zip refuses' };
      const at = this.pos[i] + 46;
      if (!(this.u16(i, 8) & FLAG_UTF8) || this.ascii(at, at + length)) continue;
      if (!validUtf8(this.cd.subarray(at, at + length))) return { index: i, problem: 'its name is flagged UTF-8 but is not valid UTF-8, and rewriting it would rename the member' };
    }
    return undefined;
  }
  /** Is every entry's name plain ASCII? */
  asciiNames(): boolean {
    for (let i = 0; i < this.count; i++) {
      const at = this.pos[i] + 46;
      if (!this.ascii(at, at + this.u16(i, 28))) return false;
    }
    return true;
  }
  /** Are the directory's bytes `at` to `end` all ASCII? */
  private ascii(at: number, end: number): boolean {
    for (let k = at; k < end; k++) if (this.cd[k] >= 0x80) return false;
    return true;
  }
  /** The extra field without its zip64 field, where it had one. */
  zip64ExtraOf(i: number): Buffer | undefined {
    return this.zip64Extra.get(i);
  }
}

/** One central directory record, read through its directory. */
class EntryView implements CentralEntry {
  constructor(
    private readonly dir: CentralDirectory,
    readonly index: number,
  ) {}
  get versionMadeBy() { return this.dir.u8(this.index, 4); }
  get fileAttributeFormat() { return this.dir.u8(this.index, 5); }
  get versionNeeded() { return this.dir.u16(this.index, 6); }
  get bitFlag() { return this.dir.u16(this.index, 8); }
  get method() { return this.dir.u16(this.index, 10); }
  get lastMod() { return this.dir.u32(this.index, 12); }
  get crc32() { return this.dir.u32(this.index, 16); }
  get compressedSize() { return this.dir.csize[this.index]; }
  /** A data descriptor gives the real compressed size. */
  set compressedSize(size: number) { this.dir.csize[this.index] = size; }
  get uncompressedSize() { return this.dir.usize[this.index]; }
  get name() { return this.dir.bytes(this.index, 0, this.dir.u16(this.index, 28)); }
  get extra() { return this.dir.zip64ExtraOf(this.index) ?? this.dir.bytes(this.index, this.dir.u16(this.index, 28), this.dir.u16(this.index, 30)); }
  get comment() { return this.dir.bytes(this.index, this.dir.u16(this.index, 28) + this.dir.u16(this.index, 30), this.dir.u16(this.index, 32)); }
  get internalAttrs() { return this.dir.u16(this.index, 36); }
  get externalAttrs() { return this.dir.u32(this.index, 38); }
  get localHeaderOffset() { return this.dir.offset[this.index]; }
}

/** Read an entry's local header (Archive::Zip's _seekToLocalHeader, which retries at the
 *  offset shifted by the archive's prefix). */
export function readLocalHeader(src: Source, zip: ZipArchive, e: CentralEntry): LocalHeader {
  let offset = e.localHeaderOffset;
  const expected = 30 + e.name.length + 64; // the header, the name and a typical extra field
  let h = src.readSync(offset, expected);
  if (!(h.length >= 30 && h.readUInt32LE(0) === SIG_LOCAL)) {
    const retry = zip.eocdOffset ? src.readSync(offset + zip.eocdOffset, expected) : undefined;
    if (retry && retry.length >= 30 && retry.readUInt32LE(0) === SIG_LOCAL) {
      offset += zip.eocdOffset;
      h = retry;
    } else fail(`no local header for ${e.name.toString('latin1')}`, offset);
  }
  const nameLen = h.readUInt16LE(26);
  const extraLen = h.readUInt16LE(28);
  let vars = h;
  let v = 30;
  if (h.length < 30 + nameLen + extraLen) {
    vars = src.readSync(offset + 30, nameLen + extraLen);
    v = 0;
    if (vars.length < nameLen + extraLen) fail('reading local file header', offset);
  }
  // Copies: a subarray would keep the whole read-ahead window (64 KiB) alive for as long as the
  // header is kept (a directory's, for the whole run).
  let extra: Buffer = extraLen ? Buffer.from(vars.subarray(v + nameLen, v + nameLen + extraLen)) : EMPTY;
  let usize = h.readUInt32LE(22);
  let csize = h.readUInt32LE(18);
  let zip64 = false;
  if (zip.zip64 && extraLen) {
    const r = extractZip64(extra, [usize, csize], false);
    extra = r.extra;
    [usize, csize] = r.values;
    zip64 = r.found;
  }
  return {
    offset,
    versionNeeded: h.readUInt16LE(4),
    bitFlag: h.readUInt16LE(6),
    method: h.readUInt16LE(8),
    lastMod: h.readUInt32LE(10),
    crc32: h.readUInt32LE(14),
    compressedSize: csize,
    uncompressedSize: usize,
    name: Buffer.from(vars.subarray(v, v + nameLen)),
    extra,
    dataOffset: offset + 30 + nameLen + extraLen,
    zip64,
  };
}

/** Why an archive cannot be written as Archive::Zip would write it: it is then kept as it is,
 *  with this message as the warning. */
export class Unwritable extends Error {}

/** Archive::Zip's _readDataDescriptor: crc, compressed and uncompressed size after the data,
 *  with or without the optional signature. */
export function readDataDescriptor(src: Source, at: number, zip64: boolean, crcBefore: number): { crc32: number; compressedSize: number; uncompressedSize: number } {
  const sig = readExactSync(src, at, 4, 'data descriptor');
  const s = sig.readUInt32LE(0);
  const size = zip64 ? 20 : 12;
  if (s === SIG_DATA_DESCRIPTOR && s !== crcBefore) {
    const d = readExactSync(src, at + 4, size, 'data descriptor');
    return zip64 ? { crc32: d.readUInt32LE(0), compressedSize: u64(d, 4), uncompressedSize: u64(d, 12) } : { crc32: d.readUInt32LE(0), compressedSize: d.readUInt32LE(4), uncompressedSize: d.readUInt32LE(8) };
  }
  const d = readExactSync(src, at + 4, size - 4, 'data descriptor');
  return zip64 ? { crc32: s, compressedSize: u64(d, 0), uncompressedSize: u64(d, 8) } : { crc32: s, compressedSize: d.readUInt32LE(0), uncompressedSize: d.readUInt32LE(4) };
}

/** Archive::Zip's floor inside _unixToDosTime: `$safe_epoch = 31.686060` (seconds, sic). The
 *  1980 floor is applied by the zip normalizer before; only `.clj`'s T-1 can go below it. */
const ARCHIVE_ZIP_FLOOR = 31.68606;

/** Archive::Zip's _unixToDosTime (in UTC). Out-of-range years wrap into the high bits exactly
 *  as Perl's unsigned sum does (the result is the low 32 bits). */
let lastDos: [number, number] | undefined;
export function dosTime(seconds: number): number {
  if (lastDos && lastDos[0] === seconds) return lastDos[1]; // every member usually gets the same T
  const dos = computeDosTime(seconds);
  lastDos = [seconds, dos];
  return dos;
}

function computeDosTime(seconds: number): number {
  let t = seconds;
  if (!t || t < ARCHIVE_ZIP_FLOOR) t = Math.trunc(ARCHIVE_ZIP_FLOOR);
  const g = gmtime(t);
  const dt = (g.second >> 1) + (g.minute << 5) + (g.hour << 11) + g.day * 2 ** 16 + g.month * 2 ** 21 + (g.year - 1980) * 2 ** 25;
  return ((dt % 2 ** 32) + 2 ** 32) % 2 ** 32;
}

/**
 * strip-nondeterminism's normalize_extra_fields, byte for byte, quirks included:
 *  - 0x5455 (extended timestamp): keep id, length and flags; one time per 4 bytes after the
 *    flags, each set to `time` (the floored canonical time);
 *  - 0x000a (NTFS): tag 1 of size 24 gets mtime, atime and ctime = T (unset: 0) in 100 ns
 *    units since 1601;
 *  - 0x7875 (Info-ZIP Unix, version 1): uid and gid zeroed, widths kept;
 *  - others copied; an unknown field running past the end makes the whole field invalid.
 * Returns undefined (after a warning) where Perl's returns undef: the field is then written
 * empty.
 */
export function normalizeExtraField(field: Buffer, time: number, rawTimestamp: number | undefined, warn: (m: string) => void): Buffer | undefined {
  const out: Buffer[] = [];
  const sub = (start: number, len: number) => field.subarray(Math.min(start, field.length), Math.min(start + len, field.length));
  const byte = (at: number) => (at < field.length ? field[at] : 0);
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(((v % 2 ** 32) + 2 ** 32) % 2 ** 32);
    return b;
  };
  let pos = 0;
  for (;;) {
    const remaining = field.length - pos;
    if (remaining < 2) break; // unpack("vv") yields nothing: the loop ends
    const id = field.readUInt16LE(pos);
    const len = remaining >= 4 ? field.readUInt16LE(pos + 2) : undefined;
    // Beyond Perl, which would write these as garbage that a second pass reads differently:
    // a known field whose length does not fit its layout, or runs past the extra field, is an error.
    const bad = (what: string) => new FormatError(`invalid ${what} extra field (length ${len ?? 'missing'})`);
    if ((id === 0x5455 || id === 0x000a || id === 0x7875) && (len === undefined || pos + 4 + len > field.length)) throw bad(id === 0x5455 ? 'extended-timestamp' : id === 0x000a ? 'NTFS' : 'Unix uid/gid');
    if (id === 0x5455) {
      if (len! < 1 || (len! - 1) % 4 !== 0) throw bad('extended-timestamp');
      out.push(sub(pos, 5));
      for (let i = 1; i < (len ?? 0); i += 4) out.push(u32(time));
    } else if (id === 0x000a) {
      // Perl's loop reads only the layout every writer uses (one tag 1 of 24 bytes) correctly;
      // any other it would garble, so that a second pass differs: refused.
      if (len !== 32 || field.readUInt16LE(pos + 8) !== 1 || field.readUInt16LE(pos + 10) !== 24) throw new FormatError(`NTFS extra field of an unusual layout (length ${len}), which would not be rewritten faithfully`);
      out.push(sub(pos, 8));
      for (let i = 8; i < (len ?? 0); ) {
        if (pos + i + 4 > field.length) {
          // Perl would loop forever here (its tag size is undefined); refuse instead.
          throw new FormatError('invalid NTFS extra field: tag header past the end of the field');
        }
        const tag = field.readUInt16LE(pos + i);
        const tagSize = field.readUInt16LE(pos + i + 2);
        if (i + 4 + tagSize > len! + 4) throw new FormatError('invalid NTFS extra field: a tag runs past the field');
        out.push(sub(pos + i, 4));
        if (tag === 0x0001 && tagSize === 24) {
          const ts = BigInt((rawTimestamp ?? 0) + 11644473600) * 10000000n;
          const low = Number(((ts % 2n ** 32n) + 2n ** 32n) % 2n ** 32n);
          const high = Math.trunc(Number(ts) / 2 ** 32);
          const t = Buffer.alloc(8);
          t.writeUInt32LE(low, 0);
          t.writeUInt32LE(((high % 2 ** 32) + 2 ** 32) % 2 ** 32, 4);
          out.push(t, t, t);
        } else {
          out.push(sub(pos + i, tagSize));
        }
        if (tagSize === 0) throw new FormatError('invalid NTFS extra field: zero-sized tag');
        i += tagSize;
      }
    } else if (id === 0x7875) {
      out.push(sub(pos, 4));
      if (byte(pos + 4) === 1) {
        const uidLen = byte(pos + 5);
        const gidLen = byte(pos + 6 + uidLen);
        if (len !== 3 + uidLen + gidLen) throw bad('Unix uid/gid');
        out.push(Buffer.from([1, uidLen]), Buffer.alloc(uidLen), Buffer.from([gidLen]), Buffer.alloc(gidLen));
      } else {
        out.push(sub(pos + 4, len ?? 0));
      }
    } else {
      if (len === undefined) {
        warn('unknown extra field length');
        return undefined;
      }
      if (pos + len >= field.length) {
        warn(`invalid extra field length (${len})`);
        return undefined;
      }
      out.push(sub(pos, len + 4));
    }
    pos += (len ?? 0) + 4;
  }
  return Buffer.concat(out);
}

/**
 * What file(1) calls a zip-based file, which decides whether the Perl tool normalizes it:
 * its zip handler wants "Zip archive data" or "EPUB document", its jar handler "Zip archive
 * data" or "Java archive data". Determined from the first local header, as file(1) does.
 */
export type ZipKind = 'zip' | 'jar' | 'epub' | 'apk' | 'other-mimetype' | 'not-zip';

export function zipKind(head: Buffer): ZipKind {
  if (head.length < 4) return 'not-zip';
  const sig = head.readUInt32LE(0);
  if (sig === SIG_EOCD) return head.length >= 22 ? 'zip' : 'not-zip'; // "Zip archive data (empty)"
  if (head.toString('latin1', 0, 4) === 'PK00' && head.length >= 8 && head.readUInt32LE(4) === SIG_LOCAL) return 'zip';
  if (sig !== SIG_LOCAL || head.length < 30) return 'not-zip';
  const nameLen = head.readUInt16LE(26);
  const extraLen = head.readUInt16LE(28);
  const name = head.toString('latin1', 30, 30 + nameLen);
  // file(1)'s order: a `mimetype` member with no extra field names its type; then Android's
  // members; then 0xCAFE right after the first name (the JDK's jar extra field, or data) makes
  // any archive "Java archive data (JAR)".
  if (name === 'mimetype' && extraLen === 0) {
    const data = head.toString('latin1', 30 + nameLen, 30 + nameLen + 64);
    return data.startsWith('application/epub+zip') ? 'epub' : 'other-mimetype';
  }
  if (name === 'AndroidManifest.xml' || name === 'classes.dex') return 'apk';
  if (head.length >= 32 + nameLen && head.readUInt16LE(30 + nameLen) === 0xcafe) return 'jar';
  return 'zip';
}

/** The name Archive::Zip reports for an entry: UTF-8-flagged names are decoded. Returned as
 *  a string of code points (latin1 for unflagged names) so that sorting compares as Perl's
 *  `cmp` does. */
export function perlName(name: Buffer, bitFlag: number): string {
  return bitFlag & FLAG_UTF8 ? UTF8.decode(name) : name.toString('latin1');
}

/** One decoder for every name: without `stream`, each decode starts afresh. `ignoreBOM` keeps a
 *  leading U+FEFF, as Perl's decode does (dropping it renamed the member). */
const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });
const STRICT_UTF8 = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });

function validUtf8(bytes: Uint8Array): boolean {
  try {
    STRICT_UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The bytes Archive::Zip writes for a name it holds as `perlName`. */
export function perlNameBytes(name: string, bitFlag: number): Buffer {
  return bitFlag & FLAG_UTF8 ? Buffer.from(name, 'utf8') : Buffer.from(name, 'latin1');
}

/** A string whose JavaScript (UTF-16 code unit) order is Perl's `cmp` order (code points) of
 *  `name`: the name itself, unless it holds characters beyond the BMP, whose surrogate pairs
 *  would sort below U+E000..U+FFFF; then its UTF-8 bytes as latin1 (UTF-8 keeps code point
 *  order). */
export function perlSortKey(name: string): string {
  return /[\ud800-\udfff]/.test(name) ? Buffer.from(name, 'utf8').toString('latin1') : name;
}
