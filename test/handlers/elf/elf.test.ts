/**
 * ELF build paths and host names (issue 7). Oracles: gcc (native and cross) builds the inputs;
 * readelf, gdb, the linker and running the program read the outputs back; a byte search checks no
 * byte of the build path is left.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missing, runBin, sh, tempDir } from '../../lib/helpers.js';

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

  for (const flags of ['', '-g -gdwarf-4', '-g -gdwarf-5', '-g -O2', '-g -gz', '-g -gz -gdwarf-4', '-g3', '-g3 -gz -O2']) {
    it(`two builds in different random directories normalize to identical bytes and build-ids (gcc ${flags || 'without -g'})`, () => {
      const [a, b] = [build(flags), build(flags)];
      expect(a.dir).not.toBe(b.dir);
      expect(fs.readFileSync(a.exe).equals(fs.readFileSync(b.exe))).toBe(false);
      for (const x of [a, b]) {
        const r = runBin(['--build-path', `${x.dir}=/build/pkg`, x.exe, x.obj]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr, 'no warning').toBe('');
      }
      expect(fs.readFileSync(a.exe).equals(fs.readFileSync(b.exe))).toBe(true);
      expect(fs.readFileSync(a.obj).equals(fs.readFileSync(b.obj)), 'the .o files too').toBe(true);
      expect(count(a.obj, a.dir)).toBe(0);
      expect(sh(`'${a.exe}'`)).toMatch(/^built in \/build\/pkg\/+hello\.c\n$/);
      if (!flags) return;
      if (flags.includes('-gz')) expect(sh(`readelf -S '${a.exe}'`)).toMatch(/\.debug_info[^\n]*\n[^\n]* C /);
      expect(sh(`readelf -n '${a.exe}' | grep 'Build ID'`)).toBe(sh(`readelf -n '${b.exe}' | grep 'Build ID'`));
      // readelf walks every DIE and line program without complaint, and the program runs.
      const dump = spawnSync('readelf', ['-wi', '-wl', a.exe], { encoding: 'utf8' });
      expect(dump.stderr).toBe('');
      expect(dump.stdout).toContain('/build/pkg/');
      expect(sh(`gdb -batch -ex 'info line main' '${a.exe}' 2>&1`)).toMatch(/Line 2 of "\/build\/pkg\/+hello\.c"/);
      // The normalized object still links into a program that gdb can read.
      const linked = path.join(a.dir, 'relinked');
      sh(`gcc -o '${linked}' '${a.obj}'`);
      expect(sh(`'${linked}'`)).toBe('built in hello.c\n');
      expect(sh(`gdb -batch -ex 'info line main' '${linked}' 2>&1`)).toMatch(/Line 2 of "hello\.c"/);
      if (flags.includes('-g3')) {
        // Macro tables still resolve their strings: the same dump as before, path aside.
        const macros = (f: string) => sh(`readelf --debug-dump=macro '${f}' | grep -c DW_MACRO_define_strp`);
        expect(Number(macros(a.exe))).toBeGreaterThan(100);
        expect(sh(`readelf --debug-dump=macro '${a.exe}' | grep 'define_strp.*__STDC__ 1' | wc -l`).trim()).not.toBe('0');
      }
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

/** Two builds of the same sources in two random directories (same name length, as mktemp makes). */
function twoBuilds(prefix: string, setup: (dir: string) => void): string[] {
  return [0, 1].map(() => {
    const dir = path.join(tempDir(prefix), 'src');
    fs.mkdirSync(dir);
    setup(dir);
    return dir;
  });
}

const same = (a: string, b: string) => fs.readFileSync(a).equals(fs.readFileSync(b));

