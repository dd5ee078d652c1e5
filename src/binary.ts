/**
 * Small binary helpers shared by every handler: CRC-32, fixed-width ASCII fields,
 * and a few comparisons. Handlers use Buffer's own read/write*BE/LE methods for integers.
 */
import * as zlib from 'node:zlib';

let crcTable: Int32Array | undefined;

function crc32Table(): Int32Array {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  return crcTable;
}

const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 (ISO-HDLC, as in zip, gzip and png), optionally continuing from `previous`. */
export function crc32(data: Uint8Array, previous = 0): number {
  if (nativeCrc32) return nativeCrc32(data, previous) >>> 0;
  const table = crc32Table();
  let c = ~previous;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Left-justified, space-padded ASCII field of exactly `width` bytes (Perl's `%-Nd`). */
export function padRight(text: string, width: number, what: string): Buffer {
  if (text.length > width) throw new RangeError(`${what} ${text} does not fit in ${width} bytes`);
  return Buffer.from(text.padEnd(width, ' '), 'latin1');
}

/** Zero-padded field (`%0Nx`, `%0No`): throws if the value needs more digits than `width`. */
export function zeroPad(value: number, radix: 8 | 16, width: number, what: string, upper = false): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} ${value} is out of range`);
  let s = value.toString(radix);
  if (upper) s = s.toUpperCase();
  if (s.length > width) throw new RangeError(`${what} ${value} does not fit in ${width} digits`);
  return s.padStart(width, '0');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** Index of `needle` in `hay` from `from`, or -1 (latin1 view, so any byte works). */
export function indexOfBytes(hay: Buffer, needle: string | Buffer, from = 0): number {
  return hay.indexOf(needle, from, 'latin1');
}
