/**
 * Broken inputs: truncated files, corrupt headers and lengths past the end. Each must give an
 * error naming the file, a non-zero exit, the file byte-identical, and no temporary file left.
 * PNG keeps Perl's convention for bad chunk lengths: a warning, exit 0, file unchanged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, tempDir, UPSTREAM, FIXTURE_T } from './lib/helpers.js';
import { buildMo } from './lib/mo.js';

const fixture = (rel: string) => fs.readFileSync(path.join(UPSTREAM, rel));
const gz = fixture('gzip/vimoutliner_vo_readme_txt.gz.in');
const ar = fixture('ar/one.a.in');
const cpioBin = fixture('cpio/test.cpio.in');
const uimage = fixture('uimage/Linux-1001.uImage.in');
const png = fixture('png/1x1.png.in');

function withByte(buf: Buffer, offset: number, value: number): Buffer {
  const b = Buffer.from(buf);
  b[offset] = value;
  return b;
}
function withText(buf: Buffer, offset: number, text: string): Buffer {
  const b = Buffer.from(buf);
  b.write(text, offset, 'latin1');
  return b;
}
const newc = Buffer.from(
  '070701' + ['1', '81a4', '0', '0', '1', '5e0be100', '3', '0', '0', '0', '0', '4', '0'].map((x) => x.padStart(8, '0')).join('') + 'abc\0' + 'xyz\0' +
    '070701' + ['0', '0', '0', '0', '1', '0', '0', '0', '0', '0', '0', 'b', '0'].map((x) => x.padStart(8, '0')).join('') + 'TRAILER!!!\0\0\0\0',
  'latin1',
);

/** A newc entry whose name size is 0 (GNU cpio lists nothing from it), then the trailer. */
const newcNoName = Buffer.from(
  '070701' + ['1', '81a4', '0', '0', '1', '5e0be100', '3', '0', '0', '0', '0', '0', '0'].map((x) => x.padStart(8, '0')).join('') + '\0\0' + 'xyz\0' +
    newc.toString('latin1', newc.indexOf('070701', 6)),
  'latin1',
);

const ERRORS: [string, Buffer, string[]?][] = [
  ['short-header.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0])],
  ['extra-past-end.gz', Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 0xff, 0x7f]), Buffer.from('abc')])],
  ['unterminated-name.gz', Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 8, 1, 0, 0, 0, 0, 3]), Buffer.from('name-without-end')])],
  ['missing-hcrc.gz', Buffer.from([0x1f, 0x8b, 8, 2, 1, 0, 0, 0, 0, 3, 0])],
  ['short-header.a', ar.subarray(0, 8 + 30), ['--normalizers', '+ar']],
  ['bad-magic.a', withText(ar, 8 + 58, 'XX'), ['--normalizers', '+ar']],
  ['zero-size.a', withText(ar, 8 + 48, '0         '), ['--normalizers', '+ar']],
  ['junk-size.a', withText(ar, 8 + 48, 'junk      '), ['--normalizers', '+ar']],
  ['truncated-data.a', ar.subarray(0, ar.length - 100), ['--normalizers', '+ar']],
  ['trailing-byte.a', Buffer.concat([ar, Buffer.from('\n')]), ['--normalizers', '+ar']],
  ['truncated-header.cpio', cpioBin.subarray(0, 20)],
  ['truncated-data.cpio', newc.subarray(0, 110 + 4 + 2)],
  ['no-trailer.cpio', newc.subarray(0, 110 + 8)],
  ['bad-hex.cpio', withText(newc, 6, 'zzzzzzzz')],
  ['bad-odc.cpio', Buffer.from('070707' + 'x'.repeat(70), 'latin1')],
  ['zero-name-size.cpio', newcNoName],
  ['tables-past-end.mo', (() => { const b = buildMo([['', 'PO-Revision-Date: 2020-01-01 00:00+0000\n']]); b.writeUInt32LE(1 << 30, 12); return b; })()],
  ['string-past-end.mo', (() => { const b = buildMo([['', 'PO-Revision-Date: 2020-01-01 00:00+0000\n']]); b.writeUInt32LE(1 << 30, 28 + 8 + 4); return b; })()],
  ['bad-crc.uimage', withByte(uimage, 40, uimage[40] ^ 0xff)],
  ['not-a-png.txt', Buffer.from('hello'), ['-t', 'png']],
];

