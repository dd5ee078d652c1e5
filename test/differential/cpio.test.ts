/**
 * cpio: archives from GNU cpio in every -H format it writes (newc, odc, crc, bin) over a tree
 * with directories, hard links, a symlink, an empty file and odd names; the Perl tool's
 * output is the oracle, and `cpio -t`/`cpio -i` read outputs back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareWithPerl, missing, PERL_TOOL, runOurs, sh, standardArgSets, tempDir, FIXTURE_T } from '../lib/helpers.js';

const skip = missing(PERL_TOOL, 'cpio');
const FORMATS = ['newc', 'odc', 'crc', 'bin'];

describe.skipIf(skip)('cpio: parity with the Perl tool', () => {
  const dir = tempDir();
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(path.join(tree, 'sub dir'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'a.txt'), 'hello\n');
  fs.writeFileSync(path.join(tree, 'sub dir', 'odd-3'), 'abc');
  fs.writeFileSync(path.join(tree, 'empty'), '');
  fs.writeFileSync(path.join(tree, 'big.bin'), Buffer.alloc(70000, 7));
  fs.writeFileSync(path.join(tree, 'ünïcode name'), 'x');
  fs.linkSync(path.join(tree, 'a.txt'), path.join(tree, 'hardlink'));
  fs.symlinkSync('a.txt', path.join(tree, 'link'));
  sh("find . -exec touch -h -d @1500000000 {} + && touch -d @1300000000 a.txt", tree);
  const inputs = FORMATS.map((f) => {
    const out = path.join(dir, `${f}.cpio`);
    sh(`find . | LC_ALL=C sort | cpio --quiet -o -H ${f} > '${out}'`, tree);
    return out;
  });
  // Data after the trailer, and a single-entry archive with no directory.
  fs.writeFileSync(path.join(dir, 'trailing.cpio'), Buffer.concat([fs.readFileSync(inputs[0]), Buffer.from('junk after the archive')]));
  sh(`echo a.txt | cpio --quiet -o -H odc > '${path.join(dir, 'single.cpio')}'`, tree);
  inputs.push(path.join(dir, 'trailing.cpio'), path.join(dir, 'single.cpio'));

  it('normalizes newc, odc, crc and bin archives byte-identically', async () => {
    expect(await compareWithPerl(inputs, standardArgSets())).toEqual([]);
  });

  it('outputs list and extract the same tree', async () => {
    for (const f of ['newc', 'odc', 'bin']) {
      const work = tempDir();
      const target = path.join(work, `${f}.cpio`);
      fs.copyFileSync(path.join(dir, `${f}.cpio`), target);
      const before = sh(`cpio --quiet -it < '${target}'`);
      expect((await runOurs(['-T', String(FIXTURE_T), target])).status).toBe(0);
      expect(sh(`cpio --quiet -it < '${target}'`)).toBe(before);
      fs.mkdirSync(path.join(work, 'x'));
      sh(`cpio --quiet -idm < '${target}'`, path.join(work, 'x'));
      expect(sh(`find . -type f | LC_ALL=C sort | xargs -d '\\n' sha256sum`, path.join(work, 'x'))).toBe(
        sh(`find . -type f | LC_ALL=C sort | xargs -d '\\n' sha256sum`, tree),
      );
      expect(fs.readlinkSync(path.join(work, 'x', 'link'))).toBe('a.txt');
      expect(fs.statSync(path.join(work, 'x', 'a.txt')).mtimeMs / 1000).toBe(FIXTURE_T);
    }
  });

  it('accepts an empty archive, which Perl dies on (docs/compat.md)', async () => {
    for (const f of ['newc', 'odc']) {
      const work = tempDir();
      const [ours, perl] = ['ours', 'perl'].map((who) => path.join(work, `${who}-${f}.cpio`));
      sh(`cpio --quiet -o -H ${f} < /dev/null > '${ours}' && cp '${ours}' '${perl}'`);
      expect((await runOurs(['-T', String(FIXTURE_T), ours])).status).toBe(0);
      expect(sh(`cpio --quiet -it < '${ours}'`)).toBe('');
      const r = spawnSync(PERL_TOOL, ['-T', String(FIXTURE_T), perl], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(255);
      expect(r.stderr).toMatch(/undefined value as an ARRAY reference/);
    }
  });
});
