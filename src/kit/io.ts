/**
 * Sources and sinks: the only I/O a handler sees.
 *
 * A Source is random-access, read-only input (a file on disk, or an in-memory buffer such as
 * an archive member). A Sink receives the output, either as new bytes or as ranges copied
 * from a source, so unchanged payloads are never held in memory. Handlers never touch the
 * file system: that is what lets the same code normalize a file, an archive member, or run
 * under --check without writing.
 */
import * as fs from 'node:fs';
import { FormatError } from './errors.js';
import { crypto } from './builtins.js';

/** How many bytes detection looks at. javadoc needs 1 KiB; 4 KiB covers every magic. */
export const HEAD_SIZE = 4096;
const COPY_CHUNK = 1 << 20;

export interface Source {
  /** Total size in bytes. */
  readonly size: number;
  /** Up to `length` bytes at `offset`; shorter only at end of input. The returned buffer is
   *  not modified or reused by the source while it is open, so callers may keep it until then
   *  (a FileSource's preloaded bytes go back to a pool when it is closed). */
  read(offset: number, length: number): Promise<Buffer>;
  /** The same, synchronously (for parsers that make thousands of small reads). */
  readSync(offset: number, length: number): Buffer;
  /** Optional: copy up to `dest.length` bytes at `offset` into `dest`, allocating nothing (a
   *  sink streaming a range through one buffer); returns how many, fewer only at the end. */
  readInto?(dest: Uint8Array, offset: number): number;
}

/** Read exactly `length` bytes or throw a FormatError naming `what`. */
export async function readExact(src: Source, offset: number, length: number, what: string): Promise<Buffer> {
  return readExactSync(src, offset, length, what);
}

export function readExactSync(src: Source, offset: number, length: number, what: string): Buffer {
  if (offset + length > src.size) throw new FormatError(`truncated ${what}`, offset);
  const buf = src.readSync(offset, length);
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
    return this.readSync(offset, length);
  }
  readSync(offset: number, length: number): Buffer {
    return this.buf.subarray(offset, Math.min(offset + length, this.buf.length));
  }
  readInto(dest: Uint8Array, offset: number): number {
    const part = this.readSync(offset, dest.length);
    dest.set(part);
    return part.length;
  }
}

/**
 * A file opened read-only. The first HEAD_SIZE bytes are read at open (detection needs them) and
 * small reads are served from a read-ahead window, so walking many small headers (png chunks, ar
 * members) costs one system call per window, not one per header. I/O is synchronous on purpose:
 * files are processed one at a time per thread, and a thread-pool hop per read costs more than the
 * read itself.
 */
export class FileSource implements Source {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;
  /** The window holds the whole file (preload): reads are views of it, kept for good. */
  private preloaded = false;
  /** The read-ahead buffer, reused for every window: reads from it are copies. */
  private readAhead: Buffer | undefined;

  private constructor(
    private fd: number | undefined,
    readonly size: number,
    readonly head: Buffer,
  ) {}

  /** A source over an open descriptor of `size` bytes; close() closes it only if `owned`. */
  static fromFd(fd: number, size: number, owned = true): FileSource {
    const head = Buffer.allocUnsafe(Math.min(HEAD_SIZE, size));
    const got = readFully(fd, head, 0);
    const src = new FileSource(fd, size, head.subarray(0, got));
    src.owned = owned;
    return src;
  }

  private owned = true;

  async read(offset: number, length: number): Promise<Buffer> {
    return this.readSync(offset, length);
  }

  readSync(offset: number, length: number): Buffer {
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return Buffer.alloc(0);
    if (end <= this.head.length) return this.head.subarray(offset, end);
    if (this.inWindow(offset, end)) return this.served(offset, end);
    // Small (header-sized) reads fill a read-ahead window; anything larger is read exactly.
    if (end - offset < SMALL_READ) {
      this.fillWindow(offset);
      return this.served(offset, end);
    }
    const buf = Buffer.allocUnsafe(end - offset);
    return buf.subarray(0, readFully(this.fd!, buf, offset));
  }