describe('broken inputs are rejected and left untouched', () => {
  for (const [name, bytes, extra] of ERRORS) {
    it(name, () => {
      const dir = tempDir();
      const target = path.join(dir, name);
      fs.writeFileSync(target, bytes);
      const r = runBin([...(extra ?? []), '-T', String(FIXTURE_T), target]);
      expect(r.status).toBe(255);
      expect(r.stderr).toMatch(new RegExp(`^strip-nondeterminism: ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\S`));
      expect(fs.readFileSync(target).equals(bytes)).toBe(true);
      expect(fs.readdirSync(dir)).toEqual([name]);
    });
  }
});

describe('a T the cpio header cannot hold is an error, the archive untouched', () => {
  // Perl writes newc and odc headers cpio -t cannot read, and wraps the old-binary time.
  for (const [name, bytes, T] of [['newc.cpio', newc, '-5'], ['newc-wide.cpio', newc, '99999999999'], ['bin.cpio', cpioBin, String(2 ** 32)]] as const) {
    it(`${name} with -T ${T}`, () => {
      const dir = tempDir();
      const target = path.join(dir, name);
      fs.writeFileSync(target, bytes);
      const r = runBin(['-T', T, target]);
      expect(r.status).toBe(255);
      expect(r.stderr).toContain(`strip-nondeterminism: ${target}: `);
      expect(fs.readFileSync(target).equals(bytes)).toBe(true);
      expect(fs.readdirSync(dir)).toEqual([name]);
    });
  }
});

describe('png chunk lengths past the end warn and leave the file unchanged (as Perl)', () => {
  const late = Buffer.from(png);
  const cases: [string, Buffer][] = [
    ['length-past-end.png', (() => { const b = Buffer.from(png); b.writeUInt32BE(0x10000000, 33); return b; })()],
    ['truncated-chunk.png', png.subarray(0, png.length - 6)],
    ['truncated-header.png', png.subarray(0, 33 + 5)],
  ];
  expect(late.length).toBeGreaterThan(40);
  for (const [name, bytes] of cases) {
    it(name, () => {
      const dir = tempDir();
      const target = path.join(dir, name);
      fs.writeFileSync(target, bytes);
      const r = runBin(['-T', String(FIXTURE_T), target]);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(`${target}: `);
      expect(fs.readFileSync(target).equals(bytes)).toBe(true);
      expect(fs.readdirSync(dir)).toEqual([name]);
    });
  }
});

describe('broken zip-family archives are rejected and left untouched', () => {
  const jarIn = fixture('jar/jdependency.jar.in');
  const eocd = jarIn.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1'));
  const cdStart = jarIn.readUInt32LE(eocd + 16);
  const cases: [string, Buffer][] = [
    ['truncated.jar', jarIn.subarray(0, jarIn.length - 100)],
    ['truncated-middle.zip', jarIn.subarray(0, 5000)],
    ['no-eocd.zip', Buffer.concat([jarIn.subarray(0, eocd), Buffer.alloc(22)])],
    ['bad-central-signature.jar', withText(jarIn, cdStart, 'XXXX')],
    ['central-size-too-big.zip', (() => { const b = Buffer.from(jarIn); b.writeUInt32LE(jarIn.length * 2, eocd + 12); return b; })()],
    ['bad-local-header.jar', withText(jarIn, 0, 'XXXX')],
    ['member-past-end.zip', (() => { const b = Buffer.from(jarIn); b.writeUInt32LE(0x7fffffff, cdStart + 20); b.writeUInt32LE(0x7fffffff, cdStart + 24); return b; })()],
  ];
  for (const [name, bytes] of cases) {
    it(name, () => {
      const dir = tempDir();
      const target = path.join(dir, name);
      fs.writeFileSync(target, bytes);
      const r = runBin(['-t', name.endsWith('.jar') ? 'jar' : 'zip', '-T', String(FIXTURE_T), target]);
      expect(r.status).toBe(255);
      expect(r.stderr).toContain(`strip-nondeterminism: ${target}: `);
      expect(fs.readFileSync(target).equals(bytes)).toBe(true);
      expect(fs.readdirSync(dir)).toEqual([name]);
    });
  }

  it('an encrypted member: warning, file unchanged (as Perl)', () => {
    const dir = tempDir();
    const target = path.join(dir, 'enc.zip');
    const b = Buffer.from(fixture('zip/test.zip.in'));
    // Set the encryption bit in the first central directory record.
    const cd = b.readUInt32LE(b.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1')) + 16);
    b.writeUInt16LE(b.readUInt16LE(cd + 8) | 1, cd + 8);
    fs.writeFileSync(target, b);
    const r = runBin(['-T', String(FIXTURE_T), target]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('ignoring encrypted zip file');
    expect(fs.readFileSync(target).equals(b)).toBe(true);
  });
});
