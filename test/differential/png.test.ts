/**
 * png: images from ImageMagick (which writes tIME and date:create/date:modify tEXt chunks) and
 * hand-built chunk sequences (iTXt/zTXt dates, Creation Time, big text chunks, big IDAT,
 * garbage after IEND, bad lengths, CgBI); the Perl tool's output is the oracle and ImageMagick
 * reads every output back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compareWithPerl, missing, PERL_TOOL, runOurs, sh, standardArgSets, tempDir, FIXTURE_T } from '../lib/helpers.js';

const SIG = Buffer.from('\x89PNG\r\n\x1a\n', 'latin1');
const crc = (b: Buffer) => (zlib as unknown as { crc32(b: Buffer): number }).crc32(b) >>> 0;

function chunk(type: string, data: Buffer | string): Buffer {
  const d = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const out = Buffer.alloc(12 + d.length);
  out.writeUInt32BE(d.length, 0);
  out.write(type, 4, 'latin1');
  d.copy(out, 8);
  out.writeUInt32BE(crc(out.subarray(4, 8 + d.length)), 8 + d.length);
  return out;
}

function tIME(y: number, mo: number, d: number, h: number, mi: number, s: number): Buffer {
  const b = Buffer.alloc(7);
  b.writeUInt16BE(y, 0);
  b.set([mo, d, h, mi, s], 2);
  return chunk('tIME', b);
}

/** A valid 1x1 grey image with the given extra chunks before IDAT and after it. */
function image(before: Buffer[], after: Buffer[] = [], idatSize = 1): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(idatSize === 1 ? 1 : 64, 0);
  ihdr.writeUInt32BE(idatSize === 1 ? 1 : 64, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const w = idatSize === 1 ? 1 : 64;
  const raw = Buffer.alloc((w + 1) * w, 0);
  for (let i = 0; i < raw.length; i++) if (i % (w + 1)) raw[i] = (i * 7919) & 0xff;
  const idat = zlib.deflateSync(raw, { level: 0 });
  return Buffer.concat([SIG, chunk('IHDR', ihdr), ...before, chunk('IDAT', idat), ...after, chunk('IEND', '')]);
}

const skip = missing(PERL_TOOL, '/usr/bin/convert', '/usr/bin/identify');

describe.skipIf(skip)('png: parity with the Perl tool', () => {
  const dir = tempDir();
  const inputs: string[] = [];
  const add = (name: string, bytes: Buffer) => {
    fs.writeFileSync(path.join(dir, name), bytes);
    inputs.push(path.join(dir, name));
  };
  for (const [name, args] of [
    ['magick.png', '-size 16x16 xc:red'],
    ['gradient.png', '-size 80x60 gradient:blue-yellow'],
    ['alpha.png', '-size 8x8 xc:none -fill green -draw "point 3,3"'],
    ['nodate.png', '-size 4x4 xc:white -define png:exclude-chunks=date,time'],
  ] as const) {
    sh(`/usr/bin/convert ${args} '${name}'`, dir);
    inputs.push(path.join(dir, name));
  }
  const late = tIME(2030, 1, 2, 3, 4, 5);
  const early = tIME(2001, 2, 3, 4, 5, 6);
  add('time-late.png', image([late]));
  add('time-early.png', image([early]));
  add('time-leap.png', image([tIME(2016, 2, 29, 23, 59, 59)]));
  add('text-dates.png', image([chunk('tEXt', 'date:create\x002019-01-01T00:00:00+00:00'), chunk('tEXt', 'Creation Time\x00yesterday'), chunk('tEXt', 'Title\x00keep')]));
  add('itxt-ztxt.png', image([chunk('iTXt', 'date:create\x00\x00\x00\x00\x002019'), chunk('zTXt', Buffer.concat([Buffer.from('date:modify\x00\x00', 'latin1'), zlib.deflateSync('2019')]))]));
  add('big-text.png', image([chunk('tEXt', 'date:create\x00' + 'x'.repeat(5000)), chunk('tEXt', 'date:edge\x00' + 'y'.repeat(4092 - 10 - 1))]));
  add('big-idat.png', image([late], [], 64));
  add('time-after-idat.png', image([], [late, chunk('tEXt', 'date:modify\x002020')]));
  add('garbage.png', Buffer.concat([image([late]), Buffer.from('trailing garbage')]));
  add('garbage-nochange.png', Buffer.concat([image([]), Buffer.from('trailing garbage')]));
  add('after-iend.png', Buffer.concat([image([]), late]));
  add('no-iend.png', image([late]).subarray(0, -12));
  const bad = image([late]);
  bad.writeUInt32BE(0x7fff0000, 33 + 0); // IHDR is 8+25; the next chunk's length runs past the end
  add('bad-length.png', bad);
  const cgbi = Buffer.concat([SIG, chunk('CgBI', '\x50\x00\x20\x06'), image([late]).subarray(8)]);
  add('cgbi.png', cgbi);

  it('normalizes every variant byte-identically', async () => {
    expect(await compareWithPerl(inputs, standardArgSets())).toEqual([]);
  });

  it('agrees on warnings-only cases and forced -t png on a non-PNG', async () => {
    fs.writeFileSync(path.join(dir, 'not.png'), 'plain text');
    expect(await compareWithPerl([path.join(dir, 'not.png')], [['-t', 'png', '-T', '1']])).toEqual([]);
  });

  it('outputs are valid PNGs that show the same pixels', async () => {
    const work = tempDir();
    for (const f of inputs.filter((f) => !/bad-length|no-iend|cgbi/.test(f))) {
      const target = path.join(work, path.basename(f));
      fs.copyFileSync(f, target);
      const pixels = sh(`/usr/bin/convert '${f}' rgba:- | sha256sum`);
      expect((await runOurs(['-T', String(FIXTURE_T), target])).status).toBe(0);
      sh(`/usr/bin/identify -regard-warnings '${target}' >/dev/null`);
      expect(sh(`/usr/bin/convert '${target}' rgba:- | sha256sum`)).toBe(pixels);
    }
  });
});
