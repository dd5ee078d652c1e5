/**
 * XML reports and metadata (issue 8). Real producers where Debian has them: pytest's JUnit XML
 * (python3-pytest), pandoc's EPUB (OPF) and ODT (meta.xml), made at two times (libfaketime) on two
 * host names; unzip reads the archives back. Inkscape is not installed: its SVG metadata layout is
 * written out here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_T, missing, runBin, sh, tempDir } from '../../lib/helpers.js';

const TIMES = ['2021-03-04 05:06:07', '2024-11-30 22:33:44'];
const HOSTS = ['ci-runner-7', 'laptop-x'];

function made(i: number, command: string, setup?: (dir: string) => void): string {
  const dir = tempDir(`snd-xml-${i}-`);
  setup?.(dir);
  sh(`unshare ${process.getuid?.() === 0 ? '' : '-r '}-u sh -c "$GEN"`, dir, { GEN: `hostname ${HOSTS[i]} && env -u SOURCE_DATE_EPOCH faketime '${TIMES[i]}' sh -c '${command.replace(/'/g, `'\\''`)}'` });
  return dir;
}

const same = (a: string, b: string) => fs.readFileSync(a).equals(fs.readFileSync(b));
const T = String(FIXTURE_T); // 2015-02-05 18:09:31 UTC

describe.skipIf(missing('faketime', 'unshare', 'pytest-3'))('JUnit XML (pytest)', () => {
  const run = (i: number) =>
    made(i, 'pytest-3 -q -p no:cacheprovider --junitxml=TEST-demo.xml test_demo.py >/dev/null', (d) => fs.writeFileSync(path.join(d, 'test_demo.py'), 'import time\ndef test_a():\n    time.sleep(0.01)\ndef test_b():\n    assert 1\n'));

  it('timestamp and hostname become T and build; test times only with --junit-zero-time', () => {
    const dirs = [run(0), run(1)];
    const files = dirs.map((d) => path.join(d, 'TEST-demo.xml'));
    expect(fs.readFileSync(files[0], 'utf8')).toContain(`hostname="${HOSTS[0]}"`);
    for (const f of files) expect(runBin(['-T', T, f]).status).toBe(0);
    const text = fs.readFileSync(files[0], 'utf8');
    expect(text).toMatch(/timestamp="2015-02-05T18:09:31\.000000" hostname="build"/);
    expect(text).toMatch(/<testcase [^>]*time="0\.\d+"/); // durations kept without the option
    for (const f of files) expect(runBin(['-T', T, '--junit-zero-time', f]).status).toBe(0);
    expect(same(files[0], files[1])).toBe(true);
    expect(fs.readFileSync(files[0], 'utf8')).toMatch(/<testcase classname="test_demo" name="test_a" time="0" \/>/);
    // Still well-formed and read by python's own parser.
    expect(sh(`python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(r[0].get("timestamp"), r[0].get("tests"))' '${files[0]}'`)).toBe('2015-02-05T18:09:31.000000 2\n');
  });
});

describe.skipIf(missing('faketime', 'unshare', 'pandoc', 'unzip'))('pandoc EPUB and ODT', () => {
  // The ODT case reads pandoc's raw creation date under a running faketime clock: a cold first
  // start (a fresh CI machine) can cost pandoc a second. Start it once beforehand (and the check
  // allows the seconds to move).
  beforeAll(() => void sh('pandoc --version >/dev/null && pandoc -f markdown -t odt -o /dev/null /dev/null 2>/dev/null'));
  const setup = (d: string) => fs.writeFileSync(path.join(d, 'book.md'), '---\ntitle: Demo\ndate: 2020-01-01\nidentifier: urn:demo\n---\n\nHello.\n');

  it('an EPUB\'s dcterms:modified becomes T; two builds are identical', () => {
    const dirs = [0, 1].map((i) => made(i, 'pandoc book.md -o book.epub', setup));
    const books = dirs.map((d) => path.join(d, 'book.epub'));
    expect(same(books[0], books[1])).toBe(false);
    for (const b of books) expect(runBin(['-T', T, b]).status).toBe(0);
    expect(same(books[0], books[1])).toBe(true);
    const opf = sh(`unzip -p '${books[0]}' EPUB/content.opf`);
    expect(opf).toContain('<meta property="dcterms:modified">2015-02-05T18:09:31Z</meta>');
    expect(opf).toContain('<dc:date id="epub-date">2020-01-01'); // the publication date is content
    expect(sh(`unzip -t '${books[0]}'`)).toContain('No errors detected');
    expect(sh(`unzip -Z1 '${books[0]}' | head -1`)).toBe('mimetype\n');
    // A loose package document too.
    const loose = path.join(dirs[0], 'content.opf');
    sh(`unzip -p '${path.join(dirs[1], 'book.epub')}' EPUB/content.opf > '${loose}'`);
    fs.writeFileSync(loose, fs.readFileSync(loose, 'utf8').replace(/2015-02-05T18:09:31Z/, '2030-07-08T09:10:11Z'));
    expect(runBin(['-T', T, loose]).status).toBe(0);
    expect(fs.readFileSync(loose, 'utf8')).toBe(opf);
  });

  it('an ODT\'s meta.xml dates become T; two builds are identical', () => {
    const dirs = [0, 1].map((i) => made(i, 'pandoc book.md -o book.odt', setup));
    const docs = dirs.map((d) => path.join(d, 'book.odt'));
    // The raw date is the build's (faketime's clock runs: pandoc's start-up may cost it seconds).
    expect(sh(`unzip -p '${docs[0]}' meta.xml`)).toMatch(/<meta:creation-date>2021-03-04T05:06:\d\dZ<\/meta:creation-date>/);
    for (const d of docs) expect(runBin(['-T', T, d]).status).toBe(0);
    expect(same(docs[0], docs[1])).toBe(true);
    const meta = sh(`unzip -p '${docs[0]}' meta.xml`);
    expect(meta).toContain('<meta:creation-date>2015-02-05T18:09:31Z</meta:creation-date>');
    expect(meta).toContain('<dc:date>2015-02-05T18:09:31Z</dc:date>');
    expect(sh(`unzip -t '${docs[0]}'`)).toContain('No errors detected');
    expect(sh(`unzip -Z1 '${docs[0]}' | head -1`)).toBe('mimetype\n');
  });
});

describe('SVG metadata and unrelated XML', () => {
  const svg = (date: string) =>
    `<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<!-- Created with Inkscape (http://www.inkscape.org/) -->\n<svg width="10mm" height="10mm" version="1.1" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" xmlns="http://www.w3.org/2000/svg" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cc="http://creativecommons.org/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/" inkscape:version="1.2.2 (b0a8486541, 2022-12-01)">\n  <metadata id="metadata1">\n    <rdf:RDF>\n      <cc:Work rdf:about="">\n        <dc:date>${date}</dc:date>\n      </cc:Work>\n    </rdf:RDF>\n  </metadata>\n  <rect width="5" height="5"/>\n</svg>\n`;

  it('an SVG\'s time-stamped dc:date becomes T in its format; an authored date and other XML stay byte-identical', () => {
    const dir = tempDir('snd-xml-svg-');
    fs.writeFileSync(path.join(dir, 'a.svg'), svg('2023-10-01T08:09:10'));
    fs.writeFileSync(path.join(dir, 'b.svg'), svg('2024-02-29T23:59:59.123456'));
    const others: Record<string, string> = {
      'pom.xml': '<?xml version="1.0"?>\n<project><modelVersion>4.0.0</modelVersion><!-- 2024-01-01 --><timestamp>2024-01-01T00:00:00Z</timestamp></project>\n',
      'plain.svg': '<svg xmlns="http://www.w3.org/2000/svg"><desc>2024-01-01</desc></svg>\n',
      'authored.svg': svg('2005-01-31'), // an icon's own date (Tango's icons carry these)
      'broken.xml': '<testsuite timestamp="2024-01-01T00:00:00"><testcase></testsuite>\n',
    };
    for (const [n, t] of Object.entries(others)) fs.writeFileSync(path.join(dir, n), t);
    expect(runBin(['-T', T, dir]).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'a.svg'), 'utf8')).toBe(svg('2015-02-05T18:09:31'));
    expect(fs.readFileSync(path.join(dir, 'b.svg'), 'utf8')).toBe(svg('2015-02-05T18:09:31.000000'));
    for (const [n, t] of Object.entries(others)) expect(fs.readFileSync(path.join(dir, n), 'utf8'), n).toBe(t);
  });
});
