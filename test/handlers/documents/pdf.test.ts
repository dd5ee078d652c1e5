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
      // Edited in place, so the xref stays valid; only a literal /ID (ghostscript writes one by
      // chance) in the last trailer becomes hex and may change length.
      for (const [i, b] of before.entries()) {
        if (/\/ID \[</.test(b.toString('latin1'))) expect(after[i].length).toBe(b.length);
      }
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

/** `pdf` with its last /ID array replaced by `id` (the trailer follows the xref table, so no offset moves). */
function withTrailerId(pdf: Buffer, id: string): Buffer {
  const text = pdf.toString('latin1');
  const at = text.lastIndexOf('/ID [');
  return Buffer.from(text.slice(0, at) + id + text.slice(text.indexOf(']', at) + 1), 'latin1');
}

describe.skipIf(missing('groff', 'ps2pdf', 'qpdf'))('an /ID written as literal strings', () => {
  it('in the last trailer: the same output as for a hex /ID, qpdf --check clean', () => {
    const dir = workDir();
    sh('groff -man -Tps page.1 > page.ps && ps2pdf page.ps hex.pdf', dir);
    const hex = fs.readFileSync(path.join(dir, 'hex.pdf'));
    // What ghostscript writes when its random bytes make the literal form shorter.
    const literal = withTrailerId(hex, String.raw`/ID [(@\203\0132/\333\t#BlR~LI5y)(@\203\0132/\333\t#BlR~LI5y)]`);
    fs.writeFileSync(path.join(dir, 'literal.pdf'), literal);
    const files = ['hex.pdf', 'literal.pdf'].map((f) => path.join(dir, f));
    expect(spawnSync('qpdf', ['--check', files[1]]).status).toBe(0);
    expect(runBin(['-T', String(T), ...files]).status).toBe(0);
    const [a, b] = files.map((f) => fs.readFileSync(f));
    expect(a.equals(b)).toBe(true);
    for (const f of files) expect(spawnSync('qpdf', ['--check', f]).status).toBe(0);
  });

  it('in a linearized file: refilled at the same length, linearization still valid', () => {
    const dir = workDir();
    sh('groff -man -Tpdf page.1 > plain.pdf && qpdf --linearize plain.pdf lin.pdf', dir);
    const lin = fs.readFileSync(path.join(dir, 'lin.pdf'), 'latin1');
    // The first-page trailer's /ID, near the start: every byte after it is addressed by an offset.
    const first = /\/ID \[<([0-9a-f]{32})><([0-9a-f]{32})>\]/.exec(lin)!;
    const literal = `/ID [(${'a\\)b(c)d'.padEnd(32, 'x')})(${'z'.repeat(32)})]`;
    expect(literal.length).toBe(first[0].length);
    const f = path.join(dir, 'lin.pdf');
    fs.writeFileSync(f, lin.slice(0, first.index) + literal + lin.slice(first.index + first[0].length), 'latin1');
    expect(spawnSync('qpdf', ['--check', f]).status).toBe(0);
    const before = fs.statSync(f).size;
    expect(runBin(['-T', String(T), f]).status).toBe(0);
    expect(fs.statSync(f).size).toBe(before);
    expect(fs.readFileSync(f, 'latin1')).not.toContain('z'.repeat(32)); // refilled from the digest
    const check = spawnSync('qpdf', ['--check-linearization', f], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });
});

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
