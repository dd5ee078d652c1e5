// FileSource's reuse of its buffers (the read-ahead window, the preload pool) must never show:
// every read, kept or not, equals the file's bytes as fs.readFileSync reads them.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BufferSink, FileSource, PRELOAD_LIMIT } from '../../src/kit/io.js';
import { ByteWriter } from '../../src/kit/binary.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snd-io-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function randomFile(name: string, size: number): { file: string; bytes: Buffer } {
  const file = path.join(dir, name);
  const bytes = crypto.randomBytes(size);
  fs.writeFileSync(file, bytes);
  return { file, bytes: fs.readFileSync(file) };
}

function open(file: string): FileSource {
  const fd = fs.openSync(file, 'r');
  return FileSource.fromFd(fd, fs.fstatSync(fd).size);
}

/** Reads at seeded random offsets: small ones (through the window), large ones, both kinds. */
function* readPlan(size: number, count: number, seed: number): Generator<{ offset: number; length: number }> {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < count; i++) {
    const length = next() % 4 === 0 ? 4096 + (next() % 100_000) : 1 + (next() % 3000);
    yield { offset: next() % size, length };
  }
}

describe('FileSource', () => {
  it('reads kept from the reused read-ahead window stay the bytes they were', () => {
    const { file, bytes } = randomFile('window.bin', 3 << 20);
    const src = open(file);
    const kept: { offset: number; data: Buffer }[] = [];
    for (const { offset, length } of readPlan(bytes.length, 2000, 7)) {
      const data = src.readSync(offset, length);
      expect(data.equals(bytes.subarray(offset, offset + length))).toBe(true);
      kept.push({ offset, data });
    }
    // The window was refilled hundreds of times since: what was returned must not have moved.
    for (const { offset, data } of kept) expect(data.equals(bytes.subarray(offset, offset + data.length))).toBe(true);
    void src.close();
  });

  it('readInto copies the bytes at any offset, through the window or not, short only at the end', () => {
    const { file, bytes } = randomFile('into.bin', (1 << 20) + 12345);
    const src = open(file);
    for (const { offset, length } of readPlan(bytes.length, 1000, 11)) {
      const dest = Buffer.alloc(length);
      const got = src.readInto(dest, offset);
      expect(got).toBe(Math.min(length, bytes.length - offset));
      expect(dest.subarray(0, got).equals(bytes.subarray(offset, offset + got))).toBe(true);
    }
    void src.close();
  });

  it('a preloaded buffer given back at close serves the next file its own bytes', async () => {
    const files = [0, 1, 2, 3, 4, 5].map((i) => randomFile(`pre${i}.bin`, 200_000 + i * 1000));
    for (const { file, bytes } of files) {
      const src = open(file);
      src.preload();
      for (const { offset, length } of readPlan(bytes.length, 200, bytes.length)) {
        expect(src.readSync(offset, length).equals(bytes.subarray(offset, offset + length))).toBe(true);
      }
      await src.close();
    }
  });

  it('a file over the preload limit is read in place, its reads still its bytes', async () => {
    const { file, bytes } = randomFile('large.bin', PRELOAD_LIMIT + 4097);
    const src = open(file);
    src.preload();
    for (const { offset, length } of readPlan(bytes.length, 300, 3)) {
      expect(src.readSync(offset, length).equals(bytes.subarray(offset, offset + length))).toBe(true);
    }
    await src.close();
  });
});

describe('sinks and writers that read into their own buffers', () => {
  it('BufferSink.copyFrom a file equals the range', async () => {
    const { file, bytes } = randomFile('copy.bin', 700_000);
    const src = open(file);
    const sink = new BufferSink();
    await sink.copyFrom(src, 1000, 500_000);
    await sink.copyFrom(src, 10, 20);
    expect(sink.toBuffer().equals(Buffer.concat([bytes.subarray(1000, 501_000), bytes.subarray(10, 30)]))).toBe(true);
    void src.close();
  });

  it('ByteWriter.readFrom and recycle: each batch taken holds what was written, once consumed', () => {
    const { file, bytes } = randomFile('writer.bin', 300_000);
    const src = open(file);
    const w = new ByteWriter(8192);
    const out: Buffer[] = [];
    const expected: Buffer[] = [];
    for (const { offset, length } of readPlan(bytes.length, 300, 5)) {
      const n = Math.min(length, bytes.length - offset, 5000);
      w.u32(n).readFrom(src, offset, n);
      const header = Buffer.alloc(4);
      header.writeUInt32LE(n);
      expected.push(header, bytes.subarray(offset, offset + n));
      if (w.pending >= 8192) {
        for (const chunk of w.take()) out.push(Buffer.from(chunk)); // consumed: copied, as a copying sink does
        w.recycle();
      }
    }
    for (const chunk of w.take()) out.push(Buffer.from(chunk));
    expect(Buffer.concat(out).equals(Buffer.concat(expected))).toBe(true);
    void src.close();
  });
});