// 32-bit little-endian (REL relocations), 32-bit and 64-bit big-endian, through Debian's cross
// compilers; readelf reads any ELF.
for (const cc of ['i686-linux-gnu-gcc', 'powerpc-linux-gnu-gcc', 's390x-linux-gnu-gcc']) {
  describe.skipIf(missing(cc, 'readelf'))(`elf --build-path, ${cc}`, () => {
    for (const flags of ['-g', '-g -gz']) {
      it(`two builds normalize to identical executables and objects (${flags})`, () => {
        const dirs = twoBuilds('snd-elf-cross-', (dir) => {
          fs.writeFileSync(path.join(dir, 'hello.c'), SOURCE);
          sh(`${cc} ${flags} -O1 -o hello '${dir}/hello.c' && ${cc} ${flags} -c -o hello.o hello.c`, dir);
        });
        expect(same(path.join(dirs[0], 'hello'), path.join(dirs[1], 'hello'))).toBe(false);
        for (const d of dirs) {
          const r = runBin(['--build-path', `${d}=/build`, path.join(d, 'hello'), path.join(d, 'hello.o')]);
          expect(r.stderr).toBe('');
          expect(r.status).toBe(0);
        }
        for (const f of ['hello', 'hello.o']) expect(same(path.join(dirs[0], f), path.join(dirs[1], f)), f).toBe(true);
        const exe = path.join(dirs[0], 'hello');
        const dump = spawnSync('readelf', ['-wi', '-wl', exe], { encoding: 'utf8' });
        expect(dump.stderr).toBe('');
        expect(dump.stdout).toMatch(/DW_AT_comp_dir.*: \/build\/+\n/);
        expect(count(exe, dirs[0])).toBe(0);
        expect(sh(`readelf -n '${exe}'`)).toContain('Build ID');
      });
    }
  });
}

describe.skipIf(missing('gcc', 'ar', 'nm', 'gdb'))('elf in static libraries', () => {
  const LIB = {
    'one.c': 'int one(void) { return 1; }\n',
    'two.c': 'const char *two(void) { return __FILE__; }\n',
    'main.c': '#include <stdio.h>\nconst char *two(void);\nint one(void);\nint main(void) { printf("%d %s\\n", one(), two()); return 0; }\n',
  };
  const buildLib = () =>
    twoBuilds('snd-elf-lib-', (dir) => {
      for (const [name, text] of Object.entries(LIB)) fs.writeFileSync(path.join(dir, name), text);
      // one.o compressed (its size changes when normalized), two.o not: the symbol table must follow.
      sh(`gcc -g -gz -c '${dir}/one.c' && gcc -g -c '${dir}/two.c' && ar rcs libx.a one.o two.o && cp libx.a liby.a`, dir);
    });

  it('rewrites the .o members; two builds give identical archives that still link, with ar on or off', () => {
    const dirs = buildLib();
    for (const d of dirs) {
      expect(runBin(['--build-path', `${d}=/build`, path.join(d, 'libx.a')]).status).toBe(0);
      expect(runBin(['-T', '1700000000', '--normalizers', '+ar', '--build-path', `${d}=/build`, path.join(d, 'liby.a')]).status).toBe(0);
    }
    for (const f of ['libx.a', 'liby.a']) expect(same(path.join(dirs[0], f), path.join(dirs[1], f)), f).toBe(true);
    const d = dirs[0];
    expect(count(path.join(d, 'libx.a'), d)).toBe(0);
    // ar off: headers as ar wrote them (Debian's ar is deterministic: mtime 0); on: mtime T.
    expect(sh(`ar tv '${d}/libx.a'`)).toMatch(/ 0\/0 .* 1970 one\.o/);
    expect(sh(`TZ=UTC ar tv '${d}/liby.a'`)).toMatch(/ 0\/0 .* 2023 one\.o/);
    // The symbol index points at the moved members: nm finds them, and the linker pulls two.o
    // (after the resized one.o) through the index.
    expect(sh(`nm -s '${d}/liby.a'`)).toMatch(/two in two\.o/);
    for (const lib of ['x', 'y']) {
      sh(`gcc -g -o app${lib} main.c -L. -l${lib}`, d);
      expect(sh(`./app${lib}`, d)).toMatch(/^1 \/build\/+two\.c\n$/);
      expect(sh(`gdb -batch -ex 'info line one' app${lib} 2>&1`, d)).toMatch(/Line 1 of "\/build\/+one\.c"/);
    }
    const x = path.join(d, 'extract');
    fs.mkdirSync(x);
    sh(`ar x ../libx.a`, x);
    expect(sh(`readelf -wi one.o`, x)).toMatch(/DW_AT_comp_dir.*: \/build\/+\n/);
  });
});

