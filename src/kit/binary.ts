/**
 * Small binary helpers shared by every handler: CRC-32, fixed-width ASCII fields,
 * and a few comparisons. Handlers use Buffer's own read/write*BE/LE methods for integers.
 */
import * as zlib from 'node:zlib';
import type { Source } from './io.js';

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

/**
 * Appends little-endian fields and byte strings into blocks that double from 4 KiB up to
 * `blockSize` (1 MiB), so that writing thousands of small records (zip headers) allocates a few
 * large buffers instead of many small ones, and a small output only a small one. Large byte
 * strings are passed through as their own chunk, without a copy.
 */
export class ByteWriter {
  private block: Buffer = Buffer.alloc(0);
  /** The block as allocated (block is what is left of it). */
  private whole: Buffer = this.block;
  /** The size of the last block allocated. */
  private grown = 2048;
  private pos = 0;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Total bytes appended since creation. */
  total = 0;

  constructor(private readonly blockSize = 1 << 20) {}

  private room(n: number): void {
    if (this.pos + n <= this.block.length) return;
    this.closeBlock();
    this.grown = Math.min(this.blockSize, this.grown * 2);
    this.block = Buffer.allocUnsafe(Math.max(this.grown, n));
    this.whole = this.block;
  }

  /** Once what take() returned has been consumed by a sink that copies it (Sink.copiesWrites):
   *  write the next bytes over the same block instead of a new one. */
  recycle(): void {
    if (this.pos === 0 && this.chunks.length === 0) this.block = this.whole;
  }

  private closeBlock(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.block.subarray(0, this.pos));
    this.chunkBytes += this.pos;
    this.block = this.block.subarray(this.pos);
    this.pos = 0;
  }

  u8(v: number): this {
    this.room(1);
    this.block[this.pos++] = v & 0xff;
    this.total += 1;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.block.writeUInt16LE(v & 0xffff, this.pos);
    this.pos += 2;
    this.total += 2;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.block.writeUInt32LE(v >>> 0 === v ? v : ((v % 2 ** 32) + 2 ** 32) % 2 ** 32, this.pos);
    this.pos += 4;
    this.total += 4;
    return this;
  }
  u64(v: number): this {
    this.room(8);
    this.block.writeBigUInt64LE(BigInt(v), this.pos);
    this.pos += 8;
    this.total += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    if (b.length >= 4096) {
      this.closeBlock();
      this.chunks.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      this.chunkBytes += b.length;
    } else if (b.length) {
      this.room(b.length);
      this.block.set(b, this.pos);
      this.pos += b.length;
    }
    this.total += b.length;
    return this;
  }

  /** Append `length` bytes of `src` at `offset`, read straight into the block when the source
   *  can (Source.readInto), so nothing is allocated for them. */
  readFrom(src: Pick<Source, 'readSync' | 'readInto'>, offset: number, length: number): this {
    if (!src.readInto) return this.bytes(src.readSync(offset, length));
    this.room(length);
    const got = src.readInto(this.block.subarray(this.pos, this.pos + length), offset);
    if (got !== length) throw new RangeError(`readFrom: ${got} of ${length} bytes at ${offset}`);
    this.pos += length;
    this.total += length;
    return this;
  }

  /** Bytes appended and not yet taken. */
  get pending(): number {
    return this.chunkBytes + this.pos;
  }

  /** Everything appended since the last take, as one or more buffers. */
  take(): Buffer[] {
    this.closeBlock();
    const out = this.chunks;
    this.chunks = [];
    this.chunkBytes = 0;
    return out;
  }
}
