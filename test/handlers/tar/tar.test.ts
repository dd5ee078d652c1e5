/**
 * tar, plain and compressed. Oracles: GNU tar itself (a deterministic `tar --format=gnu` run over
 * the `find | LC_ALL=C sort` list must give our exact bytes), GNU tar and python extracting our
 * output back into the original tree, and the Perl tool for nested members.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_T, missing, runBin, runPerl, sh, tempDir } from '../../lib/helpers.js';
import { COMPRESSORS, PACKERS, isRoot, listTree, makeTree } from '../../lib/trees.js';

const T = FIXTURE_T;
const skipTools = missing('tar', 'python3', 'gzip', 'xz', 'bzip2', 'zstd', 'shuf');

type PyMember = [name: string, type: string, mode: number, uid: number, gid: number, uname: string, gname: string, mtime: number, linkname: string, size: number, pax: [string, string][]];

/** Members of a tar as python's tarfile reads them, in archive order. */
function pyList(tarPath: string): PyMember[] {
  const script = `import tarfile,sys,json
print(json.dumps([[m.name, m.type.decode(), m.mode, m.uid, m.gid, m.uname, m.gname, m.mtime, m.linkname, m.size, sorted(m.pax_headers.items())] for m in tarfile.open(sys.argv[1])]))`;
  return JSON.parse(sh(`python3 -c '${script}' '${tarPath}'`)) as PyMember[];
}

function extract(tarPath: string): string {
  const dir = tempDir('snd-x-');
  sh(`tar -xf '${tarPath}' -C '${dir}'`);
  return dir;
}

