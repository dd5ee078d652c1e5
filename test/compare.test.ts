/**
 * --identity and diff (src/app/compare/). Oracles are the real packers: one tree packed by GNU
 * tar (gnu and posix formats), bsdtar and python's tarfile, in other orders, with other owners,
 * times and compression levels; zips by Info-ZIP (-X or not, -1 or -9, other order) and python's
 * zipfile; .debs by dpkg-deb at two times and two xz levels. Equal identities there; different
 * ones when content differs; diff names exactly an injected change; nothing is written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, runBin, sh, tempDir } from './lib/helpers.js';

const identities = (files: string[]) => {
  const r = runBin(['--identity', ...files]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map((l) => l.split('  ')[0]);
};

function tree(dir: string, when: string): string {
  const t = path.join(dir, 'tree');
  fs.mkdirSync(path.join(t, 'usr/bin'), { recursive: true });
  fs.mkdirSync(path.join(t, 'usr/share/doc/p'), { recursive: true });
  fs.writeFileSync(path.join(t, 'usr/share/doc/p/README'), 'hello\n');
  fs.writeFileSync(path.join(t, 'usr/bin/hi'), '#!/bin/sh\necho hi\n');
  fs.chmodSync(path.join(t, 'usr/bin/hi'), 0o755);
  fs.symlinkSync('hi', path.join(t, 'usr/bin/hello'));
  sh(`printf 'doc doc doc\\n' | gzip -n > usr/share/doc/p/changelog.gz && find . -exec touch -h -d '${when}' {} +`, t);
  return t;
}

const sums = (files: string[]) => files.map((f) => sh(`sha256sum '${f}'`));

describe.skipIf(missing('tar', 'bsdtar', 'xz', 'gzip', 'python3'))('identity of tars packed differently', () => {
  it('GNU tar (gnu, posix), bsdtar and python tarfile, other orders, owners, times and levels: one identity', () => {
    const dir = tempDir('snd-id-tar-');
    const t = tree(path.join(dir, 'a'), '2024-01-02 03:04:05');
    const u = tree(path.join(dir, 'b'), '2025-06-07 08:09:10');
    const out = (n: string) => path.join(dir, n);
    sh(`tar --format=gnu -czf '${out('1.tar.gz')}' -C '${t}' .`);
    sh(`tar --format=posix --owner=nobody --group=nogroup --sort=name -cf - -C '${u}' ./usr | xz -9 > '${out('2.tar.xz')}'`);
    sh(`bsdtar -cf - -C '${u}' usr | gzip -1 > '${out('3.tar.gz')}'`);
    sh(`python3 -c "import tarfile,sys; t=tarfile.open(sys.argv[1],'w:xz'); t.add(sys.argv[2]+'/usr', arcname='usr'); t.close()" '${out('4.tar.xz')}' '${u}'`);
    const files = ['1.tar.gz', '2.tar.xz', '3.tar.gz', '4.tar.xz'].map(out);
    const before = sums(files);
    const ids = identities(files);
    expect(new Set(ids).size, ids.join('\n')).toBe(1);
    expect(sums(files)).toEqual(before); // nothing written
    // The identity of an artifact is the identity of its normalized form.
    const normalized = out('n.tar.gz');
    fs.copyFileSync(files[2], normalized);
    expect(runBin(['-T', '1700000000', normalized]).status).toBe(0);
    expect(identities([normalized])[0]).toBe(ids[0]);
    // Other content, other identity.
    fs.writeFileSync(path.join(u, 'usr/share/doc/p/README'), 'hellO\n');
    sh(`tar -czf '${out('5.tar.gz')}' -C '${u}' .`);
    expect(identities([out('5.tar.gz')])[0]).not.toBe(ids[0]);
    // A mode bit is content too.
    fs.writeFileSync(path.join(u, 'usr/share/doc/p/README'), 'hello\n');
    fs.chmodSync(path.join(u, 'usr/share/doc/p/README'), 0o755);
    sh(`tar -czf '${out('6.tar.gz')}' -C '${u}' .`);
    expect(identities([out('6.tar.gz')])[0]).not.toBe(ids[0]);
  });
});

describe.skipIf(missing('zip', 'python3'))('identity of zips packed differently', () => {
  it('Info-ZIP with and without extra fields, at levels 1 and 9, in other orders, and python zipfile: one identity', () => {
    const dir = tempDir('snd-id-zip-');
    const t = tree(path.join(dir, 'a'), '2024-01-02 03:04:05');
    const out = (n: string) => path.join(dir, n);
    sh(`zip -q -r -y -1 '${out('1.zip')}' usr`, t);
    sh(`zip -q -y -9 -X '${out('2.zip')}' $(find usr | sort -r)`, t);
    sh(`python3 -c "import zipfile,os,sys; z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED)
for root,dirs,files in sorted(os.walk('usr'), reverse=True):
    z.write(root)
    for f in files:
        p=os.path.join(root,f)
        if os.path.islink(p):
            i=zipfile.ZipInfo(p); i.external_attr=(0o120777<<16); z.writestr(i, os.readlink(p))
        else: z.write(p)
z.close()" '${out('3.zip')}'`, t);
    const files = ['1.zip', '2.zip', '3.zip'].map(out);
    const ids = identities(files);
    expect(new Set(ids).size, ids.join('\n')).toBe(1);
  });
});

describe.skipIf(missing('dpkg-deb', 'jar'))('diff', () => {
  function deb(dir: string, when: string, level: string, edit?: (root: string) => void): string {
    const root = path.join(dir, 'pkg');
    fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
    fs.writeFileSync(path.join(root, 'DEBIAN/control'), 'Package: p\nVersion: 1\nArchitecture: all\nMaintainer: M <m@example.org>\nDescription: d\n');
    const java = path.join(root, 'usr/share/java');
    fs.mkdirSync(java, { recursive: true });
    const jarDir = path.join(dir, 'jar');
    fs.mkdirSync(path.join(jarDir, 'META-INF'), { recursive: true });
    fs.mkdirSync(path.join(jarDir, 'org'), { recursive: true });
    fs.writeFileSync(path.join(jarDir, 'org', 'A.class'), 'class bytes');
    fs.writeFileSync(path.join(dir, 'manifest'), 'Implementation-Title: demo\n');
    fs.mkdirSync(path.join(root, 'usr/share/doc/p'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/share/doc/p/README'), 'readme\n');
    edit?.(root);
    sh(`faketime '${when}' jar cfm '${java}/x.jar' '${dir}/manifest' -C '${jarDir}' org`);
    edit?.(root);
    const out = path.join(dir, 'p.deb');
    sh(`find '${root}' -exec touch -h -d '${when}' {} + && dpkg-deb --root-owner-group -Zxz -z${level} --build '${root}' '${out}' >/dev/null`);
    return out;
  }

  it('two builds at other times and xz levels: identical after normalization, equal identities', () => {
    const a = deb(tempDir('snd-diff-a-'), '2024-01-02 03:04:05', '1');
    const b = deb(tempDir('snd-diff-b-'), '2025-06-07 08:09:10', '9');
    const before = sums([a, b]);
    const r = runBin(['diff', a, b]);
    expect(r.stdout.trim(), r.stderr).toBe('identical after normalization');
    expect(r.status).toBe(0);
    const ids = identities([a, b]);
    expect(ids[0]).toBe(ids[1]);
    expect(sums([a, b])).toEqual(before);
  });

  it('names exactly each injected change: a byte in a nested member, a mode bit, an extra file', () => {
    const a = deb(tempDir('snd-diff-a-'), '2024-01-02 03:04:05', '6');
    let first = true;
    const b = deb(tempDir('snd-diff-b-'), '2025-06-07 08:09:10', '6', (root) => {
      if (!first) return;
      first = false;
      fs.writeFileSync(path.join(path.dirname(path.dirname(root)), path.basename(path.dirname(root)), 'manifest'), 'Implementation-Title: dEmo\n');
      fs.chmodSync(path.join(root, 'usr/share/doc/p/README'), 0o755);
      fs.writeFileSync(path.join(root, 'usr/share/doc/p/NEWS'), 'news\n');
    });
    const r = runBin(['diff', a, b]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout.trim().split('\n').sort()).toEqual([
      'p.deb/data.tar.xz/usr/share/doc/p/NEWS: only in the second',
      'p.deb/data.tar.xz/usr/share/doc/p/README: mode 644 vs 755',
      expect.stringMatching(/^p\.deb\/data\.tar\.xz\/usr\/share\/java\/x\.jar\/META-INF\/MANIFEST\.MF: content differs at offset \d+ \(sizes \d+ and \d+\): ".*demo.*" vs ".*dEmo.*"$/),
    ]);
    const json = JSON.parse(runBin(['diff', '--json', a, b]).stdout);
    expect(json.identical).toBe(false);
    expect(json.differences.map((d: { kind: string }) => d.kind).sort()).toEqual(['content', 'mode', 'only-second']);
  });

  it('bad input: the clean error normalizing gives, exit 2; --identity exits 255', () => {
    const dir = tempDir('snd-diff-bad-');
    const t = tree(path.join(dir, 'a'), '2024-01-02 03:04:05');
    sh(`tar -czf '${dir}/good.tar.gz' -C '${t}' . && head -c 300 '${dir}/good.tar.gz' > '${dir}/bad.tar.gz'`);
    const r = runBin(['diff', path.join(dir, 'good.tar.gz'), path.join(dir, 'bad.tar.gz')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(path.join(dir, 'bad.tar.gz'));
    const n = runBin([path.join(dir, 'bad.tar.gz')]);
    expect(n.status).toBe(255);
    const i = runBin(['--identity', path.join(dir, 'bad.tar.gz')]);
    expect(i.status).toBe(255);
    expect(i.stderr).toContain(path.join(dir, 'bad.tar.gz'));
  });

  it('trees: a line per file and symlink, one for the tree; diff of trees names the file and member', () => {
    const dir = tempDir('snd-diff-tree-');
    const t = tree(path.join(dir, 'a'), '2024-01-02 03:04:05');
    const u = tree(path.join(dir, 'b'), '2025-06-07 08:09:10');
    const r = runBin(['--identity', t]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split('  ')[1])).toEqual([...['usr/bin/hello', 'usr/bin/hi', 'usr/share/doc/p/README', 'usr/share/doc/p/changelog.gz'].map((p) => path.join(t, p)), `${t}/`]);
    expect(runBin(['--identity', u]).stdout.trim().split('\n').pop()!.split('  ')[0]).toBe(lines.pop()!.split('  ')[0]);
    sh(`printf 'doc Doc doc\\n' | gzip -9 > usr/share/doc/p/changelog.gz`, u);
    const d = runBin(['diff', t, u]);
    expect(d.status).toBe(1);
    expect(d.stdout.trim()).toMatch(/^usr\/share\/doc\/p\/changelog\.gz: content differs at offset 4 \(sizes 12 and 12\): "doc doc doc\\n" vs "doc Doc doc\\n"$/);
  });
});
