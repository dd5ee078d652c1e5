/**
 * PE/COFF (handlers/pe/). A C program and a DLL (with a resource script and an export) built twice
 * by Debian's mingw-w64, x86_64 and i686, with and without -g and --build-id (the CodeView RSDS
 * record), at two times (faketime) in two directories of the same length: identical after
 * normalizing; objdump -p reads them; python3-pefile, an independent implementation, verifies the
 * checksum and reads the stamps back as T.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missing, runBin, sh, tempDir } from '../../lib/helpers.js';

const T = 1700000000;
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const SOURCE = '#include <stdio.h>\n#include <assert.h>\n__declspec(dllexport) int twice(int x) { assert(x < 1000); return 2 * x; }\nint main(int argc, char **argv) { printf("%s %d\\n", __FILE__, twice(argc)); return 0; }\n';
const RC = '1 VERSIONINFO\nFILEVERSION 1,0,0,0\nBEGIN\n BLOCK "StringFileInfo"\n BEGIN\n  BLOCK "040904b0"\n  BEGIN\n   VALUE "FileDescription", "demo"\n  END\n END\nEND\n';

// Prints, per file: checksum valid, the COFF stamp, the export, debug and resource stamps.
const PEFILE = `
import pefile, sys
for f in sys.argv[1:]:
    p = pefile.PE(f)
    stamps = [p.FILE_HEADER.TimeDateStamp]
    if hasattr(p, 'DIRECTORY_ENTRY_EXPORT'): stamps.append(p.DIRECTORY_ENTRY_EXPORT.struct.TimeDateStamp)
    for d in getattr(p, 'DIRECTORY_ENTRY_DEBUG', []): stamps.append(d.struct.TimeDateStamp)
    if hasattr(p, 'DIRECTORY_ENTRY_RESOURCE'): stamps.append(p.DIRECTORY_ENTRY_RESOURCE.struct.TimeDateStamp)
    print(p.OPTIONAL_HEADER.CheckSum == 0 or p.verify_checksum(), sorted(set(stamps)), len(stamps))
`;

const TARGETS = [
  ['x86_64-w64-mingw32', 'x86_64-w64-mingw32-gcc'],
  ['i686-w64-mingw32', 'i686-w64-mingw32-gcc'],
] as const;
const VARIANTS = [
  ['prog.exe', ''],
  ['prog-g.exe', '-g'],
  ['prog-id.exe', '-g -Wl,--build-id'],
  ['lib.dll', '-shared -Wl,--build-id res.o'],
  ['lib-plain.dll', '-O2 -shared'],
] as const;

function build(dir: string, triple: string, gcc: string, when: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'prog.c'), SOURCE);
  fs.writeFileSync(path.join(dir, 'res.rc'), RC);
  sh(`faketime '${when}' ${triple}-windres res.rc -O coff -o res.o`, dir);
  for (const [out, flags] of VARIANTS) sh(`faketime '${when}' ${gcc} ${flags} -o ${out} prog.c`, dir);
}

for (const [triple, gcc] of TARGETS) {
  describe.skipIf(missing(gcc, `${triple}-objdump`, 'faketime') ?? (spawnSync(PYTHON, ['-c', 'import pefile']).status !== 0 ? (console.warn('skipped: python3-pefile not installed'), 'no pefile') : undefined))(`PE images from ${gcc}`, () => {
    it('two builds at different times, in different directories, normalize to identical bytes', () => {
      const root = tempDir('snd-pe-');
      const dirs = [path.join(root, 'build-one'), path.join(root, 'build-two')];
      build(dirs[0], triple, gcc, '2024-01-02 03:04:05');
      build(dirs[1], triple, gcc, '2025-06-07 08:09:10');
      const files = (d: string) => VARIANTS.map(([out]) => path.join(d, out));
      const before = files(dirs[0]).map((f, i) => fs.readFileSync(f).equals(fs.readFileSync(files(dirs[1])[i])));
      expect(before).toEqual(VARIANTS.map(() => false));
      const r = runBin(['-T', String(T), '--build-path', dirs[0], '--build-path', dirs[1], ...files(dirs[0]), ...files(dirs[1])]);
      expect(r.status, r.stderr).toBe(0);
      for (const [i, f] of files(dirs[0]).entries()) {
        const same = fs.readFileSync(f).equals(fs.readFileSync(files(dirs[1])[i]));
        expect(same, `${path.basename(f)}: ${same ? '' : spawnSync('sh', ['-c', `cmp -l '${f}' '${files(dirs[1])[i]}' | head -5`], { encoding: 'utf8' }).stdout}`).toBe(true);
        expect(fs.readFileSync(f).includes(Buffer.from(dirs[0])), `${path.basename(f)}: build path gone`).toBe(false);
        expect(spawnSync(`${triple}-objdump`, ['-p', f]).status, `objdump reads ${path.basename(f)}`).toBe(0);
      }
      const report = spawnSync(PYTHON, ['-c', PEFILE, ...files(dirs[0])], { encoding: 'utf8' });
      expect(report.status, report.stderr).toBe(0);
      for (const line of report.stdout.trim().split('\n')) expect(line).toMatch(new RegExp(`^True \\[${T}\\] \\d+$`));
      // The CodeView record: RSDS, age 1, a GUID derived from the image (objdump prints it).
      const cv = sh(`${triple}-objdump -p '${path.join(dirs[0], 'prog-id.exe')}'`);
      expect(cv).toMatch(/format RSDS signature [0-9a-f]{32} age 1/);
    });

    it('a second pass changes nothing; without T the stamps become 0', () => {
      const dir = path.join(tempDir('snd-pe-'), 'b');
      build(dir, triple, gcc, '2024-01-02 03:04:05');
      const dll = path.join(dir, 'lib.dll');
      expect(runBin([dll]).status).toBe(0);
      const once = fs.readFileSync(dll);
      const report = spawnSync(PYTHON, ['-c', PEFILE, dll], { encoding: 'utf8' }).stdout.trim();
      expect(report).toMatch(/^True \[0\] \d+$/);
      expect(runBin([dll]).status).toBe(0);
      expect(fs.readFileSync(dll).equals(once)).toBe(true);
    });
  });
}

describe('PE: bad input', () => {
  it('a truncated image is an error and stays as it was', () => {
    const dir = tempDir('snd-pe-bad-');
    const f = path.join(dir, 'x.exe');
    const head = Buffer.alloc(0x100);
    head.write('MZ', 0, 'latin1');
    head.writeUInt32LE(0x80, 0x3c);
    head.write('PE\0\0', 0x80, 'latin1');
    head.writeUInt16LE(3, 0x86); // three sections, no table
    head.writeUInt16LE(0xf0, 0x94); // an optional header past the end
    fs.writeFileSync(f, head);
    const r = runBin([f]);
    expect(r.status).toBe(255);
    expect(r.stderr).toContain(f);
    expect(fs.readFileSync(f).equals(head)).toBe(true);
  });
});
