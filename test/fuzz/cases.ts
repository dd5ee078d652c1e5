/**
 * The fuzz suite's cases and judges. Mutations come from one seeded generator (mulberry32), so
 * `FUZZ_SEED=N` replays a run: truncations, byte flips, length and offset fields set to 0, max
 * or negative, chunks duplicated or removed, a nested member damaged, the wrong extension.
 * Readers are the formats' own tools (unzip -t, tar -t, gzip -t, dpkg-deb -c, ar t, cpio -t,
 * msgunfmt, readelf, CPython's marshal) and a PNG chunk walker written here.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import type { Reader, Seed } from './seeds.js';

export function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
  };
}

const FIELD_VALUES = [0, 1, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];
const OTHER_NAMES: Record<string, string[]> = { zip: ['x.jar', 'x.apk', 'x.epub'], jar: ['x.zip', 'x.jmod'], gz: ['x.tar.gz', 'x.dz'], tar: ['x.tgz', 'x.deb'], deb: ['x.a', 'x.tar'], a: ['x.deb'] };

/** One mutation of `seed`: its description and bytes, and the name to write it under. */
export function mutate(seed: Seed, rand: (n: number) => number): { what: string; bytes: Buffer; name: string } {
  const input = seed.bytes;
  const len = input.length;
  const at = () => (rand(2) ? rand(Math.min(512, len)) : rand(len));
  const b = Buffer.from(input);
  switch (rand(8)) {
    case 0: {
      const cut = rand(len);
      return { what: `truncated at ${cut}`, bytes: input.subarray(0, cut), name: seed.name };
    }
    case 1: {
      const spots = Array.from({ length: 1 + rand(4) }, at);
      for (const s of spots) b[s] ^= 1 + rand(255);
      return { what: `bytes flipped at ${spots.join(',')}`, bytes: b, name: seed.name };
    }
    case 2: case 3: {
      const width = rand(2) ? 4 : 2;
      const pos = Math.max(0, Math.min(at(), len - width));
      const value = FIELD_VALUES[rand(FIELD_VALUES.length)] % 2 ** (8 * width);
      const le = rand(2) === 0;
      if (len >= width) width === 4 ? (le ? b.writeUInt32LE(value, pos) : b.writeUInt32BE(value, pos)) : le ? b.writeUInt16LE(value, pos) : b.writeUInt16BE(value, pos);
      return { what: `${width * 8}-bit ${le ? 'LE' : 'BE'} field at ${pos} set to ${value}`, bytes: b, name: seed.name };
    }
    case 4: {
      const from = rand(len);
      const size = 1 + rand(Math.min(256, len - from));
      const into = rand(len);
      return { what: `${size} bytes from ${from} duplicated at ${into}`, bytes: Buffer.concat([input.subarray(0, into), input.subarray(from, from + size), input.subarray(into)]), name: seed.name };
    }
    case 5: {
      const from = rand(len);
      const size = 1 + rand(Math.min(256, len - from));
      return { what: `${size} bytes removed at ${from}`, bytes: Buffer.concat([input.subarray(0, from), input.subarray(from + size)]), name: seed.name };
    }
    case 6: {
      // A nested member: bytes just after an inner zip, gzip or tar-ish signature.
      const inner = [Buffer.from('PK\x03\x04', 'latin1'), Buffer.from([0x1f, 0x8b]), Buffer.from('ustar')].flatMap((sig) => {
        const hits: number[] = [];
        for (let i = input.indexOf(sig, 1); i > 0; i = input.indexOf(sig, i + 1)) hits.push(i);
        return hits;
      });
      const base = inner.length ? inner[rand(inner.length)] : at();
      const spots = Array.from({ length: 1 + rand(3) }, () => Math.min(len - 1, base + rand(64)));
      for (const s of spots) b[s] ^= 1 + rand(255);
      return { what: `nested member at ${base} damaged at ${spots.join(',')}`, bytes: b, name: seed.name };
    }
    default: {
      const ext = seed.name.split('.').pop()!;
      const names = OTHER_NAMES[ext] ?? ['x.zip', 'x.gz', 'x.tar', 'x.png'];
      return { what: 'named as another format', bytes: input, name: names[rand(names.length)] };
    }
  }
}

const run = (cmd: string, args: string[], input?: Buffer) => spawnSync(cmd, args, { input, encoding: 'latin1', timeout: 20_000 });

/** A PNG chunk walker: signature, each chunk's length within the file and its CRC, IEND last. */
function pngOk(b: Buffer): boolean {
  if (b.length < 8 || !b.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))) return false;
  let pos = 8;
  while (pos + 12 <= b.length) {
    const n = b.readUInt32BE(pos);
    if (pos + 12 + n > b.length) return false;
    const type = b.subarray(pos + 4, pos + 8);
    if (zlib.crc32(Buffer.concat([type, b.subarray(pos + 8, pos + 8 + n)])) !== b.readUInt32BE(pos + 8 + n)) return false;
    pos += 12 + n;
    if (type.toString('latin1') === 'IEND') return pos === b.length;
  }
  return false;
}

/** Does the format's own reader accept the file? */
export function accepts(reader: Reader, file: string): boolean {
  switch (reader) {
    case 'unzip': return run('unzip', ['-tqq', file]).status === 0;
    case 'tar': return run('tar', ['-tf', file]).status === 0;
    case 'gzip': return run('gzip', ['-t', file]).status === 0;
    case 'dpkg': return run('dpkg-deb', ['-c', file]).status === 0;
    case 'ar': return run('ar', ['t', file]).status === 0;
    case 'cpio': return run('cpio', ['-it', '--quiet'], fs.readFileSync(file)).status === 0;
    case 'mo': return run('msgunfmt', [file]).status === 0;
    case 'png': return pngOk(fs.readFileSync(file));
    case 'pyc': return run('python3', ['-c', 'import marshal,sys; marshal.loads(open(sys.argv[1],"rb").read()[16:])', file]).status === 0;
    case 'elf': {
      const r = run('readelf', ['-W', '-S', '-h', file]);
      return r.status === 0 && !/Error|Warning/.test(r.stderr);
    }
    case 'pe': return run('x86_64-w64-mingw32-objdump', ['-p', file]).status === 0;
    case 'pdf': return run('qpdf', ['--check', file]).status === 0;
    case 'rpm': return run('rpm', ['-K', '--nosignature', file]).status === 0 && run('sh', ['-c', 'rpm2cpio "$0" | cpio -it --quiet', file]).status === 0;
    case 'none': return true;
  }
}