describe.skipIf(missing('gcc', 'dpkg-deb'))('elf in a .deb', () => {
  it('a package of a binary and a static library normalizes through data.tar to identical bytes', () => {
    const dirs = twoBuilds('snd-elf-deb-', (dir) => {
      fs.writeFileSync(path.join(dir, 'hello.c'), SOURCE);
      const root = path.join(dir, 'root');
      fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
      fs.mkdirSync(path.join(root, 'usr', 'bin'), { recursive: true });
      fs.mkdirSync(path.join(root, 'usr', 'lib'), { recursive: true });
      fs.writeFileSync(path.join(root, 'DEBIAN', 'control'), 'Package: hello\nVersion: 1.0\nArchitecture: amd64\nMaintainer: A <a@example.org>\nDescription: test\n');
      sh(`gcc -g -gz -o root/usr/bin/hello '${dir}/hello.c' && gcc -g -c '${dir}/hello.c' -o hello.o && ar rc root/usr/lib/libhello.a hello.o`, dir);
      sh(`cd root && find usr -type f | LC_ALL=C sort | xargs md5sum > DEBIAN/md5sums && cd .. && dpkg-deb -Zxz --build root hello.deb >/dev/null`, dir);
    });
    for (const d of dirs) {
      const r = runBin(['-T', '1700000000', '--build-path', `${d}=/build`, path.join(d, 'hello.deb')]);
      expect(r.status, r.stderr).toBe(0);
    }
    expect(same(path.join(dirs[0], 'hello.deb'), path.join(dirs[1], 'hello.deb'))).toBe(true);
    const x = path.join(dirs[0], 'x');
    sh(`dpkg-deb -x hello.deb x && dpkg-deb -e hello.deb x/DEBIAN`, dirs[0]);
    expect(sh(`'${x}/usr/bin/hello'`)).toMatch(/^built in \/build\/+hello\.c\n$/);
    expect(sh(`readelf -wi '${x}/usr/bin/hello'`)).toMatch(/DW_AT_comp_dir.*: \/build\/+\n/);
    expect(count(path.join(x, 'usr', 'lib', 'libhello.a'), dirs[0])).toBe(0);
    sh(`md5sum -c --quiet DEBIAN/md5sums`, x); // md5sums follow the rewritten files
  });
});

