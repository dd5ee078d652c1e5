/**
 * ELF build-path rewriting (issue 7, first part). Oracles: gcc builds the inputs; readelf, gdb and
 * running the program read the outputs back; grep checks no byte of the build path is left.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missing, runBin, sh, tempDir } from '../lib/helpers.js';

const skipTools = missing('gcc', 'readelf', 'gdb');
const SOURCE = '#include <stdio.h>\nint main(void) { printf("built in %s\\n", __FILE__); return 0; }\n';

/** Build hello (absolute source path, so __FILE__ holds the build path) and hello.o. */
function build(flags: string): { dir: string; exe: string; obj: string } {
  const dir = path.join(tempDir('snd-elf-build-'), 'pkg-1.0');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'hello.c'), SOURCE);
  sh(`gcc ${flags} -O0 -o hello '${dir}/hello.c' && gcc ${flags} -c -o hello.o hello.c`, dir);
  return { dir, exe: path.join(dir, 'hello'), obj: path.join(dir, 'hello.o') };
}

const count = (file: string, needle: string) => fs.readFileSync(file).toString('latin1').split(needle).length - 1;

describe.skipIf(skipTools)('elf --build-path', () => {
  for (const flags of ['-g -gdwarf-4', '-g -gdwarf-5', '']) {
    it(`rewrites the build path everywhere, keeps the program working, and renews the build-id (gcc ${flags || 'without -g'})`, () => {
      const b = build(flags);
      const idBefore = sh(`readelf -n '${b.exe}' | grep 'Build ID'`);
      expect(count(b.exe, b.dir)).toBeGreaterThan(0);
      const r = runBin(['--build-path', `${b.dir}=/build/pkg`, b.exe, b.obj]);
      expect(r.status, r.stderr).toBe(0);
      for (const f of [b.exe, b.obj]) expect(count(f, b.dir), f).toBe(0);
      const padded = '/build/pkg' + '/'.repeat(b.dir.length - '/build/pkg'.length);
      expect(sh(`'${b.exe}'`)).toBe(`built in ${padded}/hello.c\n`);
      const idAfter = sh(`readelf -n '${b.exe}' | grep 'Build ID'`);
      expect(idAfter).not.toBe(idBefore);
      if (flags) {
        expect(sh(`readelf -wi '${b.exe}' | grep DW_AT_comp_dir`)).toContain(padded);
        expect(sh(`readelf -wl '${b.exe}'`)).toContain(padded);
        expect(sh(`gdb -batch -ex 'info line main' '${b.exe}' 2>&1`)).toMatch(/Line 2 of "\/build\/pkg\/+hello\.c"/);
      }
      // A second run finds nothing left to change.
      const again = runBin(['--check', '--build-path', `${b.dir}=/build/pkg`, b.exe]);
      expect(again.status).toBe(0);
    });
  }

  for (const flags of ['-g -gdwarf-4', '-g -gdwarf-5', '-g -O2']) {
    it(`two builds in different random directories normalize to identical bytes and build-ids (gcc ${flags})`, () => {
      const [a, b] = [build(flags), build(flags)];
      expect(a.dir).not.toBe(b.dir);
      expect(fs.readFileSync(a.exe).equals(fs.readFileSync(b.exe))).toBe(false);
      for (const x of [a, b]) expect(runBin(['--build-path', `${x.dir}=/build/pkg`, x.exe]).status).toBe(0);
      expect(fs.readFileSync(a.exe).equals(fs.readFileSync(b.exe))).toBe(true);
      expect(sh(`readelf -n '${a.exe}' | grep 'Build ID'`)).toBe(sh(`readelf -n '${b.exe}' | grep 'Build ID'`));
      // readelf walks every DIE and line program without complaint, and the program runs.
      const dump = spawnSync('readelf', ['-wi', '-wl', a.exe], { encoding: 'utf8' });
      expect(dump.stderr).toBe('');
      expect(dump.stdout).toContain('/build/pkg/');
      expect(sh(`'${a.exe}'`)).toMatch(/^built in \/build\/pkg\/+hello\.c\n$/);
    });
  }

  it('a shared object and a program linked with RUNPATH into the build directory, built twice, agree', () => {
    const builds = [0, 1].map(() => {
      const dir = path.join(tempDir('snd-elf-so-'), 'proj');
      fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'src', 'lib.c'), 'const char *where(void) { return __FILE__; }\n');
      fs.writeFileSync(path.join(dir, 'src', 'main.c'), '#include <stdio.h>\nconst char *where(void);\nint main(void) { puts(where()); return 0; }\n');
      sh(`gcc -g -O1 -fPIC -shared -o libx.so src/lib.c && gcc -g -o app src/main.c -L. -lx -Wl,-rpath,'${dir}'`, dir);
      expect(runBin(['--build-path', `${path.dirname(dir)}=/build`, path.join(dir, 'app'), path.join(dir, 'libx.so')]).status).toBe(0);
      return dir;
    });
    for (const f of ['app', 'libx.so']) expect(fs.readFileSync(path.join(builds[0], f)).equals(fs.readFileSync(path.join(builds[1], f))), f).toBe(true);
    expect(sh(`readelf -d '${builds[0]}/app' | grep RUNPATH`)).toMatch(/\[\/build\/+proj\]/);
    expect(sh(`LD_LIBRARY_PATH='${builds[0]}' '${builds[0]}/app'`).trim()).toBe('src/lib.c');
  });

  it('leaves binaries without the path, and runs without --build-path, byte-identical', () => {
    const b = build('-g');
    const before = fs.readFileSync(b.exe);
    expect(runBin(['--build-path', '/nowhere/else=/build', b.exe]).status).toBe(0);
    expect(runBin([b.exe]).status).toBe(0);
    expect(fs.readFileSync(b.exe).equals(before)).toBe(true);
  });

  it('warns and leaves the file when TO is longer than FROM', () => {
    const b = build('-g');
    const before = fs.readFileSync(b.exe);
    const r = runBin(['--build-path', `${b.dir}=/${'x'.repeat(b.dir.length + 5)}`, b.exe]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('longer');
    expect(fs.readFileSync(b.exe).equals(before)).toBe(true);
  });

  it('reads BUILD_PATH_PREFIX_MAP', () => {
    const b = build('-g');
    const r = runBin([b.exe], { BUILD_PATH_PREFIX_MAP: `/build/pkg=${b.dir.replace(/%/g, '%#').replace(/=/g, '%+').replace(/:/g, '%.')}` });
    expect(r.status, r.stderr).toBe(0);
    expect(count(b.exe, b.dir)).toBe(0);
  });

  it('rejects headers and section tables that point past the end, file unchanged', () => {
    const b = build('-g');
    const good = fs.readFileSync(b.exe);
    const cases: [string, Buffer][] = [];
    const shoffPast = Buffer.from(good);
    shoffPast.writeBigUInt64LE(BigInt(good.length + 4096), 40);
    cases.push(['section table past the end', shoffPast]);
    const truncated = good.subarray(0, good.length - 200);
    cases.push(['truncated', truncated]);
    const sectionPast = Buffer.from(good);
    const shoff = Number(good.readBigUInt64LE(40));
    sectionPast.writeBigUInt64LE(BigInt(good.length * 4), shoff + 64 * 1 + 24); // section 1's offset
    cases.push(['section past the end', sectionPast]);
    for (const [what, bytes] of cases) {
      const f = path.join(tempDir('snd-elf-bad-'), 'hello');
      fs.writeFileSync(f, bytes);
      const r = runBin(['--build-path', `${b.dir}=/build`, f]);
      expect(r.status, `${what}: ${r.stderr}`).toBe(255);
      expect(r.stderr).toContain(f);
      expect(fs.readFileSync(f).equals(bytes), what).toBe(true);
    }
  });
});
