/**
 * tar headers: reading every common variant (v7, ustar, GNU, pax) and writing one canonical
 * form, the GNU format that `tar --format=gnu` and `dpkg-deb --build` write.
 *
 * Why GNU and not pax for the output: dpkg's own unpacker rejects pax `x` headers ("unsupported
 * PAX tar header type"), so a .deb must stay GNU. Long names then use `././@LongLink` entries
 * (`L` for names, `K` for link targets), numbers too large for octal use GNU base-256, and a pax
 * `x` header is written only for records GNU cannot express (xattrs, ACLs).
 *
 * Names are handled as latin1 strings: one char per byte, so any byte sequence survives and
 * JavaScript's string comparison is byte order.
 */
import { FormatError } from '../../src/kit/errors.js';

export const BLOCK = 512;
/** GNU tar and python pad the archive to a multiple of 20 blocks. */
export const RECORD = 20 * BLOCK;

export const GNU_MAGIC = 'ustar  \0';
const POSIX_MAGIC = 'ustar\0';

export interface RawHeader {
  /** name, with the ustar prefix joined when the header is POSIX ustar. */
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

/** A NUL-terminated (or field-filling) string, as latin1. */
export const cstring = (block: Buffer, start = 0, length = block.length): string => {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.toString('latin1', 0, nul < 0 ? length : nul);
};

/** A numeric field: octal digits (leading blanks, trailing NUL/space) or GNU base-256. */
export function parseNumber(block: Buffer, start: number, length: number, what: string, offset: number): number {
  const first = block[start];
  if (first & 0x80) {
    // base-256, two's complement, big-endian; a leading 0xff byte marks a negative number.
    let v = 0n;
    for (let i = 0; i < length; i++) v = v * 256n + BigInt(i === 0 && first !== 0xff ? first & 0x7f : block[start + i]);
    if (first === 0xff) v -= 1n << BigInt(8 * length);
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new FormatError(`tar header: ${what} out of range`, offset);
    return n;
  }
  const text = block.toString('latin1', start, start + length);
  const m = /^[ \0]*([0-7]*)[ \0]*$/.exec(text);
  if (!m) throw new FormatError(`tar header: invalid ${what} field ${JSON.stringify(text)}`, offset);
  return m[1] === '' ? 0 : parseInt(m[1], 8);
}

/** Sum of the header bytes with the checksum field counted as blanks (unsigned, and the signed
 *  sum some old tars wrote). */
function checksums(block: Buffer): [number, number] {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return [unsigned, signed];
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** Does this 512-byte block carry a valid tar header checksum? */
export function checksumOk(block: Buffer): boolean {
  if (block.length < BLOCK) return false;
  const text = block.toString('latin1', 148, 156);
  const m = /^[ \0]*([0-7]+)[ \0]*$/.exec(text);
  if (!m) return false;
  const stored = parseInt(m[1], 8);
  const [u, s] = checksums(block);
  return stored === u || stored === s;
}

/** Detection: a first block that is a tar header: ustar/GNU magic (a bad checksum is then
 *  reported when the archive is read), or a v7 header with a valid checksum and a plausible name
 *  and numeric fields. */
export function looksLikeTar(head: Buffer): boolean {
  if (head.length < BLOCK || isZeroBlock(head.subarray(0, BLOCK))) return false;
  const magic = head.toString('latin1', 257, 263);
  if (magic === 'ustar\0' || magic === 'ustar ') return true;
  if (!checksumOk(head) || head[0] === 0) return false;
  for (const [start, len] of [[100, 8], [108, 8], [116, 8], [124, 12], [136, 12]]) {
    if (!/^[ \0]*[0-7]*[ \0]*$/.test(head.toString('latin1', start, start + len))) return false;
  }
  return true;
}

export function parseHeader(block: Buffer, offset: number): RawHeader {
  if (!checksumOk(block)) throw new FormatError('tar header checksum mismatch', offset);
  const posix = block.toString('latin1', 257, 263) === POSIX_MAGIC;
  let name = cstring(block, 0, 100);
  if (posix) {
    const prefix = cstring(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const ustarish = block.toString('latin1', 257, 262) === 'ustar';
  return {
    name,
    mode: parseNumber(block, 100, 8, 'mode', offset),
    uid: parseNumber(block, 108, 8, 'uid', offset),
    gid: parseNumber(block, 116, 8, 'gid', offset),
    size: parseNumber(block, 124, 12, 'size', offset),
    mtime: parseNumber(block, 136, 12, 'mtime', offset),
    type: String.fromCharCode(block[156]),
    linkname: cstring(block, 157, 100),
    uname: ustarish ? cstring(block, 265, 32) : '',
    gname: ustarish ? cstring(block, 297, 32) : '',
    devmajor: ustarish ? parseNumber(block, 329, 8, 'devmajor', offset) : 0,
    devminor: ustarish ? parseNumber(block, 337, 8, 'devminor', offset) : 0,
  };
}

/** GNU tar's numeric field: width-1 octal digits and a NUL, or base-256 when it does not fit. */
function putNumber(block: Buffer, start: number, length: number, value: number): void {
  if (value >= 0 && value < 8 ** (length - 1)) {
    block.write(value.toString(8).padStart(length - 1, '0'), start, 'latin1');
    block[start + length - 1] = 0;
    return;
  }
  let v = BigInt(value);
  if (v < 0n) v += 1n << BigInt(8 * length);
  for (let i = length - 1; i >= 0; i--) {
    block[start + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  block[start] = value < 0 ? 0xff : 0x80;
}

/** What gnuHeader writes: a header's fields, device numbers only for devices. */
export type HeaderFields = Omit<RawHeader, 'devmajor' | 'devminor'> & { devmajor?: number; devminor?: number };

/** One GNU-format header block, as GNU tar writes it (names longer than the field are cut; the
 *  caller writes the L/K entry that carries them whole). */
export function gnuHeader(f: HeaderFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name.slice(0, 100), 0, 'latin1');
  putNumber(b, 100, 8, f.mode & 0o7777);
  putNumber(b, 108, 8, f.uid);
  putNumber(b, 116, 8, f.gid);
  putNumber(b, 124, 12, f.size);
  putNumber(b, 136, 12, f.mtime);
  b[156] = f.type.charCodeAt(0);
  b.write(f.linkname.slice(0, 100), 157, 'latin1');
  b.write(GNU_MAGIC, 257, 'latin1');
  b.write(f.uname.slice(0, 32), 265, 'latin1');
  b.write(f.gname.slice(0, 32), 297, 'latin1');
  if (f.type === '3' || f.type === '4') {
    putNumber(b, 329, 8, f.devmajor ?? 0);
    putNumber(b, 337, 8, f.devminor ?? 0);
  }
  let sum = 0;
  b.fill(0x20, 148, 156);
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

/** Zero bytes that pad `size` to a whole number of blocks. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export type PaxRecord = [key: string, value: string];

/** Parse pax records (`LEN key=value\n`), keys and values as latin1 byte strings. */
export function parsePax(data: Buffer, offset: number): PaxRecord[] {
  const out: PaxRecord[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // NUL padding some writers leave
    const space = data.indexOf(0x20, pos);
    const len = space > pos ? Number(data.toString('latin1', pos, space)) : NaN;
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length || data[pos + len - 1] !== 0x0a) {
      throw new FormatError('malformed pax extended header record', offset);
    }
    const record = data.toString('latin1', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) throw new FormatError('malformed pax extended header record', offset);
    out.push([record.slice(0, eq), record.slice(eq + 1)]);
    pos += len;
  }
  return out;
}

/** Serialize pax records; each record's length counts its own digits. */
export function formatPax(records: readonly PaxRecord[]): Buffer {
  const parts: string[] = [];
  for (const [k, v] of records) {
    const body = ` ${k}=${v}\n`;
    const bodyLen = Buffer.byteLength(body, 'latin1');
    let len = bodyLen + 1;
    while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
    parts.push(`${len}${body}`);
  }
  return Buffer.from(parts.join(''), 'latin1');
}

/** pax values of path-like records are UTF-8; as byte strings they are already raw bytes. */
export const paxNumber = (v: string): number => {
  const n = Number(v.split('.')[0]);
  return Number.isFinite(n) ? n : 0;
};
