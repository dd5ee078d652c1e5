/**
 * The PE/COFF image layout the pe normalizer needs (Microsoft's PE Format specification): the
 * COFF header, the optional header's CheckSum and data directories, the section table (to turn
 * RVAs into file offsets), and the PE checksum. Reads only; every offset is checked against the
 * file, and a bad one is a FormatError.
 */
import { FormatError } from '../../src/kit/errors.js';

export const DIR_EXPORT = 0;
export const DIR_RESOURCE = 2;
export const DIR_DEBUG = 6;

export interface Section {
  readonly name: string;
  readonly virtualAddress: number;
  readonly virtualSize: number;
  readonly rawOffset: number;
  readonly rawSize: number;
}

export interface PeImage {
  /** Offset of the `PE\0\0` signature. */
  readonly pe: number;
  /** Offset of COFF TimeDateStamp. */
  readonly timeDateStamp: number;
  /** Offset of the optional header's CheckSum. */
  readonly checkSum: number;
  readonly sections: readonly Section[];
  /** Data directory `index`: its RVA and size (0, 0 when absent). */
  directory(index: number): { rva: number; size: number };
  /** The file offset of an RVA `length` bytes long, or undefined when no section holds it. */
  offsetOf(rva: number, length: number): number | undefined;
}

/** Is `head` the start of a PE image (`MZ`, then `PE\0\0` where e_lfanew says)? */
export function isPe(head: Buffer): boolean {
  if (head.length < 0x40 || head[0] !== 0x4d || head[1] !== 0x5a) return false;
  const pe = head.readUInt32LE(0x3c);
  return pe + 4 <= head.length && head.readUInt32LE(pe) === 0x00004550;
}

export function readPe(data: Buffer): PeImage {
  if (!isPe(data)) throw new FormatError('not a PE image (no PE signature where the DOS header points)', 0);
  const pe = data.readUInt32LE(0x3c);
  const coff = pe + 4;
  need(data, coff, 20, 'COFF header');
  const sectionCount = data.readUInt16LE(coff + 2);
  const optSize = data.readUInt16LE(coff + 16);
  const opt = coff + 20;
  need(data, opt, optSize, 'optional header');
  if (optSize < 2) throw new FormatError('no optional header: an object file, not an image', opt);
  const magic = data.readUInt16LE(opt);
  if (magic !== 0x10b && magic !== 0x20b) throw new FormatError(`unknown optional header magic 0x${magic.toString(16)}`, opt);
  const plus = magic === 0x20b;
  const countAt = opt + (plus ? 108 : 92);
  if (countAt + 4 > opt + optSize) throw new FormatError('optional header too short for its data directories', opt);
  const dirCount = Math.min(data.readUInt32LE(countAt), (opt + optSize - countAt - 4) >>> 3);
  const sections = readSections(data, opt + optSize, sectionCount, stringTable(data, coff));
  return {
    pe,
    timeDateStamp: coff + 4,
    checkSum: opt + 64,
    sections,
    directory: (index) => (index < dirCount ? { rva: data.readUInt32LE(countAt + 4 + 8 * index), size: data.readUInt32LE(countAt + 8 + 8 * index) } : { rva: 0, size: 0 }),
    offsetOf: (rva, length) => {
      const s = sections.find((x) => rva >= x.virtualAddress && rva + length <= x.virtualAddress + Math.min(x.rawSize, x.virtualSize || x.rawSize));
      if (!s) return undefined;
      const at = s.rawOffset + (rva - s.virtualAddress);
      return at + length <= data.length ? at : undefined;
    },
  };
}

/** Where the COFF string table starts (after the symbol table), if the image has one. */
function stringTable(data: Buffer, coff: number): number | undefined {
  const symbols = data.readUInt32LE(coff + 8);
  const at = symbols + 18 * data.readUInt32LE(coff + 12);
  return symbols !== 0 && at + 4 <= data.length ? at : undefined;
}

/** A section's name: 8 bytes, or `/N` for the long name at offset N of the string table (how
 *  mingw's ld names `.debug_info` and the other DWARF sections). */
function sectionName(data: Buffer, at: number, strings: number | undefined): string {
  const short = data.toString('latin1', at, at + 8).replace(/\0+$/, '');
  const long = /^\/(\d+)$/.exec(short);
  if (!long || strings === undefined) return short;
  const start = strings + Number(long[1]);
  const end = data.indexOf(0, start);
  return start < data.length && end > 0 ? data.toString('latin1', start, end) : short;
}

function readSections(data: Buffer, at: number, count: number, strings: number | undefined): Section[] {
  need(data, at, 40 * count, 'section table');
  const sections: Section[] = [];
  for (let i = 0; i < count; i++) {
    const s = at + 40 * i;
    sections.push({
      name: sectionName(data, s, strings),
      virtualSize: data.readUInt32LE(s + 8),
      virtualAddress: data.readUInt32LE(s + 12),
      rawSize: data.readUInt32LE(s + 16),
      rawOffset: data.readUInt32LE(s + 20),
    });
  }
  return sections;
}

function need(data: Buffer, at: number, n: number, what: string): void {
  if (at + n > data.length) throw new FormatError(`${what} runs past the end of the file`, at);
}

/** The PE checksum (the one imagehlp's CheckSumMappedFile computes) of `data`, whose CheckSum
 *  field must hold 0: a 16-bit sum with end-around carry of its little-endian words, plus the
 *  file's length. */
export function peChecksum(data: Buffer): number {
  let sum = 0;
  const even = data.length & ~1;
  for (let i = 0; i < even; i += 2) {
    sum += data[i] | (data[i + 1] << 8);
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  if (even < data.length) sum += data[even];
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + data.length) >>> 0;
}
