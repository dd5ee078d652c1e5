/**
 * The upstream strip-nondeterminism test suite's fixtures, run through bin/ exactly as the
 * upstream harness runs them: `-T 1423159771 --normalizers +all FILE` must turn X.in into the
 * bytes of X.out; files under failures/ must be rejected and left untouched.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURE_T, UPSTREAM, runBin, tempDir } from './lib/helpers.js';
import { NORMALIZER_NAMES } from '../src/app/registry.js';

// The fixture directory names the format; zip-family directories arrive with their handlers.
const FORMAT_OF_DIR: Record<string, string> = { jar: 'jar', jmod: 'jmod', pyzip: 'pyzip', zip: 'zip' };
const implemented = (dir: string) => NORMALIZER_NAMES.includes(FORMAT_OF_DIR[dir] ?? dir);

const cases = fs
  .readdirSync(UPSTREAM, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'failures')
  .flatMap((d) =>
    fs
      .readdirSync(path.join(UPSTREAM, d.name))
      .filter((f) => f.endsWith('.in'))
      .map((f) => ({ dir: d.name, file: f })),
  );

describe('upstream fixtures', () => {
  it('has bin/ built', () => expect(fs.existsSync(BIN)).toBe(true));

  for (const { dir, file } of cases) {
    const run = implemented(dir) ? it : it.skip;
    run(`${dir}/${file}${implemented(dir) ? '' : ' (skipped: zip-family handlers are not in this build yet)'}`, () => {
      const work = tempDir();
      const name = file.replace(/\.in$/, '');
      const target = path.join(work, name);
      fs.copyFileSync(path.join(UPSTREAM, dir, file), target);
      const r = runBin(['-T', String(FIXTURE_T), '--normalizers', '+all', target]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const expected = fs.readFileSync(path.join(UPSTREAM, dir, `${name}.out`));
      expect(fs.readFileSync(target).equals(expected)).toBe(true);
      expect(fs.readdirSync(work)).toEqual([name]);
    });
  }
});

describe('upstream failures', () => {
  const root = path.join(UPSTREAM, 'failures');
  for (const dir of fs.readdirSync(root)) {
    for (const file of fs.readdirSync(path.join(root, dir))) {
      it(`${dir}/${file} is rejected and left untouched`, () => {
        const work = tempDir();
        const target = path.join(work, file);
        const original = fs.readFileSync(path.join(root, dir, file));
        fs.writeFileSync(target, original);
        const r = runBin(['-T', String(FIXTURE_T), '--normalizers', '+all', target]);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain(`strip-nondeterminism: ${target}: `);
        expect(fs.readFileSync(target).equals(original)).toBe(true);
        expect(fs.readdirSync(work)).toEqual([file]);
      });
    }
  }
});
