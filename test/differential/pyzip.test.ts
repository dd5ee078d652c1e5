/**
 * pyzip: Python zip applications made by `python3 -m zipapp` and by prepending a shebang to
 * a zip, normalized by the Perl tool and this port. Only `python3` shebangs are recognized,
 * as file(1) + Perl recognize them; outputs still run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithPerl, missing, PERL_TOOL, runOurs, sh, standardArgSets, tempDir, FIXTURE_T } from '../lib/helpers.js';

describe.skipIf(missing(PERL_TOOL, 'python3', 'zip'))('pyzip: parity with the Perl tool', () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'app', 'pkg'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'app', '__main__.py'), 'from pkg import greet\nprint(greet())\n');
  fs.writeFileSync(path.join(dir, 'app', 'pkg', '__init__.py'), 'def greet():\n    return "hello from a zipapp"\n');
  sh('python3 -m zipapp app -o zipapp.pyz -p "/usr/bin/env python3" && python3 -m zipapp app -o compressed.pyz -p "/usr/bin/python3" -c', dir);
  sh('cd app && zip -qr ../plain.zip . && cd .. && (echo "#!/usr/bin/python3"; cat plain.zip) > catted && (echo "#!/usr/bin/python"; cat plain.zip) > python2-shebang', dir);
  const inputs = ['zipapp.pyz', 'compressed.pyz', 'catted', 'python2-shebang'].map((f) => path.join(dir, f));

  it('normalizes python zip applications byte-identically', async () => {
    expect(await compareWithPerl(inputs, standardArgSets())).toEqual([]);
  });

  it('keeps the shebang, and the result still runs', async () => {
    const work = tempDir();
    // zipapp output (absolute offsets) is "Zip archive data" to file(1), so only -t pyzip
    // touches it; cat-style pyzips are found by detection.
    for (const [name, args] of [['catted', []], ['zipapp.pyz', ['-t', 'pyzip']], ['compressed.pyz', ['-t', 'pyzip']]] as const) {
      const f = path.join(dir, name);
      const target = path.join(work, name);
      fs.copyFileSync(f, target);
      expect((await runOurs([...args, '-T', String(FIXTURE_T), target])).status).toBe(0);
      expect(fs.readFileSync(target).equals(fs.readFileSync(f))).toBe(false);
      expect(fs.readFileSync(target).toString('latin1', 0, 2)).toBe('#!');
      expect(sh(`python3 '${target}'`)).toBe('hello from a zipapp\n');
    }
  });

  it('leaves zipapp output alone without -t, as Perl does', async () => {
    const work = tempDir();
    const target = path.join(work, 'zipapp.pyz');
    fs.copyFileSync(path.join(dir, 'zipapp.pyz'), target);
    expect((await runOurs(['-T', String(FIXTURE_T), target])).status).toBe(0);
    expect(fs.readFileSync(target).equals(fs.readFileSync(path.join(dir, 'zipapp.pyz')))).toBe(true);
  });

  it('agrees with Perl when forced with -t pyzip', async () => {
    expect(await compareWithPerl(inputs.slice(0, 3), [['-t', 'pyzip', '-T', String(FIXTURE_T)]])).toEqual([]);
  });
});
