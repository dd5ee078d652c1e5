/**
 * Compressed streams for containers (tars, .deb members, rpm payloads): gzip, xz, lzma, bzip2 and
 * zstd, through the system tools (gzip, xz-utils, bzip2, zstd). Why the tools and not node:zlib
 * or npm packages: docs/dependencies.md.
 *
 * Output settings are fixed, so the same input always compresses to the same bytes: the default
 * levels (gzip 6, xz 6, bzip2 9, zstd 3; an rpm payload asks for its header's level), gzip writes
 * no name and no time, and xz and zstd run in modes whose bytes do not depend on the number of
 * threads. Data is streamed through the tool's pipes in both directions, so memory stays flat
 * whatever the size.
 */
import { childProcess } from './builtins.js';
import { FormatError } from './errors.js';
import { BufferSink, BufferSource, forEachChunk, type Sink, type Source } from './io.js';

export type Compression = 'gzip' | 'xz' | 'lzma' | 'bzip2' | 'zstd';

interface Tool {
  cmd: string;
  decompress: string[];
  /** The fixed settings, at `level`, for `threads` threads: the bytes must not depend on how many. */
  compress: (threads: number, level: number) => string[];
  /** The level used when none is asked for, and the range the tool accepts. */
  level: { default: number; min: number; max: number };
  /** Debian package that provides the tool, for the "not installed" message. */
  pkg: string;
}

/** xz's block size: -6's own multi-threaded default (3 x its 8 MiB dictionary). */
const XZ_BLOCK = '24MiB';

const TOOLS: Record<Compression, Tool> = {
  // gzip and bzip2 have no threaded mode whose bytes are those of the single-threaded tool.
  gzip: { cmd: 'gzip', decompress: ['-dc'], compress: (_t, l) => [`-${l}`, '-n', '-c'], level: { default: 6, min: 1, max: 9 }, pkg: 'gzip' },
  // xz's multi-threaded mode (forced with +1 for one thread) cuts the input into blocks of a
  // fixed size and compresses them independently: the same bytes for any number of threads.
  xz: {
    cmd: 'xz',
    decompress: ['-dc'],
    compress: (t, l) => [`-${l}`, `--threads=${t === 1 ? '+1' : t}`, `--block-size=${XZ_BLOCK}`, '--check=crc64', '-c'],
    level: { default: 6, min: 0, max: 9 },
    pkg: 'xz-utils',
  },
  // The legacy .lzma format (rpm's lzdio): one stream, no threads.
  lzma: { cmd: 'xz', decompress: ['--format=lzma', '-dc'], compress: (_t, l) => ['--format=lzma', `-${l}`, '-c'], level: { default: 6, min: 0, max: 9 }, pkg: 'xz-utils' },
  bzip2: { cmd: 'bzip2', decompress: ['-dc'], compress: (_t, l) => [`-${l}`, '-c'], level: { default: 9, min: 1, max: 9 }, pkg: 'bzip2' },
  // zstd's workers (-T1 and up, not --single-thread) split the input into jobs whose size
  // depends on the level only: the same bytes for any number of workers.
  zstd: {
    cmd: 'zstd',
    decompress: ['-dc', '-q'],
    compress: (t, l) => [...(l > 19 ? ['--ultra'] : []), `-${l}`, `-T${t}`, '-q', '-c'],
    level: { default: 3, min: 1, max: 22 },
    pkg: 'zstd',
  },
};

/** The compression a stream starts with, from its magic bytes. */
export function compressionOf(head: Buffer): Compression | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 6 && head.toString('latin1', 0, 6) === '\xfd7zXZ\0') return 'xz';
  if (head.length >= 4 && head.toString('latin1', 0, 3) === 'BZh' && head[3] >= 0x31 && head[3] <= 0x39) return 'bzip2';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return undefined;
}

/** `level` if the tool accepts it, else its default (an rpm header asking for level 0 of gzip). */
function levelFor(kind: Compression, level: number | undefined): number {
  const range = TOOLS[kind].level;
  return level !== undefined && Number.isInteger(level) && level >= range.min && level <= range.max ? level : range.default;
}

/** The tool's command line, for docs and messages. */
export function compressCommand(kind: Compression, threads = 1, level?: number): string {
  return [TOOLS[kind].cmd, ...TOOLS[kind].compress(threads, levelFor(kind, level))].join(' ');
}

interface Run {
  /** Resolves when the tool has exited with success. */
  done: Promise<void>;
  stdin: NodeJS.WritableStream;
  stdout: NodeJS.ReadableStream;
  kill(): void;
}

