/**
 * gzip: inputs from GNU gzip (with and without names and mtimes, several levels, multi-member)
 * and hand-built headers exercising FEXTRA, FCOMMENT, FHCRC and signed mtimes; the Perl tool's
 * output is the oracle, and `gzip -t` / `gzip -dc` read every output back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compareWithPerl, missing, PERL_TOOL, runOurs, sh, standardArgSets, tempDir, FIXTURE_T } from '../lib/helpers.js';
import { crc32 } from '../../src/kit/binary.js';

/** A gzip member with the given header fields (RFC 1952), payload deflated by zlib. */
function gzipMember(data: Buffer, o: { mtime?: number; name?: string; comment?: string; extra?: Buffer; hcrc?: boolean; os?: number }): Buffer {
  let flg = 0;
  const parts: Buffer[] = [];
  if (o.extra) {
    flg |= 4;
    const len = Buffer.alloc(2);
    len.writeUInt16LE(o.extra.length);
    parts.push(len, o.extra);
  }
  if (o.name !== undefined) {
    flg |= 8;
    parts.push(Buffer.from(o.name + '\0', 'latin1'));
  }
  if (o.comment !== undefined) {
    flg |= 16;
    parts.push(Buffer.from(o.comment + '\0', 'latin1'));
  }
  if (o.hcrc) flg |= 2;
  const head = Buffer.alloc(10);
  head.set([0x1f, 0x8b, 8, flg]);
  head.writeUInt32LE((o.mtime ?? 0) >>> 0, 4);
  head[8] = 0;
  head[9] = o.os ?? 3;
  let header = Buffer.concat([head, ...parts]);
  if (o.hcrc) {
    const c = Buffer.alloc(2);
    c.writeUInt16LE(crc32(header) & 0xffff);
    header = Buffer.concat([header, c]);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, zlib.deflateRawSync(data), trailer]);
}

const skip = missing(PERL_TOOL, 'gzip');

describe.skipIf(skip)('gzip: parity with the Perl tool', () => {
  const dir = tempDir();
  const text = Buffer.from('Reproducible builds\n'.repeat(200));
  const inputs: string[] = [];
  const add = (name: string, bytes: Buffer) => {
    fs.writeFileSync(path.join(dir, name), bytes);
    inputs.push(path.join(dir, name));
  };

  fs.writeFileSync(path.join(dir, 'doc.txt'), text);
  for (const [name, cmd] of [
    ['named.gz', 'touch -d @1500000000 doc.txt && gzip -c doc.txt > named.gz'],
    ['old.gz', 'touch -d @900000000 doc.txt && gzip -9 -c doc.txt > old.gz'],
    ['fast.gz', 'touch -d @1600000000 doc.txt && gzip -1 -N -c doc.txt > fast.gz'],
    ['noname.gz', 'gzip -n -c doc.txt > noname.gz'],
    ['stdin.gz', 'gzip -c < doc.txt > stdin.gz'],
    ['multi.gz', 'cat named.gz old.gz > multi.gz'],
    ['empty.gz', ': | gzip -c > empty.gz'],
    ['dict.dz', 'cp named.gz dict.dz'],
  ] as const) {
    sh(cmd, dir);
    inputs.push(path.join(dir, name));
  }
  add('extra.gz', gzipMember(text, { mtime: 1700000000, extra: Buffer.from('RA\x04\x00abcd', 'latin1'), name: 'x.txt', comment: 'a comment' }));
  add('hcrc.gz', gzipMember(text, { mtime: 1300000000, name: 'y.txt', hcrc: true }));
  add('everything.gz', gzipMember(text, { mtime: 1423159771, extra: Buffer.alloc(0), name: '', comment: '', hcrc: true, os: 11 }));
  add('signed.gz', gzipMember(text, { mtime: 0xf0000000, name: 'big-mtime' }));
  add('zero.gz', gzipMember(text, { mtime: 0, comment: 'keep me' }));
  add('plain-name.gz', text); // not gzip: detection must leave it alone

  it('normalizes every variant byte-identically', async () => {
    expect(await compareWithPerl(inputs, standardArgSets())).toEqual([]);
  });

  it('forced with -t gzip on a non-gzip file, both leave it alone', async () => {
    expect(await compareWithPerl([path.join(dir, 'doc.txt')], [['-t', 'gzip', '-T', '5']])).toEqual([]);
  });

  it('outputs still decompress to the same content', async () => {
    const work = tempDir();
    for (const f of inputs.filter((f) => !f.endsWith('plain-name.gz'))) {
      const target = path.join(work, path.basename(f));
      fs.copyFileSync(f, target);
      const before = sh(`gzip -dc < '${f}' | sha256sum`);
      expect((await runOurs(['-T', String(FIXTURE_T), target])).status).toBe(0);
      sh(`gzip -t < '${target}'`);
      expect(sh(`gzip -dc < '${target}' | sha256sum`)).toBe(before);
    }
  });
});
