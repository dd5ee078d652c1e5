/**
 * zip family: archives from Info-ZIP zip, python's zipfile and yazl, normalized by the Perl
 * tool and this port, must be byte-identical except where docs/compat.md lists a fix; every
 * output passes `unzip -t` and keeps its members' contents.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareWithPerl, missing, PERL_TOOL, runOurs, sh, standardArgSets, tempDir, FIXTURE_T } from '../lib/helpers.js';
import { infoZipAndPython, makeTree, yazlZip } from '../lib/zips.js';

const skip = missing(PERL_TOOL, 'zip', 'unzip');

describe.skipIf(skip)('zip: parity with the Perl tool', async () => {
  const dir = tempDir();
  const tree = makeTree(dir);
  const all = infoZipAndPython(dir, tree);
  const withSymlink = all.filter((f) => f.endsWith('with-symlink.whl'));
  const epub = all.filter((f) => f.endsWith('.epub'));
  const inputs = all.filter((f) => !withSymlink.includes(f) && !epub.includes(f));
  inputs.push(
    await yazlZip(path.join(dir, 'yazl.xpi'), [
      ['dir/', null],
      ['dir/b.txt', Buffer.from('bbbbbbbbbbbbbbbbbbbbbbbb')],
      ['a.txt', Buffer.from('a')],
      ['tool', Buffer.from('#!/bin/sh\n'), 0o100755],
      ['empty.txt', Buffer.alloc(0)],
    ]),
  );

  it('normalizes archives from zip, python and yazl byte-identically', async () => {
    expect(await compareWithPerl(inputs, standardArgSets())).toEqual([]);
  });

  it('outputs pass unzip -t and keep every member', async () => {
    const work = tempDir();
    for (const f of [...inputs, ...withSymlink, ...epub]) {
      const target = path.join(work, path.basename(f));
      fs.copyFileSync(f, target);
      const before = sh(`unzip -Z1 '${f}' | LC_ALL=C sort`);
      const contents = (zip: string) => sh(`unzip -Z1 '${zip}' | grep -v '/$' | while IFS= read -r m; do printf '%s ' "$m"; unzip -p '${zip}' "$m" | sha256sum; done | LC_ALL=C sort`);
      const sums = contents(f);
      expect((await runOurs(['-T', String(FIXTURE_T), target])).status).toBe(0);
      sh(`unzip -tq '${target}'`);
      expect(sh(`unzip -Z1 '${target}' | LC_ALL=C sort`)).toBe(before);
      expect(contents(target)).toBe(sums);
      // The DOS time has 2-second steps (18:09:30); extended-timestamp fields hold 18:09:31.
      const times = sh(`TZ=UTC unzip -Z -T '${target}' | grep -v '^Archive\\|^Zip file\\|files,' | awk '{print $7}' | sort -u`).trim().split('\n');
      for (const t of times) expect(['20150205.180930', '20150205.180931']).toContain(t);
    }
  });

  it('fix: symlink entries stay symlinks (Perl makes them regular files)', async () => {
    const [f] = withSymlink;
    const work = tempDir();
    const ours = path.join(work, 'ours.whl');
    const perl = path.join(work, 'perl.whl');
    fs.copyFileSync(f, ours);
    fs.copyFileSync(f, perl);
    expect((await runOurs(['-T', String(FIXTURE_T), ours])).status).toBe(0);
    sh(`'${PERL_TOOL}' -T ${FIXTURE_T} '${perl}'`);
    expect(sh(`unzip -Z '${ours}' link`)).toMatch(/^lrwxrwxrwx/);
    expect(sh(`unzip -Z '${perl}' link`)).toMatch(/^-rwxr-xr-x/);
    const x = path.join(work, 'x');
    fs.mkdirSync(x);
    sh(`unzip -q '${ours}'`, x);
    expect(fs.readlinkSync(path.join(x, 'link'))).toBe('a.txt');
  });

  it('fix: a stored mimetype member stays first in an EPUB (Perl sorts it after META-INF)', async () => {
    const [f] = epub;
    const work = tempDir();
    const ours = path.join(work, 'ours.epub');
    const perl = path.join(work, 'perl.epub');
    fs.copyFileSync(f, ours);
    fs.copyFileSync(f, perl);
    expect((await runOurs(['-T', String(FIXTURE_T), ours])).status).toBe(0);
    sh(`'${PERL_TOOL}' -T ${FIXTURE_T} '${perl}'`);
    expect(sh(`unzip -Z1 '${ours}'`).split('\n')[0]).toBe('mimetype');
    expect(sh(`unzip -Z1 '${perl}'`).split('\n')[0]).not.toBe('mimetype');
    expect(fs.readFileSync(ours).toString('latin1', 30, 38 + 20)).toBe('mimetypeapplication/epub+zip');
  });

  it('names flagged UTF-8 that start with a byte-order mark keep it, as in Perl', async () => {
    const work = tempDir();
    const f = path.join(work, 'bom.zip');
    // python's zipfile flags every non-ASCII name UTF-8.
    sh(`python3 -c "import zipfile; z = zipfile.ZipFile('${f}', 'w'); [z.writestr(zipfile.ZipInfo(n, (2021, 1, 1, 0, 0, 0)), 'x') for n in ['\\ufeffb.txt', 'a\\u00e9.txt', 'c.txt']]; z.close()"`);
    expect(await compareWithPerl([f], standardArgSets())).toEqual([]);
    const ours = path.join(work, 'ours.zip');
    fs.copyFileSync(f, ours);
    expect((await runOurs(['-T', String(FIXTURE_T), ours])).status).toBe(0);
    expect(sh(`unzip -Z1 '${ours}'`)).toBe('a\u00e9.txt\nc.txt\n\ufeffb.txt\n');
  });

  it('fix: a name flagged UTF-8 that is not UTF-8 leaves the archive unchanged (Perl renames the member)', async () => {
    const work = tempDir();
    const f = path.join(work, 'bad.zip');
    // Stored members with placeholder names, then the names' bytes and the UTF-8 flag patched in.
    sh(`python3 -c "
import struct, zipfile
names = [b'a\\xff\\xfeb.txt', b'\\xc0\\xafw.txt', b'\\xed\\xa0\\x80q.txt', b'z.txt']
marks = [('N%d' % i).ljust(len(n), '_').encode() for i, n in enumerate(names)]
z = zipfile.ZipFile('${f}', 'w')
for m in marks: z.writestr(zipfile.ZipInfo(m.decode(), (2021, 1, 1, 0, 0, 0)), 'x')
z.close()
d = open('${f}', 'rb').read()
for m, n in zip(marks, names): d = d.replace(m, n)
d = bytearray(d)
for sig, at in ((b'PK\\x03\\x04', 6), (b'PK\\x01\\x02', 8)):
    i = d.find(sig)
    while i >= 0:
        struct.pack_into('<H', d, i + at, struct.unpack_from('<H', d, i + at)[0] | 0x800)
        i = d.find(sig, i + 4)
open('${f}', 'wb').write(d)
"`);
    const [ours, perl] = ['ours.zip', 'perl.zip'].map((n) => path.join(work, n));
    fs.copyFileSync(f, ours);
    fs.copyFileSync(f, perl);
    const r = await runOurs(['-T', String(FIXTURE_T), ours]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/member .* its name is flagged UTF-8 but is not valid UTF-8, .*; left unchanged/);
    expect(fs.readFileSync(ours).equals(fs.readFileSync(f))).toBe(true);
    sh(`'${PERL_TOOL}' -T ${FIXTURE_T} '${perl}'`);
    // unzip lists the raw name bytes: Perl's output no longer has the input's names.
    const names = (z: string) => spawnSync('unzip', ['-Z1', z]).stdout.toString('latin1').split('\n').sort();
    expect(names(perl)).not.toEqual(names(f));
  });

  it('agrees on what Archive::Zip refuses: an empty member name, a directory stored with a method it cannot convert, a zip64 data descriptor outside zip64', async () => {
    const work = tempDir();
    const make = (name: string, first: string, localMethod: number) => {
      const f = path.join(work, name);
      sh(`python3 -c "
import struct, zipfile
z = zipfile.ZipFile('${f}', 'w')
i = zipfile.ZipInfo('${first}', (2021, 1, 1, 0, 0, 0))
i.external_attr = ((0o40755 << 16) | 0x10) if '${first}'.endswith('/') else (0o100644 << 16)
z.writestr(i, b'' if '${first}'.endswith('/') else b'x')
z.writestr(zipfile.ZipInfo('a.txt', (2021, 1, 1, 0, 0, 0)), b'hello')
z.close()
b = bytearray(open('${f}', 'rb').read())
struct.pack_into('<H', b, 8, ${localMethod})
open('${f}', 'wb').write(b)
"`);
      return f;
    };
    // Local methods 12 (bzip2) and 58 on a stored directory: Perl leaves the archive; 8 it converts.
    const inputs = [make('empty-name.zip', '', 0), make('dir-bzip2.zip', 'd/', 12), make('dir-58.zip', 'd/', 58), make('dir-deflated.zip', 'd/', 8)];
    // python's zipfile writing to a pipe with force_zip64: a zip64 data descriptor in an archive
    // without zip64 records (unzip reads it; Archive::Zip does not, and Perl leaves the file).
    const dd64 = path.join(work, 'descriptor64.zip');
    sh(`python3 -c "
import io, sys, zipfile
class Pipe(io.RawIOBase):
    def writable(self): return True
    def write(self, b): sys.stdout.buffer.write(b); return len(b)
with zipfile.ZipFile(Pipe(), 'w', zipfile.ZIP_DEFLATED) as z:
    with z.open(zipfile.ZipInfo('c.txt', (2021, 1, 1, 0, 0, 0)), 'w', force_zip64=True) as f: f.write(b'abc' * 10)
" > '${dd64}' && unzip -tqq '${dd64}'`);
    inputs.push(dd64);
    expect(await compareWithPerl(inputs, standardArgSets())).toEqual([]);
    const r = await runOurs(['-T', String(FIXTURE_T), dd64]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/data descriptor is in zip64 form/);
  });

  it("claims what file(1) calls a zip (or a jar) from the first member, as Perl's detection does", async () => {
    const work = tempDir();
    // The first member's name, extra field and data decide: 0xCAFE right after the name means
    // "Java archive data" (what `jar cfM` writes), Android's members "Android package", a
    // mimetype member without an extra field its type.
    const cases: [string, string, string, string][] = [
      ['cafe', 'a.txt', 'x', '\\xfe\\xca\\x00\\x00'],
      ['cafe-in-data', 'a.txt', '\\xfe\\xcahello', ''],
      ['dex-cafe', 'classes.dex', 'x', '\\xfe\\xca\\x00\\x00'],
      ['arsc', 'resources.arsc', 'x', ''],
      ['mimetype-extra', 'mimetype', 'text/plain', 'UT\\x05\\x00\\x01\\x00\\x00\\x00\\x00'],
      ['mimetype-text', 'mimetype', 'text/plain', ''],
    ];
    const inputs = cases.flatMap(([label, first, data, extra]) =>
      ['zip', 'jar', 'whl'].map((ext) => {
        const f = path.join(work, `${label}.${ext}`);
        sh(`python3 -c "
import zipfile
z = zipfile.ZipFile('${f}', 'w')
i = zipfile.ZipInfo('${first}', (2021, 1, 1, 0, 0, 0))
i.extra = b'${extra}'
z.writestr(i, b'${data}')
z.writestr(zipfile.ZipInfo('z.txt', (2021, 1, 1, 0, 0, 0)), b'y')  # sorts last: no mimetype-first fix
z.close()
"`);
        return f;
      }),
    );
    expect(await compareWithPerl(inputs, standardArgSets())).toEqual([]);
  });

  it('fix: a prefixed archive is left as it is (Perl drops the shebang line)', async () => {
    const work = tempDir();
    const f = path.join(work, 'app.zip');
    sh(`printf 'print(1)\\n' > __main__.py && zip -q m.zip __main__.py && (printf '#!/usr/bin/python3\\n'; cat m.zip) > '${f}' && zip -q -A '${f}'`, work);
    const [ours, perl] = ['ours.zip', 'perl.zip'].map((n) => path.join(work, n));
    fs.copyFileSync(f, ours);
    fs.copyFileSync(f, perl);
    expect((await runOurs(['-T', String(FIXTURE_T), ours])).status).toBe(0);
    expect(fs.readFileSync(ours).equals(fs.readFileSync(f))).toBe(true);
    sh(`'${PERL_TOOL}' -T ${FIXTURE_T} '${perl}'`);
    expect(fs.readFileSync(perl).toString('latin1', 0, 2)).toBe('PK');
  });

  it('fix: every hard-linked name gets the new bytes (Perl replaces one name only)', async () => {
    const work = tempDir();
    const [ours, perl] = ['ours', 'perl'].map((n) => {
      const d = path.join(work, n);
      fs.mkdirSync(d);
      fs.copyFileSync(inputs[0], path.join(d, 'a.zip'));
      fs.linkSync(path.join(d, 'a.zip'), path.join(d, 'b.zip'));
      return d;
    });
    expect((await runOurs(['-T', String(FIXTURE_T), path.join(ours, 'a.zip')])).status).toBe(0);
    sh(`'${PERL_TOOL}' -T ${FIXTURE_T} '${path.join(perl, 'a.zip')}'`);
    expect(fs.readFileSync(path.join(ours, 'b.zip')).equals(fs.readFileSync(path.join(ours, 'a.zip')))).toBe(true);
    expect(fs.readFileSync(path.join(ours, 'a.zip')).equals(fs.readFileSync(path.join(perl, 'a.zip')))).toBe(true);
    expect(fs.readFileSync(path.join(perl, 'b.zip')).equals(fs.readFileSync(path.join(perl, 'a.zip')))).toBe(false);
  });
});