describe.skipIf(skipTools)('tar', () => {
  let work: string;
  const trees: string[] = [];
  beforeAll(() => {
    work = tempDir('snd-tar-');
    for (const v of [1, 2]) {
      const t = path.join(work, `tree${v}`);
      fs.mkdirSync(t);
      makeTree(t, v);
      trees.push(t);
    }
  });

  it('matches GNU tar run deterministically over the find | LC_ALL=C sort list, byte for byte', () => {
    for (const [i, p] of PACKERS.filter((p) => p.available()).entries()) {
      const tree = trees[i % 2];
      const input = path.join(work, `oracle-${i}.tar`);
      p.pack(tree, input);
      const ref = path.join(work, `ref-${i}.tar`);
      sh(`find . | LC_ALL=C sort | tar --format=gnu --no-recursion --owner=root:0 --group=root:0 --mtime=@${T} -cf '${ref}' -T -`, tree);
      // Only the tar normalizer: nested members stay as GNU tar stored them.
      const r = runBin(['-T', String(T), '--normalizers=-all,+tar', input]);
      expect(r.status, `${p.name}: ${r.stderr}`).toBe(0);
      expect(fs.readFileSync(input).equals(fs.readFileSync(ref)), p.name).toBe(true);
    }
  });

  it('gives identical bytes for the same content packed by different tools, times, orders and owners, in every compression', () => {
    const outputs = new Map<string, Buffer[]>();
    for (const [i, p] of PACKERS.filter((p) => p.available()).entries()) {
      const tar = path.join(work, `same-${i}.tar`);
      p.pack(trees[i % 2], tar);
      for (const c of [undefined, ...COMPRESSORS]) {
        const file = c ? `${tar}.${c.ext.slice(4)}` : tar + '.copy.tar';
        sh(c ? `${c.compress} '${tar}' > '${file}'` : `cp '${tar}' '${file}'`);
        const r = runBin(['-T', String(T), file]);
        expect(r.status, `${p.name} ${c?.ext}: ${r.stderr}`).toBe(0);
        const key = c?.ext ?? 'tar';
        outputs.set(key, [...(outputs.get(key) ?? []), fs.readFileSync(file)]);
      }
    }
    for (const [ext, list] of outputs) {
      for (const b of list) expect(b.equals(list[0]), `${ext} outputs differ`).toBe(true);
    }
    // Each compressed output holds exactly the normalized plain tar.
    for (const c of COMPRESSORS) {
      const f = path.join(work, 'check.' + c.ext);
      fs.writeFileSync(f, outputs.get(c.ext)![0]);
      expect(Buffer.from(sh(`${c.decompress} '${f}' | base64 -w0`), 'base64').equals(outputs.get('tar')![0]), c.ext).toBe(true);
    }
  });

  it('extracts to the same tree: names, modes, symlinks, hard links, devices and bytes', () => {
    const input = path.join(work, 'roundtrip.tar.gz');
    sh(`tar --format=posix -czf '${input}' -C '${trees[0]}' .`);
    expect(runBin(['-T', String(T), input]).status).toBe(0);
    const out = listTree(extract(input));
    // doc.txt.gz was normalized inside the tar: compare with the Perl tool's normalization.
    const expected = tempDir('snd-exp-');
    sh(`cp -a . '${expected}'`, trees[0]);
    expect(runPerl(['-T', String(T), path.join(expected, 'doc.txt.gz')]).status).toBe(0);
    expect(out).toEqual(listTree(expected));
    expect(fs.readFileSync(path.join(expected, 'doc.txt.gz')).equals(fs.readFileSync(path.join(trees[0], 'doc.txt.gz')))).toBe(false);
  });

  it('orders members as find | LC_ALL=C sort, re-roots hard links, and sets owner and time', () => {
    const input = path.join(work, 'order.tar');
    PACKERS[2].pack(trees[1], input); // python: uid 1234, names without trailing slashes
    expect(runBin(['-T', String(T), input]).status).toBe(0);
    const members = pyList(input);
    const names = members.map((m) => String(m[0]).replace(/\/$/, ''));
    const sorted = sh(`find . | LC_ALL=C sort`, trees[1]).trim().split('\n');
    expect(names).toEqual(sorted.map((n) => (n === '.' ? '.' : n)));
    for (const m of members) {
      expect(m.slice(3, 8)).toEqual([0, 0, 'root', 'root', T]);
      expect(m[10]).toEqual([]); // no pax records left
    }
    const link = members.find((m) => m[0] === './zz-target')!;
    const carrier = members.find((m) => m[0] === './aa-link')!;
    expect([carrier[1], carrier[9]]).toEqual(['0', 'hard-linked content\n'.length]);
    expect([link[1], link[8]]).toEqual(['1', './aa-link']);
  });

  it('clamps with --clamp-timestamp, uses 0 without T, and honours --tar-owner/--tar-group', () => {
    const input = path.join(work, 'times.tar');
    sh(`tar -cf '${input}' -C '${trees[0]}' .`);
    const clampT = 1_500_000_000 + 31 * 86_400 + 50; // between the tree's oldest and newest mtimes
    const a = path.join(work, 'clamp.tar');
    fs.copyFileSync(input, a);
    expect(runBin(['-T', String(clampT), '--clamp-timestamp', a]).status).toBe(0);
    const original = sh(`tar --full-time -tvf '${input}' | awk '{print $4" "$5}'`).trim().split('\n');
    const clamped = sh(`TZ=UTC tar --full-time -tvf '${a}' | awk '{print $4" "$5}'`).trim().split('\n');
    const maxT = new Date(clampT * 1000).toISOString().replace('T', ' ').slice(0, 19);
    expect(clamped.every((d) => d <= maxT)).toBe(true);
    expect(new Set(clamped).size).toBeGreaterThan(1); // older times were kept
    expect(original.length).toBe(clamped.length);

    const b = path.join(work, 'no-t.tar');
    fs.copyFileSync(input, b);
    expect(runBin([b], { SOURCE_DATE_EPOCH: '' }).status).toBe(0);
    expect(sh(`TZ=UTC tar --full-time -tvf '${b}' | awk '{print $4" "$5}' | sort -u`).trim()).toBe('1970-01-01 00:00:00');

    const c = path.join(work, 'owner.tar');
    fs.copyFileSync(input, c);
    expect(runBin(['-T', String(T), '--tar-owner', 'builder:1000', '--tar-group', 'staff:50', c]).status).toBe(0);
    expect(sh(`tar --numeric-owner -tvf '${c}' | awk '{print $2}' | sort -u`).trim()).toBe('1000/50');
    expect(sh(`tar -tvf '${c}' | awk '{print $2}' | sort -u`).trim()).toBe('builder/staff');
    expect(runBin(['--tar-owner', 'nobody', c]).status).toBe(255);
  });

  it('keeps xattrs and drops atime, ctime and other machine-specific pax records', () => {
    const dir = tempDir('snd-xattr-');
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    const input = path.join(work, 'xattr.tar');
    const script = `import tarfile,sys
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tf:
    ti = tf.gettarinfo(sys.argv[2], arcname="f")
    ti.pax_headers = {"SCHILY.xattr.user.test": "value", "atime": "1.5", "ctime": "2.25", "SCHILY.dev": "64769", "SCHILY.ino": "12", "SCHILY.nlink": "1", "LIBARCHIVE.creationtime": "3", "mtime": "1700000000.123456"}
    tf.addfile(ti, open(sys.argv[2], "rb"))`;
    sh(`python3 -c '${script}' '${input}' '${path.join(dir, 'f')}'`);
    expect(runBin(['-T', String(T), input]).status).toBe(0);
    const [m] = pyList(input);
    expect(m[10]).toEqual([['SCHILY.xattr.user.test', 'value']]);
    expect(m[7]).toBe(T);
    // GNU tar restores the xattr.
    if (isRoot) {
      const out = tempDir('snd-xattr-out-');
      sh(`tar --xattrs --xattrs-include='*' -xf '${input}' -C '${out}'`);
      expect(sh(`python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.test").decode())' '${path.join(out, 'f')}'`).trim()).toBe('value');
    }
  });

  it('reads ustar and v7 archives', () => {
    const dir = tempDir('snd-old-');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'f'), 'old\n');
    for (const format of ['ustar', 'v7']) {
      const input = path.join(work, `${format}.tar`);
      sh(`tar --format=${format} -cf '${input}' -C '${dir}' .`);
      expect(runBin(['-T', String(T), input]).status).toBe(0);
      const ref = path.join(work, `${format}-ref.tar`);
      sh(`find . | LC_ALL=C sort | tar --format=gnu --no-recursion --owner=root:0 --group=root:0 --mtime=@${T} -cf '${ref}' -T -`, dir);
      expect(fs.readFileSync(input).equals(fs.readFileSync(ref)), format).toBe(true);
    }
  });

  it('leaves a normalized archive alone, and keeps the compressed bytes when the tar is already normalized', () => {
    const input = path.join(work, 'twice.tar.xz');
    sh(`tar -cJf '${input}' -C '${trees[0]}' .`);
    expect(runBin(['-T', String(T), input]).status).toBe(0);
    const once = fs.readFileSync(input);
    const ino = fs.statSync(input).ino;
    const r = runBin(['-T', String(T), '--check', input]);
    expect(r.status).toBe(0);
    expect(fs.statSync(input).ino).toBe(ino);
    expect(fs.readFileSync(input).equals(once)).toBe(true);
    // An already-normalized tar compressed differently keeps its compression; a gzip header
    // still gets the gzip normalizer's treatment, exactly as the Perl tool gives it.
    const plain = path.join(work, 'normalized.tar');
    sh(`xz -dc '${input}' > '${plain}'`);
    for (const c of COMPRESSORS) {
      const ours = path.join(work, `kept-ours.${c.ext}`);
      sh(`${c.compress} '${plain}' > '${ours}'`);
      const before = fs.readFileSync(ours);
      expect(runBin(['-T', String(T), ours]).status).toBe(0);
      if (c.tool !== 'gzip') {
        expect(fs.readFileSync(ours).equals(before), c.ext).toBe(true);
      } else {
        const perl = path.join(work, `kept-perl.${c.ext}`);
        fs.writeFileSync(perl, before);
        expect(runPerl(['-T', String(T), perl]).status).toBe(0);
        expect(fs.readFileSync(ours).equals(fs.readFileSync(perl))).toBe(true);
      }
    }
  });

  it('detects by bytes: a .tar.gz that holds no tar is a gzip file, as in the Perl tool', () => {
    const dir = tempDir('snd-det-');
    const notTar = path.join(dir, 'text.tar.gz');
    sh(`printf 'not a tar\\n' > '${dir}/text.tar' && gzip -c '${dir}/text.tar' > '${notTar}'`);
    const perl = path.join(dir, 'perl.tar.gz');
    fs.copyFileSync(notTar, perl);
    expect(runBin(['-T', String(T), notTar]).status).toBe(0);
    expect(runPerl(['-T', String(T), perl]).status).toBe(0);
    expect(fs.readFileSync(notTar).equals(fs.readFileSync(perl))).toBe(true);
    // A tar named .tar.gz but compressed with xz is recompressed with xz.
    const xzNamed = path.join(dir, 'x.tar.gz');
    sh(`tar -cJf '${xzNamed}' -C '${trees[0]}' ./a`);
    expect(runBin(['-T', String(T), xzNamed]).status).toBe(0);
    expect(fs.readFileSync(xzNamed).subarray(0, 6).toString('latin1')).toBe('\xfd7zXZ\0');
  });
});