  private inWindow(offset: number, end: number): boolean {
    return offset >= this.windowStart && end <= this.windowStart + this.window.length;
  }

  /** Refill the read-ahead window from `offset`. */
  private fillWindow(offset: number): void {
    this.readAhead ??= Buffer.allocUnsafeSlow(WINDOW);
    this.window = this.readAhead.subarray(0, readFully(this.fd!, this.readAhead.subarray(0, Math.min(WINDOW, this.size - offset)), offset));
    this.windowStart = offset;
    this.preloaded = false;
  }

  /** Bytes `offset` to `end` of the window: a view of a preloaded file, else a copy (the
   *  read-ahead buffer is refilled by the next miss; a scan of a large archive leaves no trail
   *  of 64 KiB buffers for the collector). */
  private served(offset: number, end: number): Buffer {
    const view = this.window.subarray(offset - this.windowStart, end - this.windowStart);
    return this.preloaded ? view : Buffer.from(view);
  }

  readInto(dest: Uint8Array, offset: number): number {
    const end = Math.min(offset + dest.length, this.size);
    if (end <= offset) return 0;
    if (end <= this.head.length) {
      dest.set(this.head.subarray(offset, end));
      return end - offset;
    }
    if (!this.inWindow(offset, end)) {
      if (end - offset >= SMALL_READ) return readFully(this.fd!, dest.subarray(0, end - offset), offset);
      this.fillWindow(offset);
    }
    const part = this.window.subarray(offset - this.windowStart, end - this.windowStart);
    dest.set(part);
    return part.length;
  }

  /** Read the whole file into memory in one system call (for files a handler will walk in
   *  many small reads, such as archives with thousands of members). The buffer comes from the
   *  preload pool and goes back to it at close(): what was read is not valid after that. */
  preload(): void {
    if (this.window.length === this.size || this.size > PRELOAD_LIMIT) return;
    const buf = takePreloadBuffer(this.size);
    this.head.copy(buf); // already read at open
    this.window = buf.subarray(0, this.head.length + readFully(this.fd!, buf.subarray(this.head.length, this.size), this.head.length));
    this.windowStart = 0;
    this.preloaded = true;
    this.pooled = buf;
  }

  private pooled: Buffer | undefined;

  async close(): Promise<void> {
    if (this.fd !== undefined && this.owned) fs.closeSync(this.fd);
    this.fd = undefined;
    if (this.pooled) givePreloadBuffer(this.pooled);
    this.pooled = undefined;
    this.window = Buffer.alloc(0);
  }
}

/**
 * Preload buffers given back by closed sources, for the next files: a run over thousands of
 * files reuses a few buffers instead of leaving one per file for the collector (V8 lets some
 * 64 MB of them pile up before it frees any). Sizes are rounded up to a quarter of their power
 * of two, and a buffer is reused for a file it fits within a third; small files (under
 * POOLED_MIN) are left to Node's own allocator.
 */
const POOLED_MIN = 1 << 16;
const POOL_BYTES = 8 << 20;
const preloadPool: Buffer[] = [];
let pooledBytes = 0;

function takePreloadBuffer(size: number): Buffer {
  if (size < POOLED_MIN) return Buffer.allocUnsafe(size);
  let best = -1;
  for (let i = 0; i < preloadPool.length; i++) {
    const n = preloadPool[i].length;
    if (n >= size && n <= size + (size >> 1) && (best < 0 || n < preloadPool[best].length)) best = i;
  }
  if (best < 0) {
    const quarter = 2 ** (Math.floor(Math.log2(size)) - 2);
    return Buffer.allocUnsafeSlow(Math.ceil(size / quarter) * quarter);
  }
  const [buf] = preloadPool.splice(best, 1);
  pooledBytes -= buf.length;
  return buf;
}

function givePreloadBuffer(buf: Buffer): void {
  if (buf.length < POOLED_MIN || buf.length > POOL_BYTES) return;
  preloadPool.push(buf);
  pooledBytes += buf.length;
  // Over the bound, the oldest go first.
  while (pooledBytes > POOL_BYTES) pooledBytes -= preloadPool.shift()!.length;
}