function run(kind: Compression, args: string[], what: string): Run {
  const tool = TOOLS[kind];
  const child = childProcess().spawn(tool.cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  child.stdin.on('error', () => {}); // EPIPE when the tool stops early: its exit status says why
  let killed = false;
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new Error(`${tool.cmd} is not installed (Debian package ${tool.pkg}); it is needed to ${what}`) : e);
    });
    child.on('close', (code, signal) => {
      if (killed || code === 0) return resolve();
      const msg = Buffer.concat(stderr).toString().trim().split('\n').pop() ?? '';
      // gzip exits 2 for warnings only (e.g. trailing garbage ignored); the data is complete.
      if (kind === 'gzip' && code === 2) return resolve();
      reject(new FormatError(`${what} failed: ${msg || `${tool.cmd} exited with ${code ?? signal}`}`));
    });
  });
  return {
    done,
    stdin: child.stdin,
    stdout: child.stdout,
    kill: () => {
      killed = true;
      child.kill();
    },
  };
}

/** Write `chunk` to a pipe, waiting while it is full. */
function pipeWrite(stream: NodeJS.WritableStream, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => finish();
    // A tool stopped (killed after the head it was asked for) never drains its pipe: without
    // this the write would wait forever, and the process exit with nothing left to run.
    const onClose = () => finish(new Error('the tool closed its input'));
    const finish = (err?: Error | null) => {
      stream.removeListener('drain', onDrain);
      stream.removeListener('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const ok = stream.write(chunk, (err) => err && finish(err));
    if (ok) return resolve();
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}

/** Feed `src` to a tool's stdin (errors surface through the tool's exit status). */
async function feed(src: Source, stdin: NodeJS.WritableStream): Promise<void> {
  try {
    await forEachChunk(src, 0, src.size, (chunk) => pipeWrite(stdin, chunk));
  } catch {
    /* the tool stopped reading; `done` reports why */
  }
  stdin.end();
}

/** Decompress all of `src` into `sink`. A corrupt or truncated stream is a FormatError. */
export async function decompress(kind: Compression, src: Source, sink: Sink): Promise<void> {
  const p = run(kind, TOOLS[kind].decompress, `${kind} decompression`);
  const fed = feed(src, p.stdin);
  const drained = (async () => {
    for await (const chunk of p.stdout) await sink.write(chunk as Buffer);
  })();
  await settle(p, [fed, drained, p.done]);
}

/** All of `src` decompressed, in memory (--identity and diff list what they compare in memory). */
export async function decompressed(kind: Compression, src: Source): Promise<Source> {
  const out = new BufferSink();
  await decompress(kind, src, out);
  return new BufferSource(out.toBuffer());
}

/** Wait for all; on the first failure stop the tool (so it never waits on a full pipe). */
async function settle(p: Run, all: Promise<unknown>[]): Promise<void> {
  try {
    await Promise.all(all);
  } catch (e) {
    p.kill();
    throw e;
  }
}

/** The first `length` decompressed bytes (fewer if the stream is shorter), and whether the
 *  stream decoded cleanly that far: enough for detection, without decompressing everything. */
export async function decompressHead(kind: Compression, src: Source, length: number): Promise<{ data: Buffer; ok: boolean }> {
  const p = run(kind, TOOLS[kind].decompress, `${kind} decompression`);
  const got: Buffer[] = [];
  let have = 0;
  const fed = feed(src, p.stdin);
  for await (const chunk of p.stdout) {
    got.push(chunk as Buffer);
    have += (chunk as Buffer).length;
    if (have >= length) {
      p.kill();
      break;
    }
  }
  const [, exit] = await Promise.allSettled([fed, p.done]);
  return { data: Buffer.concat(got).subarray(0, length), ok: have >= length || exit.status === 'fulfilled' };
}

/** Compress what `produce` writes, with the fixed settings (at `level`, or the tool's default),
 *  into `out`, on `threads` threads where the tool can (the bytes are the same however many). */
export async function compress(kind: Compression, produce: (input: Sink) => Promise<void>, out: Sink, threads = 1, level?: number): Promise<void> {
  const p = run(kind, TOOLS[kind].compress(Math.max(1, Math.floor(threads)), levelFor(kind, level)), `${kind} compression`);
  const input: Sink = {
    write: (bytes) => pipeWrite(p.stdin, bytes),
    copyFrom: (src, offset, length) => forEachChunk(src, offset, length, (chunk) => pipeWrite(p.stdin, chunk)),
  };
  const produced = (async () => {
    try {
      await produce(input);
    } finally {
      p.stdin.end();
    }
  })();
  const drained = (async () => {
    for await (const chunk of p.stdout) await out.write(chunk as Buffer);
  })();
  await settle(p, [produced, drained, p.done]);
}
