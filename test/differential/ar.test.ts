/**
 * ar: archives from GNU ar (`rcU` with real mtimes/uids, `rcD`, with and without a symbol
 * table, long names, executable and odd-sized members) plus hand-built BSD-style and
 * /SYM64/ headers; the Perl tool's output is the oracle and `ar t`/`ar p` read outputs back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithPerl, missing, PERL_TOOL, runOurs, sh, standardArgSets, tempDir, FIXTURE_T } from '../lib/helpers.js';

function arMember(name: string, data: Buffer, o: { mtime?: number; uid?: number; gid?: number; mode?: string } = {}): Buffer {
  const h = `${name.padEnd(16)}${String(o.mtime ?? 1500000000).padEnd(12)}${String(o.uid ?? 1000).padEnd(6)}${String(o.gid ?? 1000).padEnd(6)}${(o.mode ?? '100644').padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
  return Buffer.concat([Buffer.from(h, 'latin1'), data, Buffer.from(data.length % 2 ? '\n' : '')]);
}

const skip = missing(PERL_TOOL, 'ar', 'gcc');

describe.skipIf(skip)('ar: parity with the Perl tool', () => {
  const dir = tempDir();
  const inputs: string[] = [];
  fs.writeFileSync(path.join(dir, 'one.c'), 'int one(void) { return 1; }\n');
  fs.writeFileSync(path.join(dir, 'a_rather_long_member_name.c'), 'int two(void) { return 2; }\nconst char *s = "x";\n');
  fs.writeFileSync(path.join(dir, 'odd.txt'), 'odd-sized\n!!'); // 12 bytes... made odd below
  fs.appendFileSync(path.join(dir, 'odd.txt'), 'x');
  fs.writeFileSync(path.join(dir, 'tool.sh'), '#!/bin/sh\necho hi\n');
  fs.chmodSync(path.join(dir, 'tool.sh'), 0o755);
  sh('gcc -c one.c a_rather_long_member_name.c && touch -d @1234567890 one.o', dir);
  for (const [name, cmd] of [
    ['real.a', 'ar rcU real.a one.o odd.txt tool.sh'],
    ['det.a', 'ar rcD det.a one.o odd.txt'],
    ['symtab.a', 'ar rcsU symtab.a one.o a_rather_long_member_name.o'],
    ['longnames.a', 'ar rcU longnames.a a_rather_long_member_name.o tool.sh'],
    ['thin-looking.a', 'ar rcSU thin-looking.a one.o'],
  ] as const) {
    sh(cmd, dir);
    inputs.push(path.join(dir, name));
  }
  const add = (name: string, bytes: Buffer) => {
    fs.writeFileSync(path.join(dir, name), bytes);
    inputs.push(path.join(dir, name));
  };
  const data = Buffer.from('some member data\n');
  add('bsd.a', Buffer.concat([Buffer.from('!<arch>\n'), arMember('#1/20', Buffer.concat([Buffer.from('bsd_style_long_name1'), data]), { mode: '100755' })]));
  add('sym64.a', Buffer.concat([Buffer.from('!<arch>\n'), arMember('/SYM64/', Buffer.alloc(8), { mode: '0' }), arMember('x.o/', data, { mode: '100700' })]));
  add('spaces.a', Buffer.concat([Buffer.from('!<arch>\n'), arMember('m/', data, { mode: '  644' })]));
  // Perl reads the mode with oct(), which takes hex, binary and 0o prefixes and underscores.
  const modes = ['0x1ff', 'x1c0', '0o755', '10_0755', 'b1000000', '0_7', '  0o_6', '7_', '0x'];
  add('perl-oct-modes.a', Buffer.concat([Buffer.from('!<arch>\n'), ...modes.map((mode, i) => arMember(`m${i}/`, data, { mode }))]));
  // file(1) calls this a Debian package, so Perl leaves it alone.
  add('debian-first.a', Buffer.concat([Buffer.from('!<arch>\n'), arMember('debian-binary', Buffer.from('2.0\n')), arMember('x.o/', data)]));
  add('empty.a', Buffer.from('!<arch>\n'));
  add('no-final-pad.a', Buffer.concat([Buffer.from('!<arch>\n'), arMember('odd/', Buffer.from('abc'))]).subarray(0, -1));

  it('normalizes every variant byte-identically with +ar', async () => {
    expect(await compareWithPerl(inputs, standardArgSets(['--normalizers', '+ar']))).toEqual([]);
  });

  it('agrees with -t ar, and leaves archives alone while ar is disabled', async () => {
    expect(await compareWithPerl(inputs, [['-t', 'ar', '-T', '1700000000'], ['-T', '1700000000'], ['--normalizers', '+all,-ar']])).toEqual([]);
  });

  it('outputs list and extract the same members', async () => {
    const work = tempDir();
    for (const name of ['real.a', 'det.a', 'symtab.a', 'longnames.a']) {
      const target = path.join(work, name);
      fs.copyFileSync(path.join(dir, name), target);
      const list = sh(`ar t '${target}'`);
      const sums = sh(`for m in $(ar t '${target}'); do ar p '${target}' "$m" | sha256sum; done`);
      expect((await runOurs(['--normalizers', '+ar', '-T', String(FIXTURE_T), target])).status).toBe(0);
      expect(sh(`ar t '${target}'`)).toBe(list);
      expect(sh(`for m in $(ar t '${target}'); do ar p '${target}' "$m" | sha256sum; done`)).toBe(sums);
      expect(sh(`ar tvO '${target}'`)).toMatch(/0\/0/);
    }
  });
});
