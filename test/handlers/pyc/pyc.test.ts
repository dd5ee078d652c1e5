/**
 * .pyc (issues 8 and 16). Oracles: add-determinism's own cases (its bytes, from ../shared, or
 * ADD_DETERMINISM_CASES for a directory of the same layout), and the CPythons here: the same
 * modules compiled twice, once with extra references held on their constants (which flips
 * marshal's FLAG_REF decisions), must normalize to identical bytes, and each version's marshal
 * loads every result into a code object equal to the original's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, missing, runBin, sh, tempDir } from '../../lib/helpers.js';

// fixtures/pyc/compile.py OUTDIR MODE SOURCE...: plain, hold (FLAG_REF flipped) or hash.
const COMPILE_PY = path.join(FIXTURES, 'pyc', 'compile.py');

// Loads each .pyc in two directories; prints the names whose code objects differ.
const SAME_CODE = `
import marshal, sys, os
a, b = sys.argv[1:]
skip = 16 if sys.version_info >= (3, 7) else 12
for n in sorted(os.listdir(a)):
    if not n.endswith('.pyc'): continue
    x = marshal.loads(open(os.path.join(a, n), 'rb').read()[skip:])
    y = marshal.loads(open(os.path.join(b, n), 'rb').read()[skip:])
    if x != y: print(n)
`;

const py = (script: string, args: string[], cwd?: string) => {
  const r = spawnSync('python3', script === COMPILE_PY ? [script, ...args] : ['-c', script, ...args], { encoding: 'utf8', cwd });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};

function stdlibSample(): string[] {
  const dir = sh(`python3 -c 'import os, sysconfig; print(sysconfig.get_paths()["stdlib"])'`).trim();
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .slice(0, 120)
    .map((f) => path.join(dir, f));
}

/** A CPython of this version, if the machine has one (python3.X on PATH, or pyenv's) that runs. */
function interpreter(version: string): string | undefined {
  const pyenv = '/root/.pyenv/versions';
  const dir = fs.existsSync(pyenv) ? fs.readdirSync(pyenv).find((d) => d.startsWith(`${version}.`)) : undefined;
  const candidates = [...(dir ? [path.join(pyenv, dir, 'bin', 'python')] : []), `python${version}`];
  return candidates.find((c) => spawnSync(c, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).stdout?.trim() === version);
}

describe('.pyc from CPython 3.6 to 3.13 (fixtures/pyc: compiled twice by each, FLAG_REF flipped)', () => {
  const versions = fs.readdirSync(path.join(FIXTURES, 'pyc')).filter((d) => /^3\.\d+$/.test(d));
  it('has every version', () => expect(versions.sort()).toEqual(['3.10', '3.11', '3.12', '3.13', '3.6', '3.7', '3.8', '3.9']));
  for (const v of ['3.6', '3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13']) {
    it(`CPython ${v}: both compilations normalize to the same bytes, header kept`, () => {
      const dir = tempDir(`snd-pyc-${v}-`);
      const files = ['plain', 'hold'].map((m) => {
        const f = path.join(dir, `${m}.pyc`);
        fs.copyFileSync(path.join(FIXTURES, 'pyc', v, m, 'sample.pyc'), f);
        return f;
      });
      expect(fs.readFileSync(files[0]).equals(fs.readFileSync(files[1]))).toBe(false);
      const r = runBin(files);
      expect(r.status, r.stderr).toBe(0);
      const [a, b] = files.map((f) => fs.readFileSync(f));
      expect(a.equals(b)).toBe(true);
      const header = v === '3.6' ? 12 : 16;
      expect(a.subarray(0, header).equals(fs.readFileSync(path.join(FIXTURES, 'pyc', v, 'plain', 'sample.pyc')).subarray(0, header))).toBe(true);
      // That version's marshal reads back a code object equal to the original's, where it exists here.
      const python = interpreter(v);
      if (!python) {
        console.warn(`pyc ${v}: no python${v} here to load the result (the byte comparison above still ran)`);
        return;
      }
      const check = `import marshal,sys\na=marshal.loads(open(sys.argv[1],"rb").read()[${header}:])\nb=marshal.loads(open(sys.argv[2],"rb").read()[${header}:])\nprint(a==b)`;
      expect(spawnSync(python, ['-c', check, path.join(FIXTURES, 'pyc', v, 'hold', 'sample.pyc'), files[1]], { encoding: 'utf8' }).stdout).toBe('True\n');
    });
  }
});

