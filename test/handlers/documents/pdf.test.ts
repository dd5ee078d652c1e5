/**
 * The pdf normalizer (handlers/documents/pdf.ts). PDFs made twice, at different times (faketime),
 * by groff (-Tpdf, gropdf), ghostscript (ps2pdf, pdfwrite) and cairo (rsvg-convert): identical
 * after normalizing; `qpdf --check` passes; pdftotext gives the same text as before. qpdf makes the
 * files that must stay as they are: encrypted, and with the metadata in object streams.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missing, runBin, sh, tempDir } from '../../lib/helpers.js';

const T = 1700000000;
const PAGE = '.TH DEMO 1\n.SH NAME\ndemo \\- a test page\n.SH DESCRIPTION\nHello world, this is text.\n';
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><text x="10" y="30">Hi there</text></svg>';

const PRODUCERS: [string, string, (dir: string, when: string) => string][] = [
  ['groff -Tpdf', 'groff', (dir, when) => (sh(`faketime '${when}' groff -man -Tpdf page.1 > groff.pdf`, dir), 'groff.pdf')],
  ['ghostscript ps2pdf', 'ps2pdf', (dir, when) => (sh(`faketime '${when}' groff -man -Tps page.1 > page.ps && faketime '${when}' ps2pdf page.ps gs.pdf`, dir), 'gs.pdf')],
  ['cairo (rsvg-convert)', 'rsvg-convert', (dir, when) => (sh(`faketime '${when}' rsvg-convert -f pdf -o cairo.pdf a.svg`, dir), 'cairo.pdf')],
];

function workDir(): string {
  const dir = tempDir('snd-pdf-');
  fs.writeFileSync(path.join(dir, 'page.1'), PAGE);
  fs.writeFileSync(path.join(dir, 'a.svg'), SVG);
  return dir;
}

const text = (f: string) => spawnSync('pdftotext', [f, '-'], { encoding: 'utf8' }).stdout;

for (const [label, tool, make] of PRODUCERS) {
  describe.skipIf(missing(tool, 'faketime', 'qpdf', 'pdftotext'))(`PDF from ${label}`, () => {
    it('made at two times: identical after normalizing, qpdf --check clean, same text', () => {
      const dirs = [workDir(), workDir()];
      const files = [make(dirs[0], '2024-01-02 03:04:05'), make(dirs[1], '2025-06-07 08:09:10')].map((f, i) => path.join(dirs[i], f));
      const before = files.map((f) => fs.readFileSync(f));
      expect(before[0].equals(before[1])).toBe(false);
      const texts = files.map(text);
      const r = runBin(['-T', String(T), ...files]);
      expect(r.status, r.stderr).toBe(0);
      const after = files.map((f) => fs.readFileSync(f));
      expect(after[0].equals(after[1])).toBe(true);
      expect(after[0].length).toBe(before[0].length); // edited in place: the xref stays valid
      for (const [i, f] of files.entries()) {
        const check = spawnSync('qpdf', ['--check', f], { encoding: 'utf8' });
        expect(check.status, check.stdout + check.stderr).toBe(0);
        expect(text(f)).toBe(texts[i]);
      }
      // The dates say T (qpdf --show-object prints the Info dictionary it reads).
      const trailer = sh(`qpdf --show-object=trailer '${files[0]}'`);
      const infoRef = /\/Info (\d+) (\d+) R/.exec(trailer)!;
      const info = sh(`qpdf --show-object=${infoRef[1]},${infoRef[2]} '${files[0]}'`);
      expect(info).toMatch(/D:20231114221320/);
      expect(info).not.toMatch(/D:2024|D:2025/);
    });
  });
}

describe.skipIf(missing('groff', 'qpdf'))('PDFs left unchanged', () => {
  it('encrypted, or with the Info dictionary in object streams: a warning, same bytes', () => {
    const dir = workDir();
    sh('groff -man -Tpdf page.1 > plain.pdf', dir);
    sh('qpdf --encrypt user owner 256 -- plain.pdf encrypted.pdf', dir);
    sh('qpdf --object-streams=generate plain.pdf objstm.pdf', dir);
    for (const name of ['encrypted.pdf', 'objstm.pdf']) {
      const f = path.join(dir, name);
      const before = fs.readFileSync(f);
      const r = runBin(['-T', String(T), f]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/left unchanged/);
      expect(fs.readFileSync(f).equals(before), name).toBe(true);
    }
  });

  it('without T the dates stay; the /ID still comes from the content', () => {
    const dirs = [workDir(), workDir()];
    for (const d of dirs) sh(`faketime '2024-01-02 03:04:05' groff -man -Tps page.1 > page.ps && ps2pdf page.ps gs.pdf`, d);
    const files = dirs.map((d) => path.join(d, 'gs.pdf'));
    expect(runBin(files).status).toBe(0);
    const ids = files.map((f) => /\/ID \[<([0-9A-F]+)>/.exec(fs.readFileSync(f, 'latin1'))?.[1]);
    expect(ids[0]).toBeDefined();
    expect(fs.readFileSync(files[0], 'latin1')).toMatch(/CreationDate\(D:2/);
    expect(spawnSync('qpdf', ['--check', files[0]]).status).toBe(0);
  });
});
