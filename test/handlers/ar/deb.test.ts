/**
 * .deb packages. Oracles: dpkg-deb itself (it must accept every output with -I, -c, -x and
 * --fsys-tarfile, and a deterministic dpkg-deb build gives the ar headers we must write), dpkg
 * unpacking into a scratch root, md5sum -c against the package's own md5sums, and the Perl tool
 * for nested members.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_T, ROOT, missing, runBin, runPerl, sh, tempDir } from '../../lib/helpers.js';
import { listTree, makeTree } from '../../lib/trees.js';

const T = FIXTURE_T;
const skipTools = missing('dpkg-deb', 'dpkg', 'ar', 'xz', 'zstd', 'gzip', 'tar');

/** A package root: DEBIAN/control and md5sums, plus the sample tree under usr/share/pkg. */
function makePackage(dir: string, variant: number): void {
  const data = path.join(dir, 'usr', 'share', 'pkg');
  fs.mkdirSync(data, { recursive: true });
  makeTree(data, variant);
  fs.rmSync(path.join(data, 'fifo'));
  fs.rmSync(path.join(data, 'dev'), { force: true });
  fs.mkdirSync(path.join(dir, 'DEBIAN'));
  fs.writeFileSync(path.join(dir, 'DEBIAN', 'control'), 'Package: pkg\nVersion: 1.0\nArchitecture: all\nMaintainer: A <a@example.org>\nDescription: test package\n');
  fs.writeFileSync(path.join(dir, 'DEBIAN', 'postinst'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  sh(`find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum > DEBIAN/md5sums`, dir);
  if (variant % 2) sh(`chown -R 1000:1000 usr && chmod 4755 usr/share/pkg/bin/suid`, dir); // chown clears set-uid
}

const arHeaders = (deb: Buffer) => {
  const out: string[] = [];
  for (let pos = 8; pos < deb.length; ) {
    const h = deb.toString('latin1', pos, pos + 60);
    out.push(h.slice(0, 48)); // name, mtime, uid, gid, mode: everything but the size
    const size = Number(h.slice(48, 58).trim());
    pos += 60 + size + (size % 2);
  }
  return out;
};

describe.skipIf(skipTools)('.deb', () => {
  let work: string;
  const roots: string[] = [];
  beforeAll(() => {
    work = tempDir('snd-deb-');
    for (const v of [1, 2]) {
      const r = path.join(work, `root${v}`);
      makePackage(r, v);
      roots.push(r);
    }
  });

  it('gives identical packages for the same content built at different times, orders and owners, in every compression', () => {
    for (const z of ['xz', 'gzip', 'zstd', 'none']) {
      const outs = roots.map((r, i) => {
        const deb = path.join(work, `${z}-${i}.deb`);
        sh(`dpkg-deb -Z${z} --build '${r}' '${deb}' >/dev/null`);
        const res = runBin(['-T', String(T), deb]);
        expect(res.status, res.stderr).toBe(0);
        return fs.readFileSync(deb);
      });
      expect(outs[0].equals(outs[1]), z).toBe(true);
    }
  });

  it('is accepted by dpkg-deb -I, -c, -x and --fsys-tarfile, and dpkg unpacks it', () => {
    const deb = path.join(work, 'xz-0.deb');
    expect(sh(`dpkg-deb -I '${deb}'`)).toContain('Package: pkg');
    expect(sh(`dpkg-deb -c '${deb}'`)).toContain('./usr/share/pkg/aa-link');
    const x = tempDir('snd-debx-');
    sh(`dpkg-deb -x '${deb}' '${x}'`);
    expect(sh(`dpkg-deb --fsys-tarfile '${deb}' | tar -t | wc -l`).trim()).toBe(sh(`dpkg-deb -c '${deb}' | wc -l`).trim());
    // dpkg's own unpacker (stricter than tar: no pax headers, for one).
    const inst = tempDir('snd-inst-');
    fs.mkdirSync(path.join(inst, 'adm', 'updates'), { recursive: true });
    fs.mkdirSync(path.join(inst, 'adm', 'info'));
    fs.mkdirSync(path.join(inst, 'root'));
    fs.writeFileSync(path.join(inst, 'adm', 'status'), '');
    sh(`dpkg --force-not-root --force-script-chrootless --instdir='${inst}/root' --admindir='${inst}/adm' --log=/dev/null --unpack '${deb}' >/dev/null`);
    expect(fs.existsSync(path.join(inst, 'root', 'usr', 'share', 'pkg', 'zz-target'))).toBe(true);
  });

  it('extracts to the same files; a .gz in data.tar is normalized as the Perl tool does, and md5sums follow', () => {
    const deb = path.join(work, 'xz-0.deb');
    const x = tempDir('snd-debx-');
    sh(`dpkg-deb -R '${deb}' '${x}'`);
    const expected = tempDir('snd-debexp-');
    sh(`cp -a . '${expected}'`, roots[0]);
    const gz = path.join(expected, 'usr', 'share', 'pkg', 'doc.txt.gz');
    expect(runPerl(['-T', String(T), gz]).status).toBe(0);
    // Our md5sums line for the changed file: recompute the expectation with md5sum itself.
    sh(`find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum > DEBIAN/md5sums`, expected);
    const strip = (lines: string[]) => lines.map((l) => l.replace(/^d (\S+) \d+$/, 'd $1'));
    expect(strip(listTree(x))).toEqual(strip(listTree(expected)));
    expect(sh(`md5sum --quiet -c DEBIAN/md5sums`, x)).toBe('');
  });

  it('writes the ar headers dpkg-deb writes for a reproducible build', () => {
    const ref = path.join(work, 'ref.deb');
    sh(`dpkg-deb --root-owner-group -Zxz --build '${roots[1]}' '${ref}' >/dev/null`, undefined, { SOURCE_DATE_EPOCH: String(T) });
    const ours = path.join(work, 'xz-1.deb');
    expect(arHeaders(fs.readFileSync(ours))).toEqual(arHeaders(fs.readFileSync(ref)));
    // And a second run finds nothing to change.
    const r = runBin(['-T', String(T), '--check', ours]);
    expect(r.status, r.stdout).toBe(0);
  });

  it('leaves signed packages alone, and rejects broken ones without touching them', () => {
    const dir = tempDir();
    const signed = path.join(dir, 'signed.deb');
    sh(`dpkg-deb -Zgzip --build '${roots[0]}' '${signed}' >/dev/null`);
    fs.writeFileSync(path.join(dir, '_gpgbuilder'), 'signature\n');
    sh(`ar q '${signed}' _gpgbuilder`, dir);
    const before = fs.readFileSync(signed);
    const r = runBin(['-T', '1', signed]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('signed package');
    expect(fs.readFileSync(signed).equals(before)).toBe(true);

    const whole = fs.readFileSync(path.join(work, 'xz-0.deb'));
    for (const [name, bytes] of [
      ['truncated.deb', whole.subarray(0, whole.length - 100)],
      ['short.deb', whole.subarray(0, 8 + 60 + 4 + 30)],
    ] as const) {
      const f = path.join(dir, name);
      fs.writeFileSync(f, bytes);
      const res = runBin(['-T', '1', f]);
      expect(res.status, `${name}: ${res.stderr}`).toBe(255);
      expect(res.stderr).toContain(f);
      expect(fs.readFileSync(f).equals(bytes)).toBe(true);
    }
  });
});

const corpus = path.join(ROOT, 'var', 'debian-corpus', 'debs');
const noCorpus = fs.existsSync(corpus) ? undefined : `skipped: ${corpus} missing (run scripts/fetch-debian-corpus.sh)`;
if (noCorpus) console.warn(noCorpus);

describe.skipIf(skipTools || noCorpus)('real Debian packages', () => {
  it('normalize to packages dpkg-deb accepts, with the same files and consistent md5sums', () => {
    const dir = tempDir('snd-realdeb-');
    const debs = fs.readdirSync(corpus).filter((n) => n.endsWith('.deb'));
    for (const d of debs) fs.copyFileSync(path.join(corpus, d), path.join(dir, d));
    const r = runBin(['-T', String(T), '-j', '2', dir]);
    expect(r.status, r.stderr).toBe(0);
    for (const d of debs) {
      const ours = path.join(dir, d);
      const x = tempDir('snd-realx-');
      const o = tempDir('snd-realo-');
      sh(`dpkg-deb -I '${ours}' >/dev/null && dpkg-deb --fsys-tarfile '${ours}' >/dev/null && dpkg-deb -c '${ours}' >/dev/null`);
      sh(`dpkg-deb -R '${ours}' '${x}' && dpkg-deb -R '${path.join(corpus, d)}' '${o}'`);
      // Same names, types, modes and link targets; contents may differ only in files that a
      // normalizer handles, and md5sums must describe the new contents.
      const shape = (lines: string[]) => lines.map((l) => (l.startsWith('f ') ? l.split(' ').slice(0, 3).join(' ') : l)).filter((l) => !l.startsWith('f DEBIAN/md5sums'));
      expect(shape(listTree(x)), d).toEqual(shape(listTree(o)));
      if (fs.existsSync(path.join(x, 'DEBIAN', 'md5sums'))) expect(sh(`md5sum --quiet -c DEBIAN/md5sums`, x), d).toBe('');
    }
  });
});
