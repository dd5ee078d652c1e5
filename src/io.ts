/**
 * Sources and sinks: the only I/O a handler sees.
 *
 * A Source is random-access, read-only input (a file on disk, or an in-memory buffer such as
 * an archive member). A Sink receives the output, either as new bytes or as ranges copied
 * from a source, so unchanged payloads are never held in memory. Handlers never touch the
 * file system: that is what lets the same code normalize a file, an archive member, or run
 * under --check without writing.
 */
import { promises as fsp } from 'node:fs';
import { FormatError } from './errors.js';

/** How many bytes detection looks at. javadoc needs 1 KiB; 4 KiB covers every magic. */
export const HEAD_SIZE = 4096;
const COPY_CHUNK = 1 << 20;

export interface Source {
  /** Total size in bytes. */
  readonly size: number;
  /** Up to `length` bytes at `offset`; shorter only at end of input. */
  read(offset: number, length: number): Promise<Buffer>;
}

/** Read exactly `length` bytes or throw a FormatError naming `what`. */
export async function readExact(src: Source, offset: number, length: number, what: string): Promise<Buffer> {
  if (offset + length > src.size) throw new FormatError(`truncated ${what}`, offset);
  const buf = await src.read(offset, length);
  if (buf.length !== length) throw new FormatError(`truncated ${what}`, offset);
  return buf;
}

/** The whole source in memory, for small formats (.mo catalogs). */
export async function readAll(src: Source): Promise<Buffer> {
  return src.read(0, src.size);
}

export class BufferSource implements Source {
  constructor(private readonly buf: Buffer) {}
  get size(): number {
    return this.buf.length;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    return this.buf.subarray(offset, Math.min(offset + length, this.buf.length));
  }
}

/** A file opened read-only; the first HEAD_SIZE bytes are cached for detection. */
export class FileSource implements Source {
  private constructor(
    private readonly handle: fsp.FileHandle,
    readonly size: number,
    readonly head: Buffer,
  ) {}

  static async open(path: string): Promise<FileSource> {
    const handle = await fsp.open(path, 'r');
    try {
      const st = await handle.stat();
      const head = Buffer.alloc(Math.min(HEAD_SIZE, st.size));
      let got = 0;
      while (got < head.length) {
        const { bytesRead } = await handle.read(head, got, head.length - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return new FileSource(handle, st.size, head.subarray(0, got));
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return Buffer.alloc(0);
    if (end <= this.head.length) return this.head.subarray(offset, end);
    const buf = Buffer.allocUnsafe(end - offset);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await this.handle.read(buf, got, buf.length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export interface Sink {
  write(bytes: Uint8Array): Promise<void>;
  /** Copy `length` bytes of `src` starting at `offset`. */
  copyFrom(src: Source, offset: number, length: number): Promise<void>;
}

/** Generic range copy in bounded chunks; sinks without a faster path use it. */
export async function copyInChunks(sink: Sink, src: Source, offset: number, length: number): Promise<void> {
  let pos = offset;
  const end = offset + length;
  while (pos < end) {
    const chunk = await src.read(pos, Math.min(COPY_CHUNK, end - pos));
    if (chunk.length === 0) throw new FormatError('unexpected end of input while copying', pos);
    await sink.write(chunk);
    pos += chunk.length;
  }
}

/** Collects the output in memory (archive members, tests). */
export class BufferSink implements Sink {
  private readonly parts: Buffer[] = [];
  async write(bytes: Uint8Array): Promise<void> {
    this.parts.push(Buffer.from(bytes));
  }
  copyFrom(src: Source, offset: number, length: number): Promise<void> {
    return copyInChunks(this, src, offset, length);
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Counts and drops the output: --check, where only "would it change" matters. */
export class DiscardSink implements Sink {
  bytes = 0;
  async write(bytes: Uint8Array): Promise<void> {
    this.bytes += bytes.length;
  }
  async copyFrom(_src: Source, _offset: number, length: number): Promise<void> {
    this.bytes += length;
  }
}
