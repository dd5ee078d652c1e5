/**
 * bFLT and uImage: uImages made by U-Boot's mkimage (with SOURCE_DATE_EPOCH fixing ih_time),
 * and bFLT headers built by hand around the heuristic's limits; the Perl tool's output is the
 * oracle, and `mkimage -l` reads normalized uImages back (it verifies the header CRC).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithPerl, missing, PERL_TOOL, runOurs, sh, standardArgSets, tempDir, FIXTURE_T } from '../lib/helpers.js';

function bfltHeader(fields: Partial<Record<'rev' | 'entry' | 'dataStart' | 'dataEnd' | 'bssEnd' | 'stack' | 'relocStart' | 'relocCount' | 'flags' | 'buildDate' | 'filler', number>>): Buffer {
  const f = { rev: 4, entry: 0x40, dataStart: 0x100, dataEnd: 0x200, bssEnd: 0x300, stack: 0x1000, relocStart: 0x200, relocCount: 0, flags: 1, buildDate: 1600000000, filler: 0, ...fields };
  const b = Buffer.alloc(64 + 512, 0x5a);
  b.write('bFLT', 0, 'latin1');
  [f.rev, f.entry, f.dataStart, f.dataEnd, f.bssEnd, f.stack, f.relocStart, f.relocCount, f.flags, f.buildDate, f.filler, 0, 0, 0, 0].forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 + i * 4));
  return b;
}

describe.skipIf(missing(PERL_TOOL))('bflt: parity with the Perl tool', () => {
  const dir = tempDir();
  const inputs: string[] = [];
  const cases: Record<string, Buffer> = {
    'plain.bflt': bfltHeader({}),
    'zero-date.bflt': bfltHeader({ buildDate: 0 }),
    'old-date.bflt': bfltHeader({ buildDate: 1000 }),
    'max-date.bflt': bfltHeader({ buildDate: 0xffffffff }),
    'rev3.bflt': bfltHeader({ rev: 3 }),
    'reserved-flags.bflt': bfltHeader({ flags: 0x40 }),
    'big-offset.bflt': bfltHeader({ entry: 0xfffffff }),
    'filler.bflt': bfltHeader({ filler: 1 }),
    'short.bflt': bfltHeader({}).subarray(0, 63),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    fs.writeFileSync(path.join(dir, name), bytes);
    inputs.push(path.join(dir, name));
  }
  it('normalizes build dates byte-identically, and agrees on what is not bFLT', async () => {
    expect(await compareWithPerl(inputs, [...standardArgSets(), ['-t', 'bflt', '-T', '7']])).toEqual([]);
  });
});

describe.skipIf(missing(PERL_TOOL, 'mkimage'))('uimage: parity with the Perl tool', () => {
  const dir = tempDir();
  const inputs: string[] = [];
  fs.writeFileSync(path.join(dir, 'payload'), Buffer.alloc(3000, 0x42));
  for (const [name, epoch, type] of [
    ['kernel.uimage', 1700000000, 'kernel'],
    ['Old.uImage', 1000000000, 'kernel'],
    ['zero.UIMAGE', 0, 'kernel'],
    ['script.uimage', 1600000000, 'script'],
    ['ramdisk.uimage', 1423159771, 'ramdisk'],
  ] as const) {
    sh(`mkimage -A arm -O linux -T ${type} -C none -a 0x8000 -e 0x8000 -n 'test ${name}' -d payload '${name}' >/dev/null`, dir, { SOURCE_DATE_EPOCH: String(epoch) });
    inputs.push(path.join(dir, name));
  }
  it('normalizes ih_time and the header CRC byte-identically', async () => {
    expect(await compareWithPerl(inputs, standardArgSets())).toEqual([]);
  });

  it('outputs pass mkimage -l with the new time', async () => {
    const work = tempDir();
    const target = path.join(work, 'kernel.uimage');
    fs.copyFileSync(path.join(dir, 'kernel.uimage'), target);
    expect((await runOurs(['-T', String(FIXTURE_T), target])).status).toBe(0);
    const listing = sh(`mkimage -l '${target}'`, undefined, { TZ: 'UTC' });
    expect(listing).toContain('Thu Feb  5 18:09:31 2015');
  });
});
