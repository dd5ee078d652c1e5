/**
 * Sample file trees and the many ways real tools pack them, for the tar and .deb suites.
 * The same content is made twice with different mtimes, creation order and owners, then packed
 * by GNU tar, python's tarfile and bsdtar in their different formats.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { have, sh } from './helpers.js';

export const isRoot = process.getuid?.() === 0;

/** File names that sort differently per directory (GNU tar --sort=name) and as whole paths
 *  (`find | LC_ALL=C sort`), hard links whose link name sorts first, long names and targets. */
export function makeTree(dir: string, variant: number): void {
  const mtime = 1_500_000_000 + variant * 86_400 * 31;
  const f = (rel: string, content: string | Buffer, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
    fs.chmodSync(path.join(dir, rel), mode);
  };
  // Creation order differs between variants.
  const steps: (() => void)[] = [
    () => f('a/b/g', 'g\n'),
    () => f('a-c/f', 'f\n'),
    () => f('bin/tool', '#!/bin/sh\necho tool\n', 0o755),
    () => f('bin/suid', 'suid\n', 0o4755),
    () => f('secret', 'secret\n', 0o600),
    () => f('empty', ''),
    () => f('n'.repeat(120), 'long name\n'),
    () => f(`d/${'q'.repeat(96)}`, 'exactly 100 bytes with ./\n'),
    () => f(`d/${'r'.repeat(95)}`, '99 bytes with ./\n'),
    () => f('ünïcødé-ñame', 'utf-8 name\n'),
    () => f('big.bin', Buffer.alloc(70_000, 7)),
    // gzip stores the name and this moment's mtime: a nested member that needs normalizing.
    () => sh(`printf 'some text\\n%.0s' $(seq 1 50) > doc.txt && gzip -f doc.txt && chmod 644 doc.txt.gz`, dir),
  ];
  if (variant % 2) steps.reverse();
  for (const s of steps) s();
  fs.writeFileSync(path.join(dir, 'zz-target'), 'hard-linked content\n');
  fs.linkSync(path.join(dir, 'zz-target'), path.join(dir, 'aa-link'));
  fs.symlinkSync('a/b/g', path.join(dir, 'sym'));
  fs.symlinkSync('x'.repeat(150), path.join(dir, 'longsym'));
  sh(`mkfifo '${dir}/fifo'`);
  if (isRoot) sh(`mknod '${dir}/dev' c 1 3 && chmod 640 '${dir}/dev'`);
  // Different times per variant (and per file), without following symlinks.
  sh(`i=0; find . -depth | while read -r p; do i=$((i+1)); touch -h -d @$((${mtime} + i * 7)) "$p"; done`, dir);
}

export interface Packer {
  name: string;
  available: () => boolean;
  /** Pack `tree` (its contents, as `.`) into the tar file `out`. */
  pack(tree: string, out: string): void;
}

const py = (script: string) => `python3 -c '${script.replace(/'/g, `'\\''`)}'`;

export const PACKERS: Packer[] = [
  { name: 'gnu tar (gnu format, readdir order)', available: () => have('tar'), pack: (t, o) => sh(`tar --format=gnu -cf '${o}' -C '${t}' .`) },
  {
    name: 'gnu tar (posix format, shuffled, another owner)',
    available: () => have('tar') && have('shuf'),
    pack: (t, o) => sh(`find . | shuf --random-source=/dev/zero | tar --format=posix --no-recursion --owner=builder:1000 --group=staff:50 -cf '${o}' -T -`, t),
  },
  {
    name: 'python tarfile (pax)',
    available: () => have('python3'),
    pack: (t, o) =>
      sh(py(`import tarfile,sys
def f(ti):
    ti.uid, ti.gid, ti.uname, ti.gname = 1234, 5678, "someone", "somegroup"
    return ti
with tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT) as tf: tf.add(sys.argv[1], arcname=".", filter=f)`) + ` '${t}' '${o}'`),
  },
  {
    name: 'python tarfile (gnu)',
    available: () => have('python3'),
    pack: (t, o) => sh(py(`import tarfile,sys
with tarfile.open(sys.argv[2], "w", format=tarfile.GNU_FORMAT) as tf: tf.add(sys.argv[1], arcname=".")`) + ` '${t}' '${o}'`),
  },
  { name: 'bsdtar', available: () => have('bsdtar'), pack: (t, o) => sh(`bsdtar --uid 99 --uname x --gid 98 --gname y -cf '${o}' -C '${t}' .`) },
];

export interface Compressor {
  ext: string;
  tool: string;
  /** Deliberately not our settings (other level, names, threads), so recompression shows. */
  compress: string;
  decompress: string;
}

export const COMPRESSORS: Compressor[] = [
  { ext: 'tar.gz', tool: 'gzip', compress: 'gzip -1 -c', decompress: 'gzip -dc' },
  { ext: 'tar.xz', tool: 'xz', compress: 'xz -0 -T2 -c', decompress: 'xz -dc' },
  { ext: 'tar.bz2', tool: 'bzip2', compress: 'bzip2 -1 -c', decompress: 'bzip2 -dc' },
  { ext: 'tar.zst', tool: 'zstd', compress: 'zstd -q -9 -c', decompress: 'zstd -q -dc' },
];

/** What a tree looks like on disk: one line per path with type, mode, link target, device,
 *  content digest and, for hard links, the other names of the inode. Equal listings = same tree. */
export function listTree(root: string): string[] {
  const entries: { rel: string; line: string; ino?: number }[] = [];
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    const st = fs.lstatSync(abs);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      entries.push({ rel, line: `d ${rel || '.'} ${mode}` });
      for (const e of fs.readdirSync(abs).sort()) walk(path.join(rel, e));
    } else if (st.isSymbolicLink()) entries.push({ rel, line: `l ${rel} -> ${fs.readlinkSync(abs)}` });
    else if (st.isFIFO()) entries.push({ rel, line: `p ${rel} ${mode}` });
    else if (st.isCharacterDevice()) entries.push({ rel, line: `c ${rel} ${mode} ${st.rdev}` });
    else {
      const digest = createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
      entries.push({ rel, line: `f ${rel} ${mode} ${digest}`, ino: st.nlink > 1 ? st.ino : undefined });
    }
  };
  walk('');
  const groups = new Map<number, string[]>();
  for (const e of entries) if (e.ino !== undefined) groups.set(e.ino, [...(groups.get(e.ino) ?? []), e.rel]);
  return entries.map((e) => (e.ino === undefined ? e.line : `${e.line} linked:${groups.get(e.ino)!.sort().join(',')}`)).sort();
}