describe.skipIf(skipTools)('broken tar input: error, file unchanged, no temporary file', () => {
  const cases: [string, (dir: string) => void][] = [];
  const make = (name: string, build: (file: string, dir: string) => void) => cases.push([name, (dir) => build(path.join(dir, name), dir)]);
  const base = (dir: string) => {
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', 'a'), Buffer.alloc(5000, 1));
    fs.writeFileSync(path.join(dir, 'src', 'b'), 'b');
    const t = path.join(dir, 'base.tar');
    sh(`tar -cf '${t}' -C '${dir}/src' .`);
    return fs.readFileSync(t);
  };
  make('truncated.tar', (f, d) => fs.writeFileSync(f, base(d).subarray(0, 3000)));
  // Cut inside the last member's data: GNU tar says "Unexpected EOF" too (checked below).
  make('cut-in-member.tar', (f, d) => fs.writeFileSync(f, base(d).subarray(0, 512 * 13)));
  make('cut-padding.tar', (f, d) => {
    fs.mkdirSync(path.join(d, 'one'));
    fs.writeFileSync(path.join(d, 'one', 'x'), 'short');
    sh(`tar -cf '${d}/one.tar' -C '${d}/one' x`);
    fs.writeFileSync(f, fs.readFileSync(`${d}/one.tar`).subarray(0, 512 + 100));
  });
  make('bad-checksum.tar', (f, d) => {
    const b = base(d);
    b[10] ^= 0x20;
    fs.writeFileSync(f, b);
  });
  make('corrupt.tar.xz', (f, d) => {
    base(d);
    const b = Buffer.from(sh(`xz -c '${d}/base.tar' | base64 -w0`), 'base64');
    b[Math.floor(b.length / 2)] ^= 0xff;
    fs.writeFileSync(f, b);
  });
  make('truncated.tar.gz', (f, d) => {
    base(d);
    const b = Buffer.from(sh(`gzip -c '${d}/base.tar' | base64 -w0`), 'base64');
    fs.writeFileSync(f, b.subarray(0, b.length - 30));
  });
  make('truncated.tar.zst', (f, d) => {
    base(d);
    const b = Buffer.from(sh(`zstd -q -c '${d}/base.tar' | base64 -w0`), 'base64');
    fs.writeFileSync(f, b.subarray(0, b.length - 10));
  });

  for (const [name, build] of cases) {
    it(name, () => {
      const dir = tempDir();
      build(dir);
      const file = path.join(dir, name);
      const before = fs.readFileSync(file);
      const r = runBin(['-T', String(T), file]);
      expect(r.status, r.stderr).toBe(255);
      expect(r.stderr).toContain(file);
      expect(fs.readFileSync(file).equals(before)).toBe(true);
      expect(fs.readdirSync(dir).filter((n) => n.includes('snd-tmp'))).toEqual([]);
      if (name.endsWith('.tar')) expect(spawnSync('tar', ['-tf', file]).status, 'GNU tar rejects it too').not.toBe(0);
    });
  }

  it('an archive without the end-of-archive marker, which GNU tar reads, is normalized', () => {
    const dir = tempDir();
    const full = base(dir);
    let end = full.length;
    while (full.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
    const cut = [path.join(dir, 'no-end.tar'), path.join(dir, 'lone-zero-block.tar')];
    fs.writeFileSync(cut[0], full.subarray(0, end));
    fs.writeFileSync(cut[1], full.subarray(0, end + 512));
    fs.writeFileSync(path.join(dir, 'full.tar'), full);
    for (const f of cut) expect(spawnSync('tar', ['-tf', f]).status, `GNU tar lists ${f}`).toBe(0);
    const r = runBin(['-T', String(T), path.join(dir, 'full.tar'), ...cut]);
    expect(r.status, r.stderr).toBe(0);
    for (const f of cut) {
      expect(fs.readFileSync(f).equals(fs.readFileSync(path.join(dir, 'full.tar'))), f).toBe(true);
      expect(spawnSync('tar', ['-tf', f]).status).toBe(0);
    }
  });

  it('sparse archives are left unchanged with a warning', () => {
    const dir = tempDir();
    sh(`truncate -s 1M '${dir}/sparse' && printf x >> '${dir}/sparse'`);
    const file = path.join(dir, 'sparse.tar');
    sh(`tar --format=gnu -S -cf '${file}' -C '${dir}' sparse`);
    const before = fs.readFileSync(file);
    const r = runBin(['-T', String(T), file]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('sparse');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});

describe.skipIf(skipTools)('tar variants', () => {
  const T2 = String(T);
  it('old GNU format, base-256 ids, a pax global header (kept) and a tar inside a tar', () => {
    const dir = tempDir('snd-var-');
    fs.mkdirSync(path.join(dir, 't', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 't', 'sub', 'f'), 'f\n');
    fs.writeFileSync(path.join(dir, 't', 'g'), 'g\n');
    const ref = path.join(dir, 'ref.tar');
    sh(`find . | LC_ALL=C sort | tar --format=gnu --no-recursion --owner=root:0 --group=root:0 --mtime=@${T} -cf '${ref}' -T -`, path.join(dir, 't'));

    const oldgnu = path.join(dir, 'oldgnu.tar');
    sh(`tar --format=oldgnu -cf '${oldgnu}' -C '${dir}/t' .`);
    expect(runBin(['-T', T2, oldgnu]).status).toBe(0);
    expect(fs.readFileSync(oldgnu).equals(fs.readFileSync(ref))).toBe(true);

    const bigIds = path.join(dir, 'bigids.tar');
    sh(`python3 -c 'import tarfile,sys
def f(ti):
    ti.uid, ti.gid = 3000000000, 4000000000
    return ti
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as tf: tf.add(sys.argv[2], arcname=".", filter=f)' '${bigIds}' '${dir}/t'`);
    expect(sh(`tar --numeric-owner -tvf '${bigIds}' | head -1`)).toContain('3000000000/4000000000');
    expect(runBin(['-T', T2, bigIds]).status).toBe(0);
    expect(fs.readFileSync(bigIds).equals(fs.readFileSync(ref))).toBe(true);

    // git archive writes a global header carrying the commit id: content, so it stays.
    const global = path.join(dir, 'global.tar');
    sh(`python3 -c 'import tarfile,sys
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT, pax_headers={"comment": "0123abcd"}) as tf: tf.add(sys.argv[2], arcname=".")' '${global}' '${dir}/t'`);
    expect(runBin(['-T', T2, global]).status).toBe(0);
    expect(sh(`python3 -c 'import tarfile,sys; t = tarfile.open(sys.argv[1]); print(t.pax_headers, [m.name for m in t])' '${global}'`).trim()).toBe(
      `{'comment': '0123abcd'} ['.', './g', './sub', './sub/f']`,
    );

    // A .tar.gz inside a tar is normalized as a tar too.
    fs.mkdirSync(path.join(dir, 'outer'));
    sh(`tar --format=posix -czf '${dir}/outer/inner.tar.gz' -C '${dir}/t' .`);
    const outer = path.join(dir, 'outer.tar');
    sh(`tar -cf '${outer}' -C '${dir}/outer' .`);
    expect(runBin(['-T', T2, outer]).status).toBe(0);
    expect(Buffer.from(sh(`tar -xOf '${outer}' ./inner.tar.gz | gzip -dc | base64 -w0`), 'base64').equals(fs.readFileSync(ref))).toBe(true);
  });

  it('damaged tars and compressed tars never crash, hang or half-write', async () => {
    const dir = tempDir('snd-mut-');
    fs.mkdirSync(path.join(dir, 't'));
    fs.writeFileSync(path.join(dir, 't', 'a.txt'), 'a'.repeat(700));
    fs.symlinkSync('a.txt', path.join(dir, 't', 'l'));
    sh(`tar --format=posix -cf '${dir}/in.tar' -C '${dir}/t' . && gzip -c '${dir}/in.tar' > '${dir}/in.tar.gz' && xz -c '${dir}/in.tar' > '${dir}/in.tar.xz'`);
    const { normalizeFile } = await import('../../../src/app/pipeline.js');
    const { NORMALIZER_NAMES } = await import('../../../src/app/registry.js');
    const { mutations } = await import('../../lib/mutate.js');
    for (const [k, name] of ['in.tar', 'in.tar.gz', 'in.tar.xz'].entries()) {
      const input = fs.readFileSync(path.join(dir, name));
      const work = tempDir('snd-mutw-');
      const target = path.join(work, name);
      for (const [what, bytes] of mutations(input, 0x1234567 + k)) {
        fs.writeFileSync(target, bytes);
        const report = await normalizeFile(target, { timestamp: T, clamp: false, enabled: new Set(NORMALIZER_NAMES), verbose: false });
        if (report.error !== undefined) expect(fs.readFileSync(target).equals(bytes), `${name}, ${what}: ${report.error}`).toBe(true);
        expect(fs.readdirSync(work), `${name}, ${what}`).toEqual([name]);
      }
    }
  }, 120_000);
});

describe.skipIf(skipTools)('with tar and deb disabled, files get the Perl tool\'s treatment', () => {
  it('--normalizers=-tar,-deb: a .tar.gz is a gzip file and a .tar is left alone', () => {
    const dir = tempDir('snd-off-');
    fs.mkdirSync(path.join(dir, 't'));
    fs.writeFileSync(path.join(dir, 't', 'f'), 'f\n');
    sh(`tar -cf x.tar -C t . && gzip -c x.tar > x.tar.gz`, dir);
    for (const name of ['x.tar', 'x.tar.gz']) {
      const ours = path.join(dir, `ours-${name}`);
      const perl = path.join(dir, `perl-${name}`);
      fs.copyFileSync(path.join(dir, name), ours);
      fs.copyFileSync(path.join(dir, name), perl);
      expect(runBin(['-T', String(T), '--normalizers=-tar,-deb', ours]).status).toBe(0);
      expect(runPerl(['-T', String(T), perl]).status).toBe(0);
      expect(fs.readFileSync(ours).equals(fs.readFileSync(perl)), name).toBe(true);
    }
  });
});

describe.skipIf(missing('tar', 'python3'))('a pax path record holding a NUL byte', () => {
  it('is read as GNU tar reads it (up to the NUL), so one pass gives a fixed point', () => {
    const dir = tempDir('snd-paxnul-');
    sh(`python3 -c "
import tarfile, io
t = tarfile.open('nul.tar', 'w', format=tarfile.PAX_FORMAT)
ti = tarfile.TarInfo('placeholder'); ti.size = 6; ti.pax_headers = {'path': 'foo\\x00bar.txt'}
t.addfile(ti, io.BytesIO(b'hello\\n')); t.close()
"`, dir);
    const file = path.join(dir, 'nul.tar');
    expect(sh(`tar tf '${file}'`)).toBe('foo\n');
    expect(runBin(['-T', '0', file]).status).toBe(0);
    expect(sh(`tar tf '${file}'`)).toBe('foo\n');
    const once = fs.readFileSync(file);
    const again = runBin(['-T', '0', '--check', file]);
    expect(again.status, again.stdout).toBe(0);
    expect(fs.readFileSync(file).equals(once)).toBe(true);
  });
});

describe.skipIf(missing('tar', 'xz', 'zstd'))('recompression on several threads', () => {
  it('xz (two 24 MiB blocks) and zstd give the same bytes with 1, 2 and 16 threads', () => {
    const dir = tempDir('snd-threads-');
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    // Zeros compress fast; 26 MB of them make xz's multi-threaded mode cut two blocks.
    fs.writeFileSync(path.join(src, 'zeros.bin'), Buffer.alloc(26_000_000));
    fs.writeFileSync(path.join(src, 'a.txt'), 'hello\n');
    sh(`tar -cJf in.tar.xz -C src . && tar -c -C src . | zstd -q -1 > in.tar.zst`, dir);
    const out: Record<string, Buffer[]> = { xz: [], zst: [] };
    for (const threads of ['1', '2', '16']) {
      for (const ext of ['xz', 'zst']) {
        const f = path.join(dir, `t${threads}.tar.${ext}`);
        fs.copyFileSync(path.join(dir, `in.tar.${ext}`), f);
        const r = runBin(['-T', String(FIXTURE_T), '--compress-threads', threads, f]);
        expect(r.status, r.stderr).toBe(0);
        out[ext].push(fs.readFileSync(f));
        expect(spawnSync('tar', ['-tf', f]).status).toBe(0);
      }
    }
    for (const ext of ['xz', 'zst']) for (const b of out[ext]) expect(b.equals(out[ext][0]), ext).toBe(true);
    expect(sh(`xz -l --robot '${dir}/t1.tar.xz' | awk '$1 == "totals" {print $3}'`).trim()).toBe('2');
  });
});
