/**
 * Batch mode through bin/: directory trees, symlinks, hard links, exclusions, unwritable files,
 * --check, -j1 against -jN, the summary line and the JSON report. The oracle for the bytes is
 * the Perl tool run file by file on a copy of the same tree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, missing, PERL_TOOL, runBin, sh, tempDir, UPSTREAM, FIXTURE_T, whileUnwritable } from './lib/helpers.js';

/** A tree with formats the Perl tool handles, in nested directories, with links. */
function makeTree(): string {
  const root = path.join(tempDir(), 'tree');
  const files: [string, string][] = [
    ['png/tEXt.png', 'png/tEXt.png.in'],
    ['docs/readme.gz', 'gzip/vimoutliner_vo_readme_txt.gz.in'],
    ['docs/sub/deeper/page.html', 'javadoc/a.html.in'],
    ['lib/jdependency.jar', 'jar/jdependency.jar.in'],
    ['lib/test.zip', 'zip/test.zip.in'],
    ['share/test.cpio', 'cpio/test.cpio.in'],
    ['share/1x1.png', 'png/1x1.png.in'],
  ];
  for (const [to, from] of files) {
    fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
    fs.copyFileSync(path.join(UPSTREAM, from), path.join(root, to));
    fs.chmodSync(path.join(root, to), 0o644);
  }
  fs.writeFileSync(path.join(root, 'plain.txt'), 'not normalized\n');
  fs.linkSync(path.join(root, 'lib/test.zip'), path.join(root, 'share/hardlink.zip'));
  fs.symlinkSync('../png/tEXt.png', path.join(root, 'share/link.png'));
  const outside = path.join(path.dirname(root), 'outside.gz');
  fs.copyFileSync(path.join(UPSTREAM, 'gzip/vimoutliner_vo_readme_txt.gz.in'), outside);
  fs.symlinkSync(outside, path.join(root, 'docs/outside-link.gz'));
  return root;
}

/** sha256 of every regular file, and every symlink's target, in byte order. */
function snapshot(root: string): string {
  return sh(`find . \\( -type f -exec sha256sum {} + \\) -o \\( -type l -printf '%p -> %l\\n' \\) | LC_ALL=C sort`, root).split(path.dirname(root)).join('<base>');
}

describe('trees', () => {
  it.skipIf(missing(PERL_TOOL))('normalizes a tree as the Perl tool does file by file, without following symlinks', () => {
    const ours = makeTree();
    const perl = makeTree();
    const outsideBefore = fs.readFileSync(path.join(path.dirname(ours), 'outside.gz'));
    const r = runBin(['-T', String(FIXTURE_T), ours]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/files scanned, \d+ handled, \d+ changed/);
    // Perl on each regular file (it does not walk directories).
    sh(`find . -type f -print0 | xargs -0 '${PERL_TOOL}' -T ${FIXTURE_T}`, perl);
    expect(snapshot(ours)).toBe(snapshot(perl));
    expect(fs.readFileSync(path.join(path.dirname(ours), 'outside.gz')).equals(outsideBefore)).toBe(true);
    expect(fs.lstatSync(path.join(ours, 'share/link.png')).isSymbolicLink()).toBe(true);
  });

  it('processes a hard-linked inode once, and every name gets the new bytes', () => {
    const root = makeTree();
    const r = runBin(['-T', String(FIXTURE_T), '--json', path.join(path.dirname(root), 'r.json'), root]);
    expect(r.status).toBe(0);
    const a = fs.readFileSync(path.join(root, 'lib/test.zip'));
    expect(a.equals(fs.readFileSync(path.join(root, 'share/hardlink.zip')))).toBe(true);
    expect(a.equals(fs.readFileSync(path.join(UPSTREAM, 'zip/test.zip.out')))).toBe(true);
    const report = JSON.parse(fs.readFileSync(path.join(path.dirname(root), 'r.json'), 'utf8'));
    const link = report.files.find((f: { path: string }) => f.path.endsWith('share/hardlink.zip'));
    expect(link.skipped).toBe('hard-link');
    expect(link.linkOf).toBe(path.join(root, 'lib/test.zip'));
  });

  it('honours --exclude for names and for paths', () => {
    const root = makeTree();
    const before = snapshot(root);
    expect(runBin(['-T', String(FIXTURE_T), '--exclude', '*.png', '--exclude', 'docs/**', '--exclude', 'lib', '--exclude', 'share', root]).status).toBe(0);
    expect(snapshot(root)).toBe(before);
    expect(runBin(['-T', String(FIXTURE_T), '--exclude', 'docs/sub/**', root]).status).toBe(0);
    expect(fs.readFileSync(path.join(root, 'docs/sub/deeper/page.html')).equals(fs.readFileSync(path.join(UPSTREAM, 'javadoc/a.html.in')))).toBe(true);
    expect(fs.readFileSync(path.join(root, 'docs/readme.gz')).equals(fs.readFileSync(path.join(UPSTREAM, 'gzip/vimoutliner_vo_readme_txt.gz.out')))).toBe(true);
  });

  it('skips a file that cannot be written, with a warning', (ctx) => {
    const root = makeTree();
    const target = path.join(root, 'docs/readme.gz');
    const ran = whileUnwritable(target, () => {
      const r = runBin(['-T', String(FIXTURE_T), root]);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(`Ignoring unwritable file: ${target}`);
      expect(fs.readFileSync(target).equals(fs.readFileSync(path.join(UPSTREAM, 'gzip/vimoutliner_vo_readme_txt.gz.in')))).toBe(true);
      expect(fs.readFileSync(path.join(root, 'png/tEXt.png')).equals(fs.readFileSync(path.join(UPSTREAM, 'png/tEXt.png.out')))).toBe(true);
    });
    if (!ran) ctx.skip();
  });
});

