/**
 * Scratch space for handlers that need random access to data they cannot keep in memory: a
 * decompressed tar (members are written in sorted order, so they are read out of order), or the
 * normalized bodies of nested members waiting to be written.
 *
 * A ScratchFile is created in the temporary directory ($TMPDIR) and unlinked at once, so nothing
 * is left behind whatever happens to the process; it lives as long as its descriptor. It is
 * append-only: `append()` returns where the bytes went, `source()` reads everything back.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomHex12 } from './builtins.js';
import { BufferSink, BufferSource, FileSource, HEAD_SIZE, RangeSource, StagedOutput, copyInChunks, readExactSync, type Sink, type Source } from './io.js';
import type { NormalizeOptions } from './options.js';
import type { HandlerContext, MemberOptions } from './handler.js';

/** Appends are gathered in a staging buffer of this size (StagedOutput, reused from scratch
 *  file to scratch file), then written in one call. */
const BUFFER_SIZE = 1 << 20;

export class ScratchFile implements Sink {
  readonly copiesWrites = true;
  private fd: number | undefined;
  /** Bytes appended so far (the scratch file's logical size). */
  size = 0;
  /** Bytes in the file itself; the rest (size - written) is staged. */
  private written = 0;
  private readonly out = new StagedOutput(BUFFER_SIZE, (data) => {
    for (let off = 0; off < data.length; ) off += fs.writeSync(this.descriptor(), data, off, data.length - off, this.written + off);
    this.written += data.length;
  });
  private view: FileSource | undefined;
  /** In memory instead (`forRun` when comparing: the whole input is in memory already). */
  private memory: BufferSink | undefined;

  /** A scratch file for this run: in memory for --identity and diff (nothing is written, and a
   *  file's round trip would cost more than the bytes), on disk otherwise. */
  static forRun(options: NormalizeOptions): ScratchFile {
    const s = new ScratchFile();
    if (options.comparing) s.memory = new BufferSink();
    return s;
  }

  /** The file is made on the first write that reaches the disk: a container whose members
   *  all stay unchanged costs no file at all. */
  private descriptor(): number {
    if (this.fd === undefined) {
      const file = path.join(os.tmpdir(), `snd-scratch-${process.pid}-${randomHex12()}`);
      this.fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      fs.unlinkSync(file);
    }
    return this.fd;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.append(bytes);
  }

  async copyFrom(src: Source, offset: number, length: number): Promise<void> {
    // Read straight into the staging buffer: nothing is allocated for the range.
    if (this.memory || !this.out.copyFrom(src, offset, length)) return copyInChunks(this, src, offset, length);
    this.size += length;
    this.view = undefined;
  }

  /** Append bytes; returns their offset in the scratch file. */
  append(bytes: Uint8Array): number {
    const at = this.size;
    if (this.memory) {
      void this.memory.write(bytes);
      this.size += bytes.length;
      return at;
    }
    this.out.write(bytes);
    this.size += bytes.length;
    this.view = undefined;
    return at;
  }

  /** Forget everything appended after `size` (a nested member that turned out unchanged). */
  truncate(size: number): void {
    if (this.memory) {
      this.memory.truncate(size);
      this.size = size;
      return;
    }
    this.out.flush();
    fs.ftruncateSync(this.descriptor(), size);
    this.size = this.written = size;
    this.view = undefined;
  }

  /** Everything appended so far, readable at random. Valid until the next append. */
  source(): Source {
    if (this.memory) return new BufferSource(this.memory.view());
    this.out.flush();
    this.view ??= FileSource.fromFd(this.descriptor(), this.size, false);
    return this.view;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.out.release();
  }
}

/** Members up to this size are read into memory to be normalized; larger ones are read in place. */
const IN_MEMORY_MEMBER = 1 << 20;

/** A small member, read whole on its first read (one read beats many), and not at all when no
 *  handler wants it. */
class PreloadedRange implements Source {
  private bytes: BufferSource | undefined;
  constructor(
    private readonly src: Source,
    private readonly offset: number,
    readonly size: number,
  ) {}
  private loaded(): BufferSource {
    this.bytes ??= new BufferSource(readExactSync(this.src, this.offset, this.size, 'archive member'));
    return this.bytes;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    return this.readSync(offset, length);
  }
  readSync(offset: number, length: number): Buffer {
    // Detection's look at the head does not load the member: most members are never taken.
    if (!this.bytes && length <= HEAD_SIZE) {
      const end = Math.min(this.size, offset + length);
      return end <= offset ? Buffer.alloc(0) : readExactSync(this.src, this.offset + offset, end - offset, 'archive member');
    }
    return this.loaded().readSync(offset, length);
  }
}

/**
 * Hand the archive member `name` (`size` bytes of `src` at `offset`) to ctx.member, with its
 * output appended to `scratch`. Returns where its new bytes are, or undefined when no handler
 * took it, it did not change, or it could not be read (the dispatcher then warns). Shared by
 * tar and ar.
 */
export async function normalizeMemberInto(
  scratch: ScratchFile,
  ctx: HandlerContext,
  name: string,
  src: Source,
  offset: number,
  size: number,
  how?: MemberOptions,
): Promise<{ offset: number; size: number } | undefined> {
  const member = size <= IN_MEMORY_MEMBER ? new PreloadedRange(src, offset, size) : new RangeSource(src, offset, size);
  const start = scratch.size;
  if ((await ctx.member(name, member, scratch, how)).changed) return { offset: start, size: scratch.size - start };
  if (scratch.size !== start) scratch.truncate(start);
  return undefined;
}
