/**
 * Real files from Debian packages (scripts/debian-corpus.txt, unpacked by
 * scripts/fetch-debian-corpus.sh into var/debian-corpus): png icons, .mo catalogs, .gz docs,
 * .a static libraries and javadoc pages, normalized by the Perl tool and by this port.
 * A deterministic sample of each kind keeps the run short; every file must match.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFiles } from '../../src/app/walk.js';
import { compareWithPerl, missing, PERL_TOOL, ROOT, FIXTURE_T, runOurs, tempDir } from '../lib/helpers.js';

const CORPUS = process.env.SND_DEBIAN_CORPUS ?? path.join(ROOT, 'var', 'debian-corpus', 'root');
const PER_KIND = 400;

/** Every n-th file of a sorted list, so the sample spreads over all packages. */
function sample(files: string[], max: number): string[] {
  const sorted = [...files].sort();
  if (sorted.length <= max) return sorted;
  const step = sorted.length / max;
  return Array.from({ length: max }, (_, i) => sorted[Math.floor(i * step)]);
}

let skip = missing(PERL_TOOL);
if (!skip && !fs.existsSync(CORPUS)) {
  skip = `skipped: no Debian corpus at ${CORPUS} (run scripts/fetch-debian-corpus.sh; .ci/run does)`;
  console.warn(skip);
}

describe.skipIf(skip)('real files from Debian packages', () => {
  const files = skip ? [] : listFiles(CORPUS);
  const kinds: [string, RegExp][] = [
    ['png icons', /\.png$/],
    ['.mo catalogs', /\.g?mo$/],
    ['.gz documents', /\.gz$/],
    ['.a static libraries', /\.a$/],
    ['javadoc pages', /\.html$/],
    ['jars', /\.jar$/],
    ['wheels and zips', /\.(whl|zip)$/],
  ];
  for (const [kind, re] of kinds) {
    it(`${kind} come out byte-identical to the Perl tool's`, async () => {
      const picked = sample(files.filter((f) => re.test(f)), PER_KIND);
      expect(picked.length).toBeGreaterThan(2);
      const argSets = [['-T', String(FIXTURE_T), '--normalizers', '+all'], ['--normalizers', '+all']];
      expect(await compareWithPerl(picked, argSets)).toEqual([]);
    });
  }
});

describe.skipIf(fs.existsSync(CORPUS) ? undefined : 'skipped: no Debian corpus')('real documents no generator rule claims', () => {
  it('the html and xml normalizers leave every HTML, XML and SVG file of the corpus byte-identical', async () => {
    // Hand-written pages, icons with authored dates, build files: a false positive here would
    // corrupt shipped documentation or artwork.
    const files = listFiles(CORPUS).filter((f) => /\.(?:html?|xml|svg)$/i.test(f));
    expect(files.length).toBeGreaterThan(1000);
    const dir = tempDir('snd-corpus-docs-');
    const copies = files.map((f, i) => {
      const c = path.join(dir, String(i), path.basename(f));
      fs.mkdirSync(path.dirname(c), { recursive: true });
      fs.copyFileSync(f, c);
      return c;
    });
    const r = await runOurs(['-T', String(FIXTURE_T), '--normalizers', '-all,+html,+xml', dir]);
    expect(r.status, r.stderr).toBe(0);
    const changed = copies.filter((c, i) => !fs.readFileSync(c).equals(fs.readFileSync(files[i])));
    expect(changed).toEqual([]);
  });
});

// The JDK's own jmods come from Debian's openjdk-17-jdk-headless package.
const JMODS = ['/usr/lib/jvm/java-17-openjdk-amd64/jmods', '/usr/lib/jvm/default-java/jmods'].find((d) => fs.existsSync(d));
describe.skipIf(missing(PERL_TOOL) ?? (JMODS ? undefined : 'skipped: no JDK jmods (openjdk-17-jdk-headless)'))('jmods from the Debian JDK', () => {
  it('come out byte-identical to the Perl tool\'s', async () => {
    const jmods = sample(listFiles(JMODS!).filter((f) => f.endsWith('.jmod')), 16);
    expect(jmods.length).toBeGreaterThan(5);
    expect(await compareWithPerl(jmods, [['-T', String(FIXTURE_T)]])).toEqual([]);
  });
});
