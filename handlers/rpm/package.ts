/**
 * An rpm v4 package's layout (rpm's lib/package.c, docs/formats.md): a 96-byte lead (magic
 * ed ab ee db), the signature header padded to 8 bytes, the main header, the compressed payload.
 * readPackage finds and checks the parts and reads both headers; the file table and the payload's
 * compression are read from the main header here too, for rpm.ts and listing.ts alike.
 */
import { FormatError } from '../../src/kit/errors.js';
import { readExactSync, type Source } from '../../src/kit/io.js';
import type { Compression } from '../../src/kit/compression.js';
import { headerSize, parseHeader, readInts, readStrings, type Entry, type Header } from './header.js';
import { TAG } from './tags.js';

export const LEAD_SIZE = 96;
export const LEAD_MAGIC = Buffer.from([0xed, 0xab, 0xee, 0xdb]);
/** The lead's signature type for a header-style signature (the only one rpm 4 reads). */
const HEADER_SIGNATURE = 5;

export interface Package {
  readonly lead: Buffer;
  readonly sig: Header;
  /** Bytes of zeros after the signature header, up to a multiple of 8. */
  readonly sigPadding: number;
  readonly main: Header;
  /** The main header's bytes as they are in the file. */
  readonly mainBytes: Buffer;
  readonly payloadAt: number;
  /** A source package (lead type 1). */
  readonly isSource: boolean;
}

export const pad8 = (n: number) => (8 - (n % 8)) % 8;

export function readPackage(src: Source): Package {
  const lead = readExactSync(src, 0, LEAD_SIZE, 'rpm lead');
  if (!lead.subarray(0, 4).equals(LEAD_MAGIC)) throw new FormatError('not an rpm package (no lead magic)');
  if (lead[4] < 3) throw new FormatError(`rpm format version ${lead[4]}.${lead[5]} (rpm reads 3 and later)`);
  const sigType = lead.readUInt16BE(78);
  if (sigType !== HEADER_SIGNATURE) throw new FormatError(`rpm lead signature type ${sigType} (only header signatures, type 5, are read)`);
  const sigSize = headerSize(readExactSync(src, LEAD_SIZE, 16, 'rpm signature header'), 'rpm signature header');
  const sig = parseHeader(readExactSync(src, LEAD_SIZE, sigSize, 'rpm signature header'), 'rpm signature header');
  const sigPadding = pad8(sigSize);
  const mainAt = LEAD_SIZE + sigSize + sigPadding;
  const mainSize = headerSize(readExactSync(src, mainAt, 16, 'rpm main header'), 'rpm main header');
  const mainBytes = readExactSync(src, mainAt, mainSize, 'rpm main header');
  const main = parseHeader(mainBytes, 'rpm main header');
  return { lead, sig, sigPadding, main, mainBytes, payloadAt: mainAt + mainSize, isSource: lead.readUInt16BE(6) === 1 };
}

export const findEntry = (h: Header, tag: number): Entry | undefined => h.entries.find((e) => e.tag === tag);

export function stringOf(h: Header, tag: number): string | undefined {
  const e = findEntry(h, tag);
  return e ? readStrings(e)[0] : undefined;
}

/** The payload's compression as rpm reads it: PAYLOADCOMPRESSOR; when absent, gzip read through
 *  zlib, which passes data that is not gzip through as it is (rpmbuild's w.ufdio writes no tag). */
export function payloadCompression(main: Header, head: Buffer): Compression | 'none' | { unknown: string } {
  const name = stringOf(main, TAG.PAYLOADCOMPRESSOR) ?? (head[0] === 0x1f && head[1] === 0x8b ? 'gzip' : 'identity');
  if (name === 'gzip' || name === 'bzip2' || name === 'xz' || name === 'lzma' || name === 'zstd') return name;
  if (name === 'identity') return 'none';
  return { unknown: name };
}

/** The level PAYLOADFLAGS asks for (`9`, `19T8`), if any. */
export function payloadLevel(main: Header): number | undefined {
  const m = /^(\d+)/.exec(stringOf(main, TAG.PAYLOADFLAGS) ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The header's file list: each file's path (as the payload names it, less its leading `.`). */
export function filePaths(main: Header): string[] {
  const old = findEntry(main, TAG.OLDFILENAMES);
  if (old) return readStrings(old);
  const base = findEntry(main, TAG.BASENAMES);
  if (!base) return [];
  const dirs = readStrings(findEntry(main, TAG.DIRNAMES) ?? missing(TAG.DIRNAMES));
  const index = readInts(findEntry(main, TAG.DIRINDEXES) ?? missing(TAG.DIRINDEXES));
  const names = readStrings(base);
  if (index.length !== names.length) throw new FormatError(`rpm main header: ${names.length} BASENAMES but ${index.length} DIRINDEXES`);
  return names.map((n, i) => {
    if (index[i] >= dirs.length) throw new FormatError(`rpm main header: DIRINDEXES[${i}] = ${index[i]} past the ${dirs.length} DIRNAMES`);
    return dirs[index[i]] + n;
  });
}

function missing(tag: number): never {
  throw new FormatError(`rpm main header: BASENAMES without tag ${tag}`);
}

/** The payload's name for a header path: binary packages store `./usr/bin/x` for `/usr/bin/x`. */
export const payloadKey = (cpioName: string) => (cpioName.startsWith('./') ? cpioName.slice(1) : cpioName);
