/**
 * bin/dh_strip_nondeterminism against Perl's dh_strip_nondeterminism (debhelper) on sample
 * source trees: package selection (-p, -N, -a, -i, DH_OPTIONS), -X exclusions, symlinks, hard
 * links, binNMU changelogs and DEB_BUILD_OPTIONS parallel=N. Both must leave identical trees.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missing, ROOT, sh, tempDir, UPSTREAM } from './lib/helpers.js';
import { nonBinnmuEpoch } from '../src/app/dh.js';

const PERL_DH = '/usr/bin/dh_strip_nondeterminism';
const OURS_DH = path.join(ROOT, 'bin', 'dh_strip_nondeterminism');
/** Debian's libguava-java (.ci/run installs it). */
const GUAVA = '/usr/share/java/guava.jar';

const CONTROL = `Source: sample
Section: misc
Priority: optional
Maintainer: Someone <someone@example.org>
Build-Depends: debhelper-compat (= 13)

Package: sample-bin
Architecture: any
Description: arch-dependent package
 long text

Package: sample-doc
Architecture: all
Description: docs
 long text

Package: sample-other-arch
Architecture: armhf mips64el
Description: built elsewhere
 long text

Package: sample-profiled
Architecture: all
Build-Profiles: <!nodoc>
Description: dropped with the nodoc profile
 long text
`;

function changelog(binnmu: boolean): string {
  const source = 'sample (1.0-1) unstable; urgency=medium\n\n  * Initial release.\n\n -- Someone <someone@example.org>  Thu, 05 Feb 2015 18:09:31 +0100\n';
  const nmu = 'sample (1.0-1+b1) unstable; urgency=low, binary-only=yes\n\n  * Binary-only non-maintainer upload for amd64; no source changes.\n\n -- Buildd <buildd@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n\n';
  return (binnmu ? nmu : '') + source;
}

function makeSource(binnmu: boolean): string {
  const src = path.join(tempDir(), 'sample');
  fs.mkdirSync(path.join(src, 'debian'), { recursive: true });
  fs.writeFileSync(path.join(src, 'debian', 'control'), CONTROL);
  fs.writeFileSync(path.join(src, 'debian', 'changelog'), changelog(binnmu));
  const put = (pkg: string, rel: string, fixture: string) => {
    const p = path.join(src, 'debian', pkg, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.copyFileSync(path.join(UPSTREAM, fixture), p);
    fs.chmodSync(p, 0o644);
  };
  for (const pkg of ['sample-bin', 'sample-doc', 'sample-other-arch', 'sample-profiled']) {
    put(pkg, 'usr/share/doc/x/readme.gz', 'gzip/vimoutliner_vo_readme_txt.gz.in');
    put(pkg, 'usr/share/icons/a.png', 'png/tEXt.png.in');
    put(pkg, 'usr/share/java/x.jar', 'jar/jdependency.jar.in');
    put(pkg, 'usr/share/doc/x/api/a.html', 'javadoc/a.html.in');
    put(pkg, 'usr/lib/libx.a', 'ar/one.a.in');
    put(pkg, 'usr/share/skip-me/b.png', 'png/1x1.png.in');
  }
  // A real Debian jar whose pom.properties has felix's date line, which the maven normalizer
  // (off in the helper) would remove: the helper must give Perl's bytes.
  if (fs.existsSync(GUAVA)) fs.copyFileSync(GUAVA, path.join(src, 'debian', 'sample-bin', 'usr', 'share', 'java', 'guava.jar'));
  // Formats beyond the Perl tool: the helper must treat them as Perl's does (a .tar.gz is a
  // gzip file; a .tar and a .deb are left alone).
  const data = path.join(src, 'tar-data');
  fs.mkdirSync(data);
  fs.writeFileSync(path.join(data, 'z'), 'z\n');
  fs.writeFileSync(path.join(data, 'a'), 'a\n');
  const docs = path.join(src, 'debian', 'sample-bin', 'usr', 'share', 'doc', 'x');
  // Fixed times and owners: both sides of the comparison build this tree separately.
  sh(`tar --mtime=@1000000000 --owner=0 --group=0 --numeric-owner -cf '${docs}/data.tar' -C '${data}' . && touch -d @1000000000 '${docs}/data.tar' && gzip -c '${docs}/data.tar' > '${docs}/data.tar.gz'`);
  // Hard-linked names (a .gz: Perl's zip handler breaks hard links, see docs/compat.md).
  fs.linkSync(path.join(src, 'debian/sample-bin/usr/share/doc/x/readme.gz'), path.join(src, 'debian/sample-bin/usr/share/doc/x/readme-link.gz'));
  fs.symlinkSync('x.jar', path.join(src, 'debian/sample-bin/usr/share/java/sym.jar'));
  return src;
}

function snapshot(dir: string): string {
  return sh(`find debian \\( -type f -exec sha256sum {} + \\) -o \\( -type l -printf '%p -> %l\\n' \\) | LC_ALL=C sort`, dir);
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(missing(PERL_DH))('dh_strip_nondeterminism: parity with debhelper', () => {
  const cases: [string, string[], NodeJS.ProcessEnv, boolean][] = [
    ['all packages', [], {}, false],
    ['binNMU changelog (the non-binNMU date wins)', [], {}, true],
    ['SOURCE_DATE_EPOCH set (the changelog still decides)', [], { SOURCE_DATE_EPOCH: '1234567890' }, false],
    ['-p sample-doc', ['-psample-doc'], {}, false],
    ['-N sample-bin', ['-N', 'sample-bin'], {}, false],
    ['-a', ['-a'], {}, false],
    ['-i', ['-i'], {}, false],
    ['-X exclusion', ['-Xskip-me', '--exclude=api'], {}, false],
    ['DH_OPTIONS', [], { DH_OPTIONS: '-Nsample-doc' }, false],
    ['DH_ALWAYS_EXCLUDE', [], { DH_ALWAYS_EXCLUDE: 'icons:skip-me' }, false],
    ['nodoc build profile', [], { DEB_BUILD_PROFILES: 'nodoc' }, false],
    ['parallel=2, verbose', [], { DEB_BUILD_OPTIONS: 'parallel=2', DH_VERBOSE: '1' }, false],
  ];
  for (const [title, args, env, binnmu] of cases) {
    it(title, () => {
      const perl = makeSource(binnmu);
      const ours = makeSource(binnmu);
      const p = run(PERL_DH, args, perl, env);
      const o = run(OURS_DH, args, ours, env);
      expect(o.status).toBe(p.status);
      expect(snapshot(ours)).toBe(snapshot(perl));
      expect(snapshot(ours)).not.toBe(snapshot(makeSource(binnmu)));
    });
  }

  it('unknown -p package is an error, as in debhelper', () => {
    const src = makeSource(false);
    const p = run(PERL_DH, ['-pnope'], src, {});
    const o = run(OURS_DH, ['-pnope'], src, {});
    // debhelper's status here is errno leaking into die (25, ENOTTY, off a terminal); ours is 255.
    expect(p.status).not.toBe(0);
    expect(o.status).toBe(255);
    expect(o.stderr).toContain('dh_strip_nondeterminism: error: Requested unknown package nope');
  });
});

describe('changelog dates', () => {
  it('uses the newest entry, or the one before a binNMU, honouring the zone', () => {
    expect(nonBinnmuEpoch(changelog(false))).toBe(1423156171);
    expect(nonBinnmuEpoch(changelog(true))).toBe(1423156171);
    expect(nonBinnmuEpoch(changelog(false).replace('+0100', '-0000 (UTC)'))).toBe(1423159771);
  });
});
