/**
 * Build paths and host names in HTML (issue 7). Oracles: the pages' expected text is written out
 * here by hand; for javadoc pages, the Perl tool's own output with the path then replaced.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_T, UPSTREAM, PERL_TOOL, have, missing, runBin, runPerl, sh, tempDir } from '../../lib/helpers.js';

/** Where a page could leak: a path and a host name, plus look-alikes that must stay. */
const page = (where: string, host: string) =>
  `<!DOCTYPE html>\n<html><body>\n<p>Built in <code>${where}/src/main.c</code> on ${host}.</p>\n` +
  `<a href="file://${where}/doc/index.html">local</a> <span>${host}.example.org</span> <span>not-${host}</span> <span>${where}extra</span>\n</body></html>\n`;

describe('html --build-path / --hostname', () => {
  it('replaces whole paths and whole host names, at any length, and nothing else', () => {
    const dir = tempDir('snd-html-');
    const f = path.join(dir, 'index.html');
    const where = path.join(dir, 'b-8xQ');
    fs.writeFileSync(f, page(where, 'worker7'));
    const r = runBin(['--build-path', `${where}=/build/pkg`, '--hostname', 'worker7=builder', f]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(f, 'utf8')).toBe(
      `<!DOCTYPE html>\n<html><body>\n<p>Built in <code>/build/pkg/src/main.c</code> on builder.</p>\n` +
        `<a href="file:///build/pkg/doc/index.html">local</a> <span>builder.example.org</span> <span>not-worker7</span> <span>${where}extra</span>\n</body></html>\n`,
    );
  });

  it('two builds in different directories on different hosts give identical pages', () => {
    const outs = ['hostA1', 'hostB22'].map((host) => {
      const dir = tempDir('snd-html-');
      const f = path.join(dir, 'page.htm');
      fs.writeFileSync(f, `<html><p>${path.join(dir, 'tree')}/src/main.c, on ${host} (${host}.example.org)</p></html>\n`);
      expect(runBin(['--build-path', path.join(dir, 'tree'), '--hostname', host, f]).status).toBe(0);
      return fs.readFileSync(f);
    });
    expect(outs[0].equals(outs[1])).toBe(true);
    expect(outs[0].toString()).toBe('<html><p>/build/src/main.c, on build (build.example.org)</p></html>\n');
  });

  it('leaves pages without the path or host, other files, and every page without the options, byte-identical', () => {
    const dir = tempDir('snd-html-');
    const files = {
      'other.html': page('/srv/elsewhere', 'otherhost'),
      'notes.txt': page(path.join(dir, 'tree'), 'hostA1'),
      'fake.html': 'plain text mentioning hostA1\n',
    };
    for (const [n, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), t);
    const inTree = path.join(dir, 'in.html');
    fs.writeFileSync(inTree, page(path.join(dir, 'tree'), 'hostA1'));
    expect(runBin([dir]).status).toBe(0);
    expect(fs.readFileSync(inTree, 'utf8')).toBe(page(path.join(dir, 'tree'), 'hostA1'));
    expect(runBin(['--build-path', path.join(dir, 'tree'), '--hostname', 'hostA1', dir]).status).toBe(0);
    for (const [n, t] of Object.entries(files)) expect(fs.readFileSync(path.join(dir, n), 'utf8'), n).toBe(t);
    expect(fs.readFileSync(inTree, 'utf8')).toContain('<code>/build/src/main.c</code> on build.');
  });

  it('rejects bad host names and replacements', () => {
    for (const bad of ['-x', 'a b', 'x=', 'x=y/z']) {
      const r = runBin(['--hostname', bad, '/dev/null']);
      expect(r.status, bad).toBe(255);
      expect(r.stderr).toMatch(/host name/);
    }
  });

  it.skipIf(!have(PERL_TOOL))('javadoc pages: the Perl tool\'s changes, then the path replaced', () => {
    const dir = tempDir('snd-html-');
    const where = path.join(dir, 'checkout');
    const original = fs.readFileSync(path.join(UPSTREAM, 'javadoc', 'a.html.in'), 'latin1') + `<!-- source: ${where}/A.java -->\n`;
    const ours = path.join(dir, 'a.html');
    const perl = path.join(dir, 'perl', 'a.html');
    fs.mkdirSync(path.dirname(perl));
    fs.writeFileSync(ours, original, 'latin1');
    fs.writeFileSync(perl, original, 'latin1');
    expect(runPerl(['-T', String(FIXTURE_T), perl]).status).toBe(0);
    expect(runBin(['-T', String(FIXTURE_T), '--build-path', `${where}=/build`, ours]).status).toBe(0);
    const expected = fs.readFileSync(perl, 'latin1').split(where).join('/build');
    expect(fs.readFileSync(ours, 'latin1')).toBe(expected);
    expect(expected).toContain('<!-- source: /build/A.java -->');
  });
});

describe.skipIf(missing('zip', 'unzip'))('html members of zip archives', () => {
  it('get the replacement too, only when asked', () => {
    const dir = tempDir('snd-html-zip-');
    const where = path.join(dir, 'w');
    fs.mkdirSync(path.join(dir, 'docs'));
    fs.writeFileSync(path.join(dir, 'docs', 'index.html'), `<p>${where}/x on hostQ</p>\n`);
    fs.writeFileSync(path.join(dir, 'docs', 'notes.txt'), `${where}/x on hostQ\n`);
    sh(`zip -q -r a.zip docs && cp a.zip b.zip`, dir);
    expect(runBin(['-T', String(FIXTURE_T), path.join(dir, 'a.zip')]).status).toBe(0);
    expect(sh(`unzip -p a.zip docs/index.html`, dir)).toBe(`<p>${where}/x on hostQ</p>\n`);
    expect(runBin(['-T', String(FIXTURE_T), '--build-path', where, '--hostname', 'hostQ', path.join(dir, 'b.zip')]).status).toBe(0);
    expect(sh(`unzip -p b.zip docs/index.html`, dir)).toBe('<p>/build/x on build</p>\n');
    expect(sh(`unzip -p b.zip docs/notes.txt`, dir)).toBe(`${where}/x on hostQ\n`);
    expect(sh(`unzip -t b.zip`, dir)).toContain('No errors detected');
  });
});
