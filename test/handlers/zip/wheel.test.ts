/**
 * Wheels (handlers/zip/wheel.ts). A real wheel with a C extension, built by Debian's setuptools
 * and wheel with -g in a build directory (the path is in the .so's DWARF), normalized with
 * --build-path: the .so changes, and python checks every RECORD line against the members
 * (PEP 376: urlsafe base64 sha256 without padding, and the size). `unzip -t` reads the result.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missing, runBin, sh, tempDir } from '../../lib/helpers.js';

const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// Prints each RECORD line that does not match its member, and the members RECORD lacks.
const CHECK_RECORD = `
import base64, csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
record = [n for n in z.namelist() if n.endswith('.dist-info/RECORD')][0]
listed = set()
for row in csv.reader(io.StringIO(z.read(record).decode())):
    path, digest, size = row
    listed.add(path)
    if not digest: continue
    algo, value = digest.split('=', 1)
    data = z.read(path)
    want = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b'=').decode()
    if value != want or int(size) != len(data): print('mismatch', path)
for n in z.namelist():
    if n not in listed: print('unlisted', n)
`;

function buildWheel(dir: string): string {
  fs.writeFileSync(path.join(dir, 'setup.py'), "from setuptools import setup, Extension\nsetup(name='spam', version='1.0', packages=['spam'], ext_modules=[Extension('spam._speed', ['speed.c'])])\n");
  fs.mkdirSync(path.join(dir, 'spam'));
  fs.writeFileSync(path.join(dir, 'spam', '__init__.py'), 'from ._speed import twice\n');
  fs.writeFileSync(path.join(dir, 'speed.c'), '#include <Python.h>\nstatic PyObject *twice(PyObject *s, PyObject *a) { return PyNumber_Add(a, a); }\nstatic PyMethodDef m[] = {{"twice", twice, METH_O, ""}, {0}};\nstatic struct PyModuleDef d = {PyModuleDef_HEAD_INIT, "_speed", 0, -1, m};\nPyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&d); }\n');
  sh(`CFLAGS='-g -O0' ${PYTHON} setup.py -q bdist_wheel 2>&1`, dir);
  const dist = path.join(dir, 'dist');
  return path.join(dist, fs.readdirSync(dist).find((n) => n.endsWith('.whl'))!);
}

describe.skipIf(missing('gcc', 'unzip') ?? (spawnSync(PYTHON, ['-c', 'import setuptools, wheel']).status !== 0 ? (console.warn('skipped: python3-setuptools and python3-wheel not installed'), 'no wheel') : undefined))('wheels', () => {
  it('a member changed by --build-path gets its RECORD line updated; every line matches its member', () => {
    const build = tempDir('snd-wheel-build-');
    const wheel = buildWheel(build);
    const py = (script: string, ...args: string[]) => spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
    expect(py(CHECK_RECORD, wheel).stdout).toBe(''); // the producer's RECORD is right
    const before = fs.readFileSync(wheel);
    expect(before.includes(Buffer.from(build))).toBe(false); // compressed: the path is inside the .so
    const soBefore = py("import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print([z.read(n).count(sys.argv[2].encode()) for n in z.namelist() if n.endswith('.so')][0])", wheel, build).stdout.trim();
    expect(Number(soBefore)).toBeGreaterThan(0);
    const r = runBin(['-T', '1700000000', '--build-path', build, wheel]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(wheel).equals(before)).toBe(false);
    const soAfter = py("import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print([z.read(n).count(sys.argv[2].encode()) for n in z.namelist() if n.endswith('.so')][0])", wheel, build).stdout.trim();
    expect(soAfter).toBe('0');
    expect(py(CHECK_RECORD, wheel).stdout).toBe('');
    expect(spawnSync('unzip', ['-tq', wheel]).status).toBe(0);
    // The extension still imports from the normalized wheel.
    const site = tempDir('snd-wheel-site-');
    sh(`cd '${site}' && unzip -q '${wheel}'`);
    expect(spawnSync(PYTHON, ['-c', 'import spam; print(spam.twice(21))'], { cwd: site, encoding: 'utf8' }).stdout).toBe('42\n');
  });

  it('without changed members RECORD is untouched (Perl parity: only the zip structure changes)', () => {
    const wheel = buildWheel(tempDir('snd-wheel-build-'));
    const perlCopy = `${wheel}.perl.whl`;
    fs.copyFileSync(wheel, perlCopy);
    expect(runBin(['-T', '1700000000', wheel]).status).toBe(0);
    if (!missing('/usr/bin/strip-nondeterminism')) {
      expect(spawnSync('/usr/bin/strip-nondeterminism', ['-T', '1700000000', perlCopy]).status).toBe(0);
      expect(fs.readFileSync(wheel).equals(fs.readFileSync(perlCopy))).toBe(true);
    }
  });
});