describe('--check', () => {
  it('writes nothing, lists what would change, and exits 1; 0 once normalized', () => {
    const root = makeTree();
    const before = snapshot(root);
    const mtimes = sh(`find . -printf '%p %T@\\n' | LC_ALL=C sort`, root);
    const check = runBin(['--check', '-T', String(FIXTURE_T), root]);
    expect(check.status).toBe(1);
    expect(snapshot(root)).toBe(before);
    expect(sh(`find . -printf '%p %T@\\n' | LC_ALL=C sort`, root)).toBe(mtimes);
    expect(fs.readdirSync(root).some((n) => n.includes('snd-tmp'))).toBe(false);
    const listed = check.stdout.trim().split('\n').sort();
    // The files that a real run changes are exactly the ones listed.
    const real = runBin(['-T', String(FIXTURE_T), '--json', path.join(path.dirname(root), 'real.json'), root]);
    expect(real.status).toBe(0);
    const changed = JSON.parse(fs.readFileSync(path.join(path.dirname(root), 'real.json'), 'utf8')).files.filter((f: { changed: boolean }) => f.changed).map((f: { path: string }) => f.path).sort();
    expect(listed).toEqual(changed);
    expect(listed.length).toBeGreaterThan(3);
    const again = runBin(['--check', '-T', String(FIXTURE_T), root]);
    expect(again.status).toBe(0);
    expect(again.stdout).toBe('');
  });

  it('exits 1 when a file fails, and still writes nothing', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'bad.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0]));
    const r = runBin(['--check', '-T', '5', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${path.join(dir, 'bad.gz')}: `);
    expect(r.stderr).toMatch(/1 errors/);
  });
});

describe('workers', () => {
  it('-j1 and -j2 give identical bytes, output and reports on a tree of a few hundred files', () => {
    const runs = [1, 2].map((j) => {
      const root = makeTree();
      for (let i = 0; i < 120; i++) {
        const d = path.join(root, 'many', String(i % 7));
        fs.mkdirSync(d, { recursive: true });
        fs.copyFileSync(path.join(UPSTREAM, ['png/tEXt.png.in', 'gzip/vimoutliner_vo_readme_txt.gz.in', 'zip/test.zip.in'][i % 3]), path.join(d, `f${i}.${['png', 'gz', 'zip'][i % 3]}`));
      }
      const json = path.join(path.dirname(root), 'r.json');
      const r = runBin(['-j', String(j), '-v', '-T', String(FIXTURE_T), '--json', json, root]);
      expect(r.status).toBe(0);
      const report = JSON.parse(fs.readFileSync(json, 'utf8'));
      delete report.summary.seconds;
      const rel = (s: string) => s.split(root).join('<root>');
      return { snap: snapshot(root), stdout: rel(r.stdout), stderr: rel(r.stderr.replace(/ in [\d.]+ s/, '')), report: rel(JSON.stringify(report)) };
    });
    expect(runs[1]).toEqual(runs[0]);
  });
});

describe('JSON report', () => {
  it('has the documented shape', () => {
    const root = makeTree();
    const json = path.join(path.dirname(root), 'r.json');
    fs.writeFileSync(path.join(root, 'bad.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0]));
    runBin(['-T', String(FIXTURE_T), '--json', json, root]);
    const r = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(r).toMatchObject({ tool: 'strip-nondeterminism-node', timestamp: FIXTURE_T, check: false });
    expect(typeof r.version).toBe('string');
    for (const f of r.files) {
      expect(Object.keys(f).sort()).toEqual(['changed', 'error', 'handler', 'linkOf', 'path', 'skipped', 'warnings']);
      expect(typeof f.path).toBe('string');
      expect(typeof f.changed).toBe('boolean');
      expect(f.handler === null || typeof f.handler === 'string').toBe(true);
      expect(f.error === null || typeof f.error === 'string').toBe(true);
      expect(Array.isArray(f.warnings)).toBe(true);
    }
    expect(Object.keys(r.summary).sort()).toEqual(['changed', 'errors', 'handled', 'scanned', 'seconds', 'unchanged', 'warnings']);
    expect(r.summary.scanned).toBe(r.files.length);
    expect(r.summary.errors).toBe(1);
    expect(r.files.find((f: { path: string }) => f.path.endsWith('bad.gz')).error).toMatch(/gzip/);
  });

  it('prints no progress bar when stderr is not a terminal', () => {
    const root = makeTree();
    expect(runBin(['-T', String(FIXTURE_T), root]).stderr).not.toContain('\r');
  });

  it.skipIf(missing('script'))('draws a progress bar on a terminal, and none when CI is set', () => {
    const root = makeTree();
    // script(1) runs the command on a pseudo-terminal and copies what it writes.
    const onTty = (env: string) => sh(`${env} script -qec "node '${BIN}' -T ${FIXTURE_T} '${root}'" /dev/null`);
    expect(onTty('env -u CI')).toMatch(/\r\[#+ *\] \d+\/\d+/);
    expect(onTty('CI=true')).not.toMatch(/\[#+ *\] \d+\/\d+/);
  });
});

describe('the order files are started in', () => {
  it('largest first, equal sizes in walk order; files of unknown size last', async () => {
    const { largestFirst } = await import('../src/app/pool.js');
    const jobs = [
      { path: 'a', fsPath: 'a', size: 10 },
      { path: 'b', fsPath: 'b', size: 5_000_000 },
      { path: 'c', fsPath: 'c' },
      { path: 'd', fsPath: 'd', size: 10 },
      { path: 'e', fsPath: 'e', size: 7_000_000 },
    ];
    expect(Array.from(largestFirst(jobs))).toEqual([4, 1, 0, 3, 2]);
  });
});