describe.skipIf(skipTools)('elf, more', () => {
  it('separate .debug files (objcopy --only-keep-debug, plain and compressed) normalize alike, with a warning about the pair', () => {
    const builds = [build('-g -O2'), build('-g -O2')];
    for (const b of builds) {
      sh(`objcopy --only-keep-debug hello hello.debug && objcopy --only-keep-debug --compress-debug-sections=zlib hello hello.zdebug`, b.dir);
      const r = runBin(['--build-path', `${b.dir}=/build/pkg`, path.join(b.dir, 'hello.debug'), path.join(b.dir, 'hello.zdebug')]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('a separate debug file: its new build-id no longer matches its stripped binary');
    }
    for (const f of ['hello.debug', 'hello.zdebug']) {
      const [a, b] = builds.map((x) => path.join(x.dir, f));
      expect(fs.readFileSync(a).equals(fs.readFileSync(b)), f).toBe(true);
      expect(count(a, builds[0].dir)).toBe(0);
      expect(sh(`readelf -wi '${a}'`)).toMatch(/DW_AT_comp_dir.*: \/build\/pkg\/+\n/);
    }
    expect(sh(`readelf -S -W '${builds[0].dir}/hello.zdebug' | grep ' .debug_info '`)).toMatch(/ C /);
  });

  it('replaces a host name in place, padded with -, so two hosts give identical binaries', () => {
    const hosts = ['buildd-x86-01', 'buildd-x86-77'];
    const exes = hosts.map((host) => {
      const dir = tempDir('snd-elf-host-');
      fs.writeFileSync(path.join(dir, 'h.c'), `#include <stdio.h>\nint main(void) { puts("compiled on " "${host}" " by someone"); return 0; }\n`);
      sh(`gcc -o h h.c`, dir);
      expect(runBin(['--hostname', host, path.join(dir, 'h')]).status).toBe(0);
      return path.join(dir, 'h');
    });
    expect(same(exes[0], exes[1])).toBe(true);
    expect(sh(`'${exes[0]}'`)).toBe('compiled on build-------- by someone\n');
  });

  it('STRIP_NONDETERMINISM_HOSTNAMES works like --hostname, and a replacement too long is refused with a warning', () => {
    const dir = tempDir('snd-elf-host-');
    fs.writeFileSync(path.join(dir, 'h.c'), '#include <stdio.h>\nint main(void) { puts("on ci-7 at /x"); return 0; }\n');
    sh(`gcc -o h h.c && cp h h2`, dir);
    const before = fs.readFileSync(path.join(dir, 'h'));
    const r = runBin([path.join(dir, 'h')], { STRIP_NONDETERMINISM_HOSTNAMES: 'ci-7=ci' });
    expect(r.status, r.stderr).toBe(0);
    expect(sh(`'${dir}/h'`)).toBe('on ci-- at /x\n');
    const long = runBin([path.join(dir, 'h2')], { STRIP_NONDETERMINISM_HOSTNAMES: 'ci-7' }); // "build" is longer
    expect(long.status).toBe(0);
    expect(long.stderr).toContain('longer');
    expect(fs.readFileSync(path.join(dir, 'h2')).equals(before)).toBe(true);
  });

  it('rejects a compressed debug section with corrupt zlib data, file unchanged', () => {
    const b = build('-g -gz');
    const good = fs.readFileSync(b.exe);
    const line = sh(`readelf -S -W '${b.exe}' | grep ' .debug_info '`);
    const offset = parseInt(line.trim().split(/\s+/)[4], 16);
    const bad = Buffer.from(good);
    bad.fill(0xff, offset + 24 + 2, offset + 24 + 40); // inside the deflate stream, after the Chdr
    fs.writeFileSync(b.exe, bad);
    const r = runBin(['--build-path', `${b.dir}=/build`, b.exe]);
    expect(r.status).toBe(255);
    expect(r.stderr).toContain(b.exe);
    expect(r.stderr).toContain('.debug_info');
    expect(fs.readFileSync(b.exe).equals(bad)).toBe(true);
  });

  it('worker threads get the build paths too (a tree of more files than one thread takes)', () => {
    const b = build('-g');
    const tree = tempDir('snd-elf-tree-');
    for (let i = 0; i < 70; i++) fs.copyFileSync(b.exe, path.join(tree, `copy${i}`));
    const r = runBin(['-j', '2', '--build-path', `${b.dir}=/build`, tree]);
    expect(r.status, r.stderr).toBe(0);
    for (let i = 0; i < 70; i++) expect(count(path.join(tree, `copy${i}`), b.dir), `copy${i}`).toBe(0);
  });
});

describe.skipIf(missing('gcc', 'readelf'))('an object whose .debug_str overlaps .debug_line_str', () => {
  it('is left unchanged with a warning naming both sections', () => {
    const dir = tempDir('snd-elf-overlap-');
    fs.writeFileSync(path.join(dir, 'x.c'), `const char *where = "${dir}";\nint main(void) { return 0; }\n`);
    sh('gcc -g -gdwarf-5 -c x.c -o x.o', dir);
    const file = path.join(dir, 'x.o');
    const b = fs.readFileSync(file);
    // ELF64 little-endian section headers: point .debug_line_str at .debug_str's bytes.
    const shoff = Number(b.readBigUInt64LE(0x28));
    const shnum = b.readUInt16LE(0x3c);
    const strndx = b.readUInt16LE(0x3e);
    const header = (i: number) => shoff + i * 64;
    const names = Number(b.readBigUInt64LE(header(strndx) + 0x18));
    const nameOf = (i: number) => b.toString('latin1', names + b.readUInt32LE(header(i)), b.indexOf(0, names + b.readUInt32LE(header(i))));
    const index = (n: string) => [...Array(shnum).keys()].find((i) => nameOf(i) === n)!;
    const str = index('.debug_str');
    const line = index('.debug_line_str');
    expect(str).toBeGreaterThan(0);
    expect(line).toBeGreaterThan(0);
    b.writeBigUInt64LE(b.readBigUInt64LE(header(str) + 0x18) + 2n, header(line) + 0x18);
    fs.writeFileSync(file, b);
    const r = runBin(['--build-path', dir, file]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('sections .debug_str and .debug_line_str overlap in the file; left unchanged');
    expect(fs.readFileSync(file).equals(b)).toBe(true);
  });
});
