/**
 * What differs between two output trees (gbuild --vary): files only on one side, and for files
 * on both sides with different bytes, which members and fields differ inside archives (zip
 * family, tar plain or compressed, ar and .deb, gzip), else the first differing byte.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BufferSink, BufferSource } from '../kit/io.js';
import { AR_HEADER, readArMembers } from '../../handlers/ar/archive.js';
import { readZip } from '../../handlers/zip/records.js';
import { BLOCK, cstring, isZeroBlock, looksLikeTar, parseHeader } from '../../handlers/tar/header.js';
import { compressionOf, decompress } from '../../handlers/tar/compression.js';

export interface FileDifference {
  file: string;
  details: string[];
}

export interface TreeComparison {
  onlyFirst: string[];
  onlySecond: string[];
  differing: FileDifference[];
}

/** Files under `dir` (symlinks and all, as Gitian's manifest lists them), relative, in C order
 *  of the whole path (src/walk.ts listFiles keeps regular files only, per directory). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  if (fs.existsSync(dir)) walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Whether two files hold the same bytes, read in 1 MiB blocks (only differing files are loaded). */
function sameBytes(a: string, b: string): boolean {
  if (fs.statSync(a).size !== fs.statSync(b).size) return false;
  const [fa, fb] = [fs.openSync(a, 'r'), fs.openSync(b, 'r')];
  try {
    const [x, y] = [Buffer.alloc(1 << 20), Buffer.alloc(1 << 20)];
    for (let pos = 0; ; ) {
      const n = fs.readSync(fa, x, 0, x.length, pos);
      if (n === 0) return true;
      if (fs.readSync(fb, y, 0, n, pos) !== n || !x.subarray(0, n).equals(y.subarray(0, n))) return false;
      pos += n;
    }
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

export async function compareTrees(first: string, second: string): Promise<TreeComparison> {
  const a = listFiles(first);
  const b = listFiles(second);
  const inB = new Set(b);
  const inA = new Set(a);
  const differing: FileDifference[] = [];
  for (const f of a) {
    if (!inB.has(f)) continue;
    const [a, b] = [path.join(first, f), path.join(second, f)];
    if (!sameBytes(a, b)) differing.push({ file: f, details: await explain(fs.readFileSync(a), fs.readFileSync(b)) });
  }
  return { onlyFirst: a.filter((f) => !inB.has(f)), onlySecond: b.filter((f) => !inA.has(f)), differing };
}

/** A member of an archive, as the fields worth reporting. */
type Member = Record<string, string | number>;

function compareMembers(kind: string, a: Map<string, Member>, b: Map<string, Member>): string[] {
  const out: string[] = [];
  const names = [...new Set([...a.keys(), ...b.keys()])];
  for (const n of names) {
    const x = a.get(n);
    const y = b.get(n);
    if (!x) out.push(`${kind} member ${n}: only in the second`);
    else if (!y) out.push(`${kind} member ${n}: only in the first`);
    else {
      for (const field of Object.keys(x)) {
        if (field !== 'index' && x[field] !== y[field]) out.push(`${kind} member ${n}: ${field} ${x[field]} vs ${y[field]}`);
      }
    }
  }
  const order = (m: Map<string, Member>) => [...m.keys()].join('\n');
  if (!out.length && order(a) !== order(b)) out.push(`${kind}: member order differs`);
  return out;
}

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);

function zipMembers(data: Buffer): Map<string, Member> {
  const zip = readZip(new BufferSource(data));
  return new Map(
    Array.from({ length: zip.directory.count }, (_, i) => zip.directory.entry(i)).map((e) => [
      e.name.toString('latin1'),
      { time: e.lastMod, crc32: e.crc32, size: e.uncompressedSize, method: e.method, attributes: e.externalAttrs.toString(8), extra: e.extra.toString('hex'), madeBy: e.versionMadeBy },
    ]),
  );
}

function tarMembers(data: Buffer): Map<string, Member> {
  const members = new Map<string, Member>();
  let longName: string | undefined;
  for (let pos = 0; pos + BLOCK <= data.length; ) {
    const block = data.subarray(pos, pos + BLOCK);
    if (isZeroBlock(block)) break;
    const h = parseHeader(block, pos);
    const body = data.subarray(pos + BLOCK, pos + BLOCK + h.size);
    pos += BLOCK + Math.ceil(h.size / BLOCK) * BLOCK;
    if (h.type === 'L') {
      longName = cstring(body);
      continue;
    }
    if (h.type === 'K' || h.type === 'x' || h.type === 'g') continue;
    const name = longName ?? h.name;
    longName = undefined;
    members.set(name, { type: h.type, mode: h.mode.toString(8), owner: `${h.uname}:${h.uid}`, group: `${h.gname}:${h.gid}`, mtime: h.mtime, size: h.size, content: sha(body), link: h.linkname });
  }
  return members;
}

function arMembers(data: Buffer): Map<string, Member> {
  const members = new Map<string, Member>();
  for (const m of readArMembers(new BufferSource(data), 'dpkg')) {
    const field = (from: number, to: number) => m.header.toString('latin1', from, to).trim();
    const body = data.subarray(m.pos + AR_HEADER, m.pos + AR_HEADER + m.size);
    members.set(m.id.trim(), { mtime: field(16, 28), uid: field(28, 34), gid: field(34, 40), mode: field(40, 48), size: m.size, content: sha(body) });
  }
  return members;
}

async function inflate(data: Buffer): Promise<Buffer | undefined> {
  const kind = compressionOf(data.subarray(0, 8));
  if (!kind) return undefined;
  const out = new BufferSink();
  try {
    await decompress(kind, new BufferSource(data), out);
  } catch {
    return undefined;
  }
  return out.toBuffer();
}

/** Why two versions of a file differ, in a few lines. */
export async function explain(a: Buffer, b: Buffer): Promise<string[]> {
  try {
    if (a.readUInt32LE(0) === 0x04034b50 && b.readUInt32LE(0) === 0x04034b50) {
      const d = compareMembers('zip', zipMembers(a), zipMembers(b));
      if (d.length) return d;
    }
    if (a.toString('latin1', 0, 8) === '!<arch>\n' && b.toString('latin1', 0, 8) === '!<arch>\n') {
      const d = compareMembers('ar', arMembers(a), arMembers(b));
      if (d.length) return d;
    }
    if (looksLikeTar(a) && looksLikeTar(b)) {
      const d = compareMembers('tar', tarMembers(a), tarMembers(b));
      if (d.length) return d;
    }
    const [x, y] = [await inflate(a), await inflate(b)];
    if (x && y) {
      const inner = x.equals(y) ? [] : await explain(x, y);
      const header: string[] = [];
      if (a[0] === 0x1f && a[1] === 0x8b) {
        if (a.readUInt32LE(4) !== b.readUInt32LE(4)) header.push(`gzip header: mtime ${a.readUInt32LE(4)} vs ${b.readUInt32LE(4)}`);
        if ((a[3] & 8) !== (b[3] & 8)) header.push('gzip header: file name present in one only');
      }
      const compressed = header.length || inner.length ? [] : ['compressed bytes differ, content is the same'];
      return [...header, ...inner.map((l) => `(decompressed) ${l}`), ...compressed];
    }
  } catch {
    /* not the archive it looked like: fall back to bytes */
  }
  let at = 0;
  while (at < a.length && at < b.length && a[at] === b[at]) at++;
  return [`bytes differ from offset ${at} (sizes ${a.length} and ${b.length})`];
}
