/**
 * Generators of zip-family inputs for the differential suites, using real tools: Info-ZIP
 * `zip` (with and without -X, -y, -0, -9, -fz), python's zipfile, yazl, and the JDK's `jar`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import yazl from 'yazl';
import { have, sh } from './helpers.js';

/** A small tree with the cases that matter: nested dirs, an empty dir and file, an
 *  executable, a symlink, a non-ASCII name, a name with a space, a 64 KiB member. */
export function makeTree(dir: string): string {
  const t = path.join(dir, 'tree');
  fs.mkdirSync(path.join(t, 'sub', 'deeper'), { recursive: true });
  fs.mkdirSync(path.join(t, 'emptydir'));
  fs.writeFileSync(path.join(t, 'a.txt'), 'hello\n');
  fs.writeFileSync(path.join(t, 'big.txt'), 'reproducible '.repeat(5000));
  fs.writeFileSync(path.join(t, 'random.bin'), Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 2654435761) >>> 24)));
  fs.writeFileSync(path.join(t, 'empty'), '');
  fs.writeFileSync(path.join(t, 'run.sh'), '#!/bin/sh\necho hi\n');
  fs.chmodSync(path.join(t, 'run.sh'), 0o755);
  fs.symlinkSync('a.txt', path.join(t, 'link'));
  fs.writeFileSync(path.join(t, 'ünïcode.txt'), 'ü\n');
  fs.writeFileSync(path.join(t, 'sub', 'deeper', 'z z.txt'), 'z\n');
  sh(`find . -exec touch -h -d @1600000000 {} +`, t);
  return t;
}

/** Archives of `tree` made by Info-ZIP zip and python; returns their paths. */
export function infoZipAndPython(dir: string, tree: string): string[] {
  const out: string[] = [];
  const zip = (name: string, flags: string) => {
    sh(`zip -q ${flags} '${path.join(dir, name)}' .`, tree);
    out.push(path.join(dir, name));
  };
  if (have('zip')) {
    zip('plain.zip', '-r');
    zip('no-extra.zip', '-rX');
    zip('stored.zip', '-r0');
    zip('best.zip', '-r9');
    zip('zip64.zip', '-r -fz');
    zip('with-symlink.whl', '-r -y');
  }
  const py = path.join(dir, 'py.py');
  fs.writeFileSync(
    py,
    `import zipfile, os, sys
d, tree = sys.argv[1], sys.argv[2]
os.chdir(tree)
with zipfile.ZipFile(os.path.join(d, 'python.zip'), 'w', zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in sorted(os.walk('.')):
        for n in sorted(dirs): z.write(os.path.join(root, n))
        for n in sorted(files): z.write(os.path.join(root, n))
with zipfile.ZipFile(os.path.join(d, 'python-stored.epub'), 'w') as z:
    z.writestr('mimetype', 'application/epub+zip')
    z.writestr('META-INF/container.xml', '<container/>')
    z.writestr('OEBPS/a.xhtml', '<html/>' * 50, zipfile.ZIP_DEFLATED)
with zipfile.ZipFile(os.path.join(d, 'comments.zip'), 'w', zipfile.ZIP_DEFLATED) as z:
    z.comment = b'archive comment'
    zi = zipfile.ZipInfo('x.txt', (2001, 1, 1, 0, 0, 0)); zi.comment = b'member comment'; z.writestr(zi, 'x' * 50)
    zi = zipfile.ZipInfo('old.txt', (1980, 1, 1, 0, 0, 0)); z.writestr(zi, 'old')
    zi = zipfile.ZipInfo('dos.txt', (2010, 5, 5, 5, 5, 5)); zi.create_system = 0; zi.external_attr = 0x20; z.writestr(zi, 'dos')
    zi = zipfile.ZipInfo('unix-nomode.txt', (2010, 5, 5, 5, 5, 5)); zi.create_system = 3; zi.external_attr = 0; z.writestr(zi, 'no mode')
    z.writestr('dup.txt', 'first'); z.writestr('dup.txt', 'second')
with zipfile.ZipFile(os.path.join(d, 'streamed.zip'), 'w', zipfile.ZIP_DEFLATED) as z:
    pass
import io
buf = io.BytesIO()
class Unseekable(io.RawIOBase):
    def writable(self): return True
    def write(self, b): buf.write(b); return len(b)
with zipfile.ZipFile(Unseekable(), 'w', zipfile.ZIP_DEFLATED) as z:
    with z.open('descriptor.txt', 'w') as f: f.write(b'written through a data descriptor ' * 20)
    with z.open('empty-descriptor.txt', 'w') as f: pass
open(os.path.join(d, 'streamed.zip'), 'wb').write(buf.getvalue())
`,
  );
  sh(`python3 '${py}' '${dir}' '${tree}'`);
  out.push(...['python.zip', 'python-stored.epub', 'comments.zip', 'streamed.zip'].map((n) => path.join(dir, n)));
  return out;
}

/** An archive written by yazl (streamed with data descriptors, no local extra fields). */
export async function yazlZip(file: string, entries: [string, Buffer | null, number?][]): Promise<string> {
  const z = new yazl.ZipFile();
  for (const [name, data, mode] of entries) {
    if (data === null) z.addEmptyDirectory(name, { mtime: new Date(1600000000000) });
    else z.addBuffer(data, name, { mtime: new Date(1600000000000), mode: mode ?? 0o100644, compress: data.length > 10 });
  }
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream) chunks.push(c as Buffer);
  fs.writeFileSync(file, Buffer.concat(chunks));
  return file;
}
