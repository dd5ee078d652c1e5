/**
 * Generated documentation (issue 8): each generator's real output, made twice at different
 * times (libfaketime), on different host names (a UTS namespace) and in different directories,
 * normalizes to identical bytes. Oracles: the generators themselves (doxygen, Sphinx, texinfo's
 * makeinfo, pandoc, JSDoc from npm); the expected dates are written out here by hand.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_T, ROOT, have, missing, runBin, sh, tempDir } from '../../lib/helpers.js';

const TIMES = ['2021-03-04 05:06:07', '2024-11-30 22:33:44'];
const HOSTS = ['docs-host-a', 'docs-host-bb'];

/** Run `command` in a fresh directory at a fake time, on a fake host; returns the directory. */
function generate(i: number, setup: (dir: string) => void, command: string): string {
  const dir = tempDir(`snd-gen-${i}-`);
  setup(dir);
  const inner = `hostname ${HOSTS[i]} && cd '${dir}' && ${command}`;
  // SOURCE_DATE_EPOCH would make the generators deterministic by themselves: it is removed.
  sh(`unshare ${process.getuid?.() === 0 ? '' : '-r '}-u sh -c "$GEN"`, dir, { GEN: `env -u SOURCE_DATE_EPOCH faketime '${TIMES[i]}' sh -c '${inner.replace(/'/g, `'\\''`)}'`, TZ: i ? 'Asia/Tokyo' : 'America/New_York' });
  return dir;
}

/** Normalize both trees; every file named must then be identical in both. */
function expectSame(dirs: string[], files: string[], extra: string[] = []): void {
  for (const [i, d] of dirs.entries()) {
    const r = runBin(['-T', String(FIXTURE_T), '--build-path', d, '--hostname', HOSTS[i], ...extra, d]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('not known here');
  }
  for (const f of files) expect(fs.readFileSync(path.join(dirs[0], f)).equals(fs.readFileSync(path.join(dirs[1], f))), f).toBe(true);
}

const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
const canFake = missing('faketime', 'unshare');

describe.skipIf(canFake ?? missing('doxygen'))('doxygen', () => {
  it('"Generated on DATE for PROJECT by doxygen" becomes T; two runs agree', () => {
    const dirs = [0, 1].map((i) =>
      generate(
        i,
        (d) => fs.writeFileSync(path.join(d, 'x.h'), '/** \\file x.h\n * A header. */\n/** Adds. */\nint add(int a, int b);\n'),
        `doxygen -g Doxyfile >/dev/null && sed -i "s/^PROJECT_NAME .*/PROJECT_NAME = Demo/; s/^GENERATE_LATEX .*/GENERATE_LATEX = NO/; s/^HTML_TIMESTAMP .*/HTML_TIMESTAMP = YES/" Doxyfile && doxygen Doxyfile >/dev/null 2>&1`,
      ),
    );
    expect(read(dirs[0], 'html/index.html')).toContain('Generated on Thu Mar 4 2021 05:06');
    expect(read(dirs[0], 'html/index.html')).not.toBe(read(dirs[1], 'html/index.html'));
    const pages = fs.readdirSync(path.join(dirs[0], 'html')).filter((f) => f.endsWith('.html')).map((f) => `html/${f}`);
    expectSame(dirs, pages);
    expect(read(dirs[0], 'html/index.html')).toContain('Generated on Thu Feb 5 2015 18:09:31 for Demo by');
  });
});

describe.skipIf(canFake ?? missing('sphinx-build'))('Sphinx', () => {
  it('"Last updated on DATE." becomes T in the same format (zero-padded day); without T it goes', () => {
    const setup = (d: string) => {
      fs.writeFileSync(path.join(d, 'conf.py'), 'project = "Demo"\nhtml_theme = "classic"\nhtml_last_updated_fmt = ""\n');
      fs.writeFileSync(path.join(d, 'index.rst'), 'Demo\n====\n\nHello.\n');
    };
    const dirs = [0, 1].map((i) => generate(i, setup, 'sphinx-build -q -b html . _build >/dev/null 2>&1'));
    expect(read(dirs[0], '_build/index.html')).toContain('Last updated on Mar 04, 2021.');
    expectSame(dirs, ['_build/index.html', '_build/genindex.html', '_build/search.html']);
    expect(read(dirs[0], '_build/index.html')).toContain('Last updated on Feb 05, 2015.');
    const bare = [0, 1].map((i) => generate(i, setup, 'sphinx-build -q -b html . _build >/dev/null 2>&1'));
    for (const d of bare) expect(runBin([path.join(d, '_build', 'index.html')]).status).toBe(0);
    expect(read(bare[0], '_build/index.html')).not.toContain('Last updated');
    expect(read(bare[0], '_build/index.html')).toBe(read(bare[1], '_build/index.html'));
  });
});

describe.skipIf(canFake ?? missing('makeinfo'))('texinfo', () => {
  it('makeinfo --html with DATE_IN_HEADER and PROGRAM_NAME_IN_FOOTER: both dates become T', () => {
    const dirs = [0, 1].map((i) =>
      generate(
        i,
        (d) => fs.writeFileSync(path.join(d, 'demo.texi'), '\\input texinfo\n@setfilename demo.info\n@settitle Demo\n@node Top\n@top Demo\nHello.\n@bye\n'),
        'makeinfo --html --no-split -c DATE_IN_HEADER=1 -c PROGRAM_NAME_IN_FOOTER=1 -o demo.html demo.texi',
      ),
    );
    expect(read(dirs[0], 'demo.html')).toContain('<meta name="date" content="March 4, 2021">');
    expectSame(dirs, ['demo.html']);
    const page = read(dirs[0], 'demo.html');
    expect(page).toContain('<meta name="date" content="February 5, 2015">');
    expect(page).toContain('This document was generated on <em>February 5, 2015</em> using');
  });
});

describe.skipIf(canFake ?? missing('pandoc'))('pandoc', () => {
  it('dcterms.date and the title block date become T', () => {
    const dirs = [0, 1].map((i) =>
      generate(i, (d) => fs.writeFileSync(path.join(d, 'p.md'), '---\ntitle: Demo\n---\n\nHello.\n'), `pandoc -s -M date="$(date +'%B %-d, %Y')" p.md -o p.html`),
    );
    expect(read(dirs[0], 'p.html')).toContain('<meta name="dcterms.date" content="2021-03-04" />');
    expectSame(dirs, ['p.html']);
    expect(read(dirs[0], 'p.html')).toContain('<meta name="dcterms.date" content="2015-02-05" />');
    expect(read(dirs[0], 'p.html')).toContain('<p class="date">February 5, 2015</p>');
  });
});

const JSDOC = path.join(ROOT, 'node_modules', '.bin', 'jsdoc');
describe.skipIf(canFake ?? (have(JSDOC) ? undefined : missing(JSDOC)))('JSDoc', () => {
  it('"Documentation generated by JSDoc ... on DATE" (local time and zone) becomes T in UTC', () => {
    const dirs = [0, 1].map((i) =>
      generate(i, (d) => fs.writeFileSync(path.join(d, 'a.js'), '/**\n * Adds.\n * @param {number} a\n * @returns {number}\n */\nfunction add(a) { return a; }\n'), `'${JSDOC}' a.js -d out`),
    );
    expect(read(dirs[0], 'out/index.html')).toMatch(/on Thu Mar 04 2021 \d\d:\d\d:\d\d GMT-0500 \(Eastern Standard Time\)/);
    expectSame(dirs, ['out/index.html', 'out/global.html', 'out/a.js.html']);
    expect(read(dirs[0], 'out/index.html')).toContain('</a> on Thu Feb 05 2015 18:09:31 GMT+0000 (Coordinated Universal Time)');
  });
});

describe('epydoc (not packaged in Debian 12: pages in its exact footer layout)', () => {
  const page = (date: string) =>
    `<?xml version="1.0" encoding="ascii"?>\n<html><body>\n<table border="0" cellpadding="0" cellspacing="0" width="100%%">\n  <tr>\n    <td align="left" class="footer">\n    Generated by Epydoc 3.0.1 on ${date}\n    </td>\n  </tr>\n</table>\n</body></html>\n`;
  it('the asctime date becomes T (blank-padded day); without T it goes', () => {
    const dir = tempDir('snd-gen-epydoc-');
    for (const [n, d] of [['a.html', 'Mon Apr 13 18:16:27 2015'], ['b.html', 'Sat Jan  3 01:02:03 2009'], ['c.html', 'Mon Apr 13 18:16:27 2015']]) fs.writeFileSync(path.join(dir, n), page(d));
    expect(runBin(['-T', '1420245723', path.join(dir, 'a.html'), path.join(dir, 'b.html')]).status).toBe(0); // 2015-01-03 00:42:03
    expect(read(dir, 'a.html')).toBe(page('Sat Jan  3 00:42:03 2015'));
    expect(read(dir, 'b.html')).toBe(page('Sat Jan  3 00:42:03 2015'));
    expect(runBin([path.join(dir, 'c.html')]).status).toBe(0);
    expect(read(dir, 'c.html')).toBe(page('').replace('Epydoc 3.0.1 on \n', 'Epydoc 3.0.1\n'));
  });
});

describe('texi2html (not packaged in Debian 12: a page in its exact layout)', () => {
  const page = (date: string, on = `on <em>${date}</em> `) =>
    `<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html401/loose.dtd">\n<html>\n<!-- Created ${date ? `on ${date} ` : ''}by texi2html 1.82\ntexi2html was written by: Lionel Cons -->\n<head>\n<meta name="Generator" content="texi2html 1.82">\n</head>\n<body>\n<p>\n <font size="-1">\n  This document was generated by <em>Autobuild</em> ${on}using <a href="http://www.nongnu.org/texi2html/"><em>texi2html 1.82</em></a>.\n </font>\n</p>\n</body>\n</html>\n`;
  it('"Created on DATE by texi2html" and the footer date become T; without T they go', () => {
    const dir = tempDir('snd-gen-texi2html-');
    fs.writeFileSync(path.join(dir, 'a.html'), page('August 7, 2009'));
    fs.writeFileSync(path.join(dir, 'b.html'), page('October 1, 2015'));
    expect(runBin(['-T', String(FIXTURE_T), path.join(dir, 'a.html'), path.join(dir, 'b.html')]).status).toBe(0);
    expect(read(dir, 'a.html')).toBe(page('February 5, 2015'));
    expect(read(dir, 'b.html')).toBe(page('February 5, 2015'));
    fs.writeFileSync(path.join(dir, 'c.html'), page('August 7, 2009'));
    expect(runBin([path.join(dir, 'c.html')]).status).toBe(0);
    expect(read(dir, 'c.html')).toBe(page('', ''));
  });
});

describe('unrelated pages', () => {
  it('a date in a page no generator signature claims is left alone', () => {
    const dir = tempDir('snd-gen-plain-');
    const text = '<html><body><p>Last updated on Nov 22, 2026.</p><p>Generated on Sun Nov 22 2026 04:41:16 for Demo by hand</p></body></html>\n';
    fs.writeFileSync(path.join(dir, 'p.html'), text);
    expect(runBin(['-T', String(FIXTURE_T), path.join(dir, 'p.html')]).status).toBe(0);
    expect(read(dir, 'p.html')).toBe(text);
  });
});
