/**
 * gettext: catalogs compiled by msgfmt (both byte orders, .mo and .gmo) from .po files whose
 * headers carry POT-Creation-Date / PO-Revision-Date values before and after T, in several
 * zones and odd shapes; the Perl tool's output is the oracle, msgunfmt reads outputs back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildMo } from '../lib/mo.js';
import { compareWithPerl, missing, PERL_TOOL, runOurs, sh, standardArgSets, tempDir, FIXTURE_T } from '../lib/helpers.js';

const skip = missing(PERL_TOOL, 'msgfmt', 'msgunfmt');

function po(headerLines: string[]): string {
  const header = headerLines.map((l) => `"${l}\\n"`).join('\n');
  return `msgid ""\nmsgstr ""\n${header}\n"Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Hello"\nmsgstr "Bonjour"\n\nmsgctxt "menu"\nmsgid "File"\nmsgstr "Fichier"\n\nmsgid "one file"\nmsgid_plural "%d files"\nmsgstr[0] "un fichier"\nmsgstr[1] "%d fichiers"\n`;
}

const HEADERS: Record<string, string[]> = {
  both: ['Project-Id-Version: x 1.0', 'POT-Creation-Date: 2020-06-15 08:30+0200', 'PO-Revision-Date: 2021-01-02 03:04+0000'],
  'revision-first': ['PO-Revision-Date: 2019-03-04 05:06-0530', 'POT-Creation-Date: 2018-01-01 00:00+0000'],
  early: ['POT-Creation-Date: 2001-09-09 01:46+0000', 'PO-Revision-Date: 2001-09-09 01:47+0000'],
  template: ['POT-Creation-Date: YEAR-MO-DA HO:MI+ZONE', 'PO-Revision-Date: 2022-02-02 02:02+0100'],
  'no-zone': ['POT-Creation-Date: 2020-06-15 08:30'],
  'short-hour': ['POT-Creation-Date: 2020-06-15 8:30+0200'],
  'spaced-zone': ['POT-Creation-Date: 2020-06-15 08:30 +0200'],
  'with-seconds': ['POT-Creation-Date: 2020-06-15 08:30:59+0200'],
  'feb-30': ['POT-Creation-Date: 2020-02-30 23:59+2400'],
  'far-future': ['POT-Creation-Date: 2099-12-31 23:59-1200'],
  'revision-only': ['PO-Revision-Date: 2016-07-08 09:10+0300'],
  'no-dates': ['Project-Id-Version: nothing to see'],
};

describe.skipIf(skip)('gettext: parity with the Perl tool', () => {
  const dir = tempDir();
  const inputs: string[] = [];
  for (const [name, lines] of Object.entries(HEADERS)) {
    fs.writeFileSync(path.join(dir, `${name}.po`), po(lines));
    for (const [ext, endian] of [['mo', 'little'], ['gmo', 'big']]) {
      sh(`msgfmt --endianness=${endian} -o '${name}-${endian}.${ext}' '${name}.po'`, dir);
      inputs.push(path.join(dir, `${name}-${endian}.${ext}`));
    }
  }
  // msgfmt drops POT-Creation-Date, so build catalogs that keep the header as written.
  for (const [name, lines] of Object.entries(HEADERS)) {
    for (const endian of ['LE', 'BE'] as const) {
      const header = [...lines, 'Content-Type: text/plain; charset=UTF-8', ''].join('\n');
      const f = path.join(dir, `built-${name}-${endian}.mo`);
      fs.writeFileSync(f, buildMo([['', header], ['Hello', 'Bonjour'], ['menu\u0004File', 'Fichier']], endian));
      inputs.push(f);
    }
  }
  // A catalog claiming major revision 2 is skipped by both.
  const rev2 = Buffer.from(fs.readFileSync(path.join(dir, 'both-little.mo')));
  rev2.writeUInt32LE(0x200, 4);
  fs.writeFileSync(path.join(dir, 'rev2.mo'), rev2);
  inputs.push(path.join(dir, 'rev2.mo'));

  it('normalizes header dates byte-identically', async () => {
    expect(await compareWithPerl(inputs, standardArgSets())).toEqual([]);
  });

  it('outputs are valid catalogs with the same messages', async () => {
    const work = tempDir();
    for (const f of inputs.filter((f) => !f.endsWith('rev2.mo'))) {
      const target = path.join(work, path.basename(f));
      fs.copyFileSync(f, target);
      const strip = (s: string) => s.replace(/"(POT-Creation-Date|PO-Revision-Date): [^"]*"/g, '');
      const before = strip(sh(`msgunfmt '${f}'`));
      expect((await runOurs(['-T', String(FIXTURE_T), target])).status).toBe(0);
      expect(strip(sh(`msgunfmt '${target}'`))).toBe(before);
    }
    expect(sh(`msgunfmt '${path.join(work, 'both-little.mo')}'`)).toContain('PO-Revision-Date: 2015-02-05 18:09+0000');
    expect(sh(`msgunfmt '${path.join(work, 'built-both-BE.mo')}'`)).toContain('POT-Creation-Date: 2015-02-05 18:09+0000');
  });
});