describe.skipIf(missing('python3'))('.pyc', () => {
  it('two compilations that flip FLAG_REF normalize to identical bytes; code objects unchanged', () => {
    const sources = stdlibSample();
    const dirs = ['plain', 'hold'].map((mode) => {
      const d = tempDir(`snd-pyc-${mode}-`);
      py(COMPILE_PY, [d, mode, ...sources]);
      return d;
    });
    const originals = tempDir('snd-pyc-orig-');
    sh(`cp -a '${dirs[0]}/.' '${originals}/'`);
    const names = fs.readdirSync(dirs[0]).sort();
    expect(names.length).toBeGreaterThan(100);
    const differBefore = names.filter((n) => !fs.readFileSync(path.join(dirs[0], n)).equals(fs.readFileSync(path.join(dirs[1], n))));
    expect(differBefore.length).toBeGreaterThan(50); // the flip is real
    for (const d of dirs) {
      const r = runBin([d]);
      expect(r.status, r.stderr).toBe(0);
    }
    const differAfter = names.filter((n) => !fs.readFileSync(path.join(dirs[0], n)).equals(fs.readFileSync(path.join(dirs[1], n))));
    expect(differAfter).toEqual([]);
    // marshal reads the normalized files back into the same code objects.
    expect(py(SAME_CODE, [originals, dirs[0]])).toBe('');
    // Headers are kept.
    for (const n of names) expect(fs.readFileSync(path.join(dirs[0], n)).subarray(0, 16).equals(fs.readFileSync(path.join(originals, n)).subarray(0, 16))).toBe(true);
  });

  it('the normalized module imports and runs', () => {
    const dir = tempDir('snd-pyc-run-');
    fs.writeFileSync(path.join(dir, 'mod.py'), 'NAMES = ("a", "b", "a")\ndef f(x, *, y="hello"):\n    return [x, y, "hello", NAMES, 2**70]\nprint(f(1))\n');
    py(COMPILE_PY, [dir, 'hold', path.join(dir, 'mod.py')]);
    const before = fs.readFileSync(path.join(dir, 'mod.pyc'));
    expect(runBin([path.join(dir, 'mod.pyc')]).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'mod.pyc')).equals(before)).toBe(false);
    fs.rmSync(path.join(dir, 'mod.py'));
    expect(sh(`python3 mod.pyc`, dir)).toBe("[1, 'hello', 'hello', ('a', 'b', 'a'), 1180591620717411303424]\n");
    // Already normalized: left alone.
    const again = runBin(['--check', path.join(dir, 'mod.pyc')]);
    expect(again.status).toBe(0);
  });

  it('--pyc-zero-mtime zeroes the source mtime, and the mtime of the .py beside the file (add-determinism)', () => {
    const dir = tempDir('snd-pyc-mtime-');
    for (const m of ['m', 'n', 'c', 'l']) fs.writeFileSync(path.join(dir, `${m}.py`), 'x = 1\n');
    fs.mkdirSync(path.join(dir, '__pycache__'));
    const sources = ['m', 'n', 'c', 'l'].map((m) => path.join(dir, `${m}.py`));
    py(COMPILE_PY, [dir, 'plain', ...sources]);
    py(COMPILE_PY, [path.join(dir, '__pycache__'), 'plain', path.join(dir, 'c.py')]);
    fs.renameSync(path.join(dir, '__pycache__', 'c.pyc'), path.join(dir, '__pycache__', 'c.cpython-311.pyc'));
    // n.py is a symlink to a file elsewhere: not followed.
    const elsewhere = path.join(tempDir('snd-pyc-else-'), 'n.py');
    fs.renameSync(path.join(dir, 'n.py'), elsewhere);
    fs.symlinkSync(elsewhere, path.join(dir, 'n.py'));
    const mtime = (f: string) => fs.lstatSync(f).mtimeMs;
    const before = { c: mtime(path.join(dir, 'c.py')), l: mtime(path.join(dir, 'l.py')), n: mtime(elsewhere) };
    const r = runBin(['--pyc-zero-mtime', path.join(dir, 'm.pyc'), path.join(dir, 'n.pyc'), path.join(dir, '__pycache__', 'c.cpython-311.pyc')]);
    expect(r.status, r.stderr).toBe(0);
    const out = fs.readFileSync(path.join(dir, 'm.pyc'));
    expect(out.readUInt32LE(8)).toBe(0);
    expect(out.readUInt32LE(12)).toBe(6); // source size kept
    expect(mtime(path.join(dir, 'm.py'))).toBe(0); // the source beside it
    expect(mtime(elsewhere)).toBe(before.n); // a symlink is not followed
    expect(mtime(path.join(dir, 'c.py'))).toBe(before.c); // __pycache__/c.py does not exist: nothing
    expect(mtime(path.join(dir, 'l.py'))).toBe(before.l); // its .pyc was not an operand
    expect(fs.readFileSync(path.join(dir, '__pycache__', 'c.cpython-311.pyc')).readUInt32LE(8)).toBe(0);
    expect(py('import marshal,sys; exec(marshal.loads(open(sys.argv[1],"rb").read()[16:])); print(x)', [path.join(dir, 'm.pyc')])).toBe('1\n');
    // Without the option nothing of the sort happens.
    fs.utimesSync(path.join(dir, 'l.py'), 5, 5);
    expect(runBin([path.join(dir, 'l.pyc')]).status).toBe(0);
    expect(mtime(path.join(dir, 'l.py'))).toBe(5000);
    expect(fs.readFileSync(path.join(dir, 'l.pyc')).readUInt32LE(8)).toBe(1700000000);
  });

  it('leaves hash-based files (PEP 552) alone with a warning, as add-determinism refuses them', () => {
    const dir = tempDir('snd-pyc-hash-');
    fs.writeFileSync(path.join(dir, 'm.py'), 'x = ("a", "b")\n');
    py(COMPILE_PY, [dir, 'hash', path.join(dir, 'm.py')]);
    const hashed = fs.readFileSync(path.join(dir, 'm.pyc'));
    expect(hashed.readUInt32LE(4)).toBe(3); // flags: checked hash
    const r = runBin(['--pyc-zero-mtime', path.join(dir, 'm.pyc')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('hash-based');
    expect(fs.readFileSync(path.join(dir, 'm.pyc')).equals(hashed)).toBe(true);
  });

  it('rejects truncated and corrupt files, unchanged; leaves other .pyc-named files alone', () => {
    const dir = tempDir('snd-pyc-bad-');
    fs.writeFileSync(path.join(dir, 'm.py'), 'x = ("a", "b")\n');
    py(COMPILE_PY, [dir, 'hold', path.join(dir, 'm.py')]);
    const good = fs.readFileSync(path.join(dir, 'm.pyc'));
    const cases: [string, Buffer][] = [
      ['truncated', good.subarray(0, good.length - 5)],
      ['unknown type', Buffer.concat([good.subarray(0, 16), Buffer.from([0x3f]), good.subarray(17)])],
    ];
    for (const [what, bytes] of cases) {
      const f = path.join(dir, `${what.replace(' ', '-')}.pyc`);
      fs.writeFileSync(f, bytes);
      const r = runBin([f]);
      expect(r.status, what).toBe(255);
      expect(r.stderr).toContain(f);
      expect(fs.readFileSync(f).equals(bytes), what).toBe(true);
    }
    // Bytes after the marshal data, which CPython ignores, are dropped (add-determinism does too).
    const trailing = path.join(dir, 'trailing.pyc');
    fs.writeFileSync(trailing, Buffer.concat([good, Buffer.from('xx')]));
    fs.copyFileSync(path.join(dir, 'm.pyc'), path.join(dir, 'plain.pyc'));
    const r = runBin([trailing, path.join(dir, 'plain.pyc')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('2 bytes after the marshal data');
    expect(fs.readFileSync(trailing).equals(fs.readFileSync(path.join(dir, 'plain.pyc')))).toBe(true);
    // A marshal type CPython 3 loads but never writes into a .pyc (a dict): left alone, warned.
    const dict = path.join(dir, 'dict.pyc');
    fs.writeFileSync(dict, Buffer.concat([good.subarray(0, 16), Buffer.from(py('import marshal,sys; sys.stdout.write(marshal.dumps({"a": 1}).hex())', []), 'hex')]));
    const kept = fs.readFileSync(dict);
    const d = runBin([dict]);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stderr).toContain('a dict');
    expect(fs.readFileSync(dict).equals(kept)).toBe(true);
    const py2 = path.join(dir, 'old.pyc');
    fs.writeFileSync(py2, Buffer.from('03f30d0a00000000', 'hex')); // Python 2.7 magic
    expect(runBin([py2]).status).toBe(0);
    expect(fs.readFileSync(py2).toString('hex')).toBe('03f30d0a00000000');
  });
});

// Writes mutants of one .pyc into OUTDIR: FLAG_REF set on a TYPE_REF or a singleton byte, kept
// only where CPython still loads a code object equal to the original (CPython is the judge).
const FLAGGED_MUTANTS = `
import importlib._bootstrap_external as be, marshal, os, sys
out = sys.argv[1]
src = "A = ('x', 'x', None, True)\\ndef f(a, b=None):\\n    return (a, b, 'x', None, ...)\\nclass C:\\n    def g(self): return f(1) or None\\n"
code = compile(src, 'm.py', 'exec')
pyc = bytes(be._code_to_timestamp_pyc(code, 0, len(src)))
kinds = {ord('r'): 'ref', ord('N'): 'none', ord('T'): 'true', ord('.'): 'ellipsis'}
made = {}
for i in range(16, len(pyc)):
    kind = kinds.get(pyc[i])
    if kind is None or made.get(kind, 0) >= 4: continue
    m = bytearray(pyc); m[i] |= 0x80
    try:
        if marshal.loads(bytes(m[16:])) != code: continue
    except Exception:
        continue
    made[kind] = made.get(kind, 0) + 1
    open(os.path.join(out, '%s-%d.pyc' % (kind, i)), 'wb').write(m)
print(' '.join(sorted(made)))
`;

describe.skipIf(missing('python3'))('FLAG_REF where CPython ignores it', () => {
  it('on a TYPE_REF or a singleton: every output still loads in CPython as the same code object', () => {
    const dir = tempDir('snd-pyc-flag-');
    const kinds = py(FLAGGED_MUTANTS, [dir]).trim().split(' ');
    expect(kinds).toContain('ref');
    const mutants = fs.readdirSync(dir).filter((n) => n.endsWith('.pyc'));
    const originals = tempDir('snd-pyc-orig-');
    for (const n of mutants) fs.copyFileSync(path.join(dir, n), path.join(originals, n));
    const r = runBin(['-T', '0', ...mutants.map((n) => path.join(dir, n))]);
    expect(r.status, r.stderr).toBe(0);
    // Each output loads and equals its input's code object (SAME_CODE prints the names that differ).
    expect(py(SAME_CODE, [originals, dir])).toBe('');
    const again = runBin(['--check', '-T', '0', dir]);
    expect(again.status, again.stdout).toBe(0);
  });
});

/** add-determinism's own cases: X.pyc becomes X.pyc.fixed, or stays as it is without one. */
const CASES = process.env.ADD_DETERMINISM_CASES ?? path.join(ROOT, '..', 'shared', 'fixtures', 'add-determinism-0.7.3-pyc');

describe.skipIf(!fs.existsSync(CASES) && (console.warn(`skipped: no add-determinism cases at ${CASES}`), true))("add-determinism's .pyc cases: byte for byte", () => {
  const versions = fs.existsSync(CASES) ? fs.readdirSync(CASES).filter((d) => /^3\.\d+$/.test(d)).sort() : [];
  const work = tempDir('snd-pyc-cases-');
  const originals = tempDir('snd-pyc-cases-orig-');
  const names = (v: string) => fs.readdirSync(path.join(CASES, v)).filter((n) => n.endsWith('.pyc'));

  it('every X.pyc becomes exactly X.pyc.fixed (or stays unchanged), and a second pass changes nothing', () => {
    expect(versions).toEqual(expect.arrayContaining(['3.6', '3.14']));
    for (const v of versions) {
      for (const d of [work, originals]) fs.mkdirSync(path.join(d, v));
      for (const n of names(v)) {
        fs.copyFileSync(path.join(CASES, v, n), path.join(work, v, n));
        fs.copyFileSync(path.join(CASES, v, n), path.join(originals, v, n));
      }
    }
    const r = runBin([work]);
    expect(r.status, r.stderr).toBe(0);
    const wrong: string[] = [];
    let count = 0;
    for (const v of versions) {
      for (const n of names(v)) {
        count++;
        const fixed = path.join(CASES, v, `${n}.fixed`);
        const want = fs.readFileSync(fs.existsSync(fixed) ? fixed : path.join(CASES, v, n));
        if (!fs.readFileSync(path.join(work, v, n)).equals(want)) wrong.push(`${v}/${n}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(count).toBeGreaterThanOrEqual(288);
    const again = runBin(['--check', work]);
    expect(again.status, again.stdout).toBe(0);
  });

  it("every output loads in its own CPython (where this machine has it) as the input's code object", () => {
    let checked = 0;
    for (const v of versions) {
      const python = interpreter(v);
      if (!python) {
        console.warn(`add-determinism cases ${v}: no python${v} here to load them (the bytes were compared)`);
        continue;
      }
      const r = spawnSync(python, ['-c', SAME_CODE, path.join(originals, v), path.join(work, v)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout, v).toBe('');
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(1); // python3 (3.11) at least
  });
});