const WINDOW = 1 << 16;
/** Files up to this size are read whole once a handler has claimed them (FileSource.preload). */
export const PRELOAD_LIMIT = 8 << 20; // 8 files in flight per thread: at most 64 MiB preloaded per thread
const SMALL_READ = 4096;

function readFully(fd: number, buf: Uint8Array, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = fs.readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

export interface Sink {
  write(bytes: Uint8Array): Promise<void>;
  /** True when write() copies what it keeps, so the caller may reuse the bytes once the promise
   *  resolves (a writer then refills one buffer instead of allocating another). */
  readonly copiesWrites?: boolean;
  /** Copy `length` bytes of `src` starting at `offset`. */
  copyFrom(src: Source, offset: number, length: number): Promise<void>;
}

/** Visit `length` bytes of `src` from `offset` in chunks of at most 1 MiB (memory stays flat
 *  however large the range); a source that ends early is a FormatError. */
export async function forEachChunk(src: Source, offset: number, length: number, visit: (chunk: Buffer) => void | Promise<void>): Promise<void> {
  for (let done = 0; done < length; ) {
    const chunk = await src.read(offset + done, Math.min(COPY_CHUNK, length - done));
    if (chunk.length === 0) throw new FormatError('unexpected end of input', offset + done);
    await visit(chunk);
    done += chunk.length;
  }
}

/** The digest (a node:crypto algorithm) of `prefix`, then `length` bytes of `src` from `offset`,
 *  read in bounded chunks (an md5sums line, an rpm payload's digest). */
export async function digestRange(src: Source, offset: number, length: number, algorithm: string, prefix?: Uint8Array): Promise<Buffer> {
  const hash = crypto().createHash(algorithm);
  if (prefix) hash.update(prefix);
  await forEachChunk(src, offset, length, (chunk) => void hash.update(chunk));
  return hash.digest();
}

/** Generic range copy in bounded chunks; sinks without a faster path use it. */
export function copyInChunks(sink: Sink, src: Source, offset: number, length: number): Promise<void> {
  return forEachChunk(src, offset, length, (chunk) => sink.write(chunk));
}

/**
 * Output gathered in a staging buffer of `size` bytes and handed to `emit` in pieces of up to
 * `size` (larger writes go through at once). The buffer is borrowed from a pool shared by every
 * StagedOutput of that size and given back by release(): a run over thousands of files, or a
 * 100 MB tar appended piece by piece, allocates a few buffers instead of one per write. Writes
 * are copied in; a range of a source that can read into a buffer is read straight in.
 */
export class StagedOutput {
  private stage: Buffer | undefined;
  private staged = 0;

  constructor(
    private readonly size: number,
    private readonly emit: (data: Uint8Array) => void,
  ) {}

  write(bytes: Uint8Array): void {
    if (bytes.length >= this.size) {
      this.flush();
      this.emit(bytes);
      return;
    }
    if (this.staged + bytes.length > this.size) this.flush();
    this.borrow().set(bytes, this.staged);
    this.staged += bytes.length;
  }

  /** Stage `length` bytes of `src` from `offset`; false (nothing done) when `src` cannot read
   *  into a buffer, for the caller to copy in chunks. */
  copyFrom(src: Source, offset: number, length: number): boolean {
    if (!src.readInto) return false;
    const stage = this.borrow();
    for (let done = 0; done < length; ) {
      if (this.staged === this.size) this.flush();
      const n = src.readInto(stage.subarray(this.staged, Math.min(this.size, this.staged + length - done)), offset + done);
      if (n === 0) throw new FormatError('unexpected end of input', offset + done);
      this.staged += n;
      done += n;
    }
    return true;
  }

  flush(): void {
    if (this.staged === 0) return;
    const data = this.stage!.subarray(0, this.staged);
    this.staged = 0;
    this.emit(data);
  }

  /** Give the buffer back to the pool, dropping what was not flushed. */
  release(): void {
    const free = freeStages.get(this.size) ?? [];
    freeStages.set(this.size, free);
    if (this.stage && free.length < MAX_FREE_STAGES) free.push(this.stage);
    this.stage = undefined;
    this.staged = 0;
  }

  private borrow(): Buffer {
    this.stage ??= freeStages.get(this.size)?.pop() ?? Buffer.allocUnsafeSlow(this.size);
    return this.stage;
  }
}

const MAX_FREE_STAGES = 8;
const freeStages = new Map<number, Buffer[]>();

/** Collects the output in memory (archive members, tests), in one buffer that grows by
 *  doubling: a write is one copy, however small, and toBuffer() copies nothing. */
export class BufferSink implements Sink {
  readonly copiesWrites = true;
  private buf: Buffer = Buffer.alloc(0);
  private length = 0;
  private reserve(more: number): void {
    if (this.length + more <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.length + more, this.buf.length * 2, 4096));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
  async write(bytes: Uint8Array): Promise<void> {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  async copyFrom(src: Source, offset: number, length: number): Promise<void> {
    if (!src.readInto) return copyInChunks(this, src, offset, length);
    this.reserve(length);
    const got = src.readInto(this.buf.subarray(this.length, this.length + length), offset);
    if (got !== length) throw new FormatError('unexpected end of input', offset + got);
    this.length += length;
  }
  /** Forget what was written after the first `length` bytes. */
  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  /** What was written so far, as a view (valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** What was written (the sink must not be written to afterwards): a view, or a copy when
   *  more than half the buffer would be wasted (a member kept for the archive's lifetime). */
  toBuffer(): Buffer {
    const used = this.buf.subarray(0, this.length);
    return this.length * 2 < this.buf.length ? Buffer.from(used) : used;
  }
}

/** Counts and drops the output: --check, where only "would it change" matters. */
export class DiscardSink implements Sink {
  readonly copiesWrites = true;
  bytes = 0;
  async write(bytes: Uint8Array): Promise<void> {
    this.bytes += bytes.length;
  }
  async copyFrom(_src: Source, _offset: number, length: number): Promise<void> {
    this.bytes += length;
  }
}

/**
 * Passes everything to `inner` while checking whether the output is byte-identical to
 * `original`; `identical` is final once `finish()` has been called. Used by handlers that
 * rewrite a whole archive, so a file that is already normalized is reported unchanged and
 * never replaced.
 */
export class CompareSink implements Sink {
  private pos = 0;
  private same = true;
  constructor(
    private readonly inner: Sink,
    private readonly original: Source,
  ) {}

  get copiesWrites(): boolean {
    return this.inner.copiesWrites === true;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.same) {
      const old = await this.original.read(this.pos, bytes.length);
      if (old.length !== bytes.length || Buffer.compare(old, bytes) !== 0) this.same = false;
    }
    this.pos += bytes.length;
    await this.inner.write(bytes);
  }

  async copyFrom(src: Source, offset: number, length: number): Promise<void> {
    if (this.same && !(src === this.original && offset === this.pos)) {
      // Compare chunk by chunk while copying.
      return forEachChunk(src, offset, length, (chunk) => this.write(chunk));
    }
    this.pos += length;
    await this.inner.copyFrom(src, offset, length);
  }

  /** True if everything written equals the original, byte for byte and in length. */
  get identical(): boolean {
    return this.same && this.pos === this.original.size;
  }
}

/** A window of `length` bytes of `src` at `start` (an archive member read in place, or a zip
 *  after a jmod header or a shebang line). */
export class RangeSource implements Source {
  constructor(
    private readonly src: Source,
    private readonly start: number,
    readonly size: number,
  ) {}
  read(offset: number, length: number): Promise<Buffer> {
    return this.src.read(this.start + offset, Math.max(0, Math.min(length, this.size - offset)));
  }
  readSync(offset: number, length: number): Buffer {
    return this.src.readSync(this.start + offset, Math.max(0, Math.min(length, this.size - offset)));
  }
  get readInto(): ((dest: Uint8Array, offset: number) => number) | undefined {
    const inner = this.src;
    if (!inner.readInto) return undefined;
    return (dest, offset) => inner.readInto!(dest.subarray(0, Math.max(0, Math.min(dest.length, this.size - offset))), this.start + offset);
  }
}
