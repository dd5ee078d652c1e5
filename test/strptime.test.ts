/**
 * src/strptime.ts against Perl's Time::Piece->strptime("%Y-%m-%d %H:%M%z") itself: the same
 * strings must be accepted or refused alike, and give the same epoch.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missing } from './lib/helpers.js';
import { strptimeYmdHMz } from '../src/kit/strptime.js';

// Day-of-month edges in every month, across zone shifts, where normalization quirks live.
const GRID = [2015, 2016].flatMap((y) =>
  Array.from({ length: 12 }, (_, m) => [0, 29, 30, 31].flatMap((d) => ['+0000', '+0100', '-2359'].map((z) => `${y}-${String(m + 1).padStart(2, '0')}-${String(d).padStart(2, '0')} 00:30${z}`))).flat(),
);

const SAMPLES = [...GRID,
  '2015-01-01 12:00+0100', '2015-01-01 12:00-0130', '2015-1-1 1:00+0000', '2015-01-01 12:00+0100 x',
  '2015-01-01  12:00 +0100', ' 2015-01-01 12:00+0100', '2015-01-01 12:00Z', '2015-01-01 12:00+01',
  '99-01-01 12:00+0000', '2015-13-01 12:00+0000', '2015-02-30 12:00+0000', '2015-01-01 24:00+0000',
  '2015-01-01 12:00+2400', '2015-01-01T12:00+0000', '2015-01-01 12:00:33+0000', '2015-01-01',
  '2015-01', '2015', '', 'YEAR-MO-DA HO:MI+ZONE', '2015-00-10 10:10+0000', '2015-01-00 10:10+0000',
  '2015-01-32 10:10+0000', '2015-01-01 10:60+0000', '2015-01-01 10:10+9999', '2015-01-01 10:10-9999',
  '1900-01-01 00:00+0000', '1899-12-31 23:59+0000', '20150-01-01 00:00+0000', '2015-01-01 1',
  '2015-01-01 10:1', '2015-01-01 10:10+', '2015-01-01 10:10+00000', '2015-01- 5 10:10+0000',
  '2015-01-5 10:10+0000', '2015-1 -1 10:10+0000', '2015 -01-01 10:10+0000', '2015-01-01\t10:10+0000',
  '2015-01-01 10:10\t+0000', '2020-02-29 23:59+0000', '2021-02-29 23:59+0000', '2038-01-19 03:14+0000',
  '2106-02-07 06:28+0000', '9999-12-31 23:59-1200', '2015-01-01 10:10+0000\r', '2015-01-01 10 :10+0000',
];

describe.skipIf(missing('perl'))('strptime emulation', () => {
  it('accepts and refuses exactly what Time::Piece does, with the same epochs', () => {
    const script = 'use Time::Piece; $SIG{__WARN__}=sub{}; while (my $l = <STDIN>) { chomp $l; my $t = eval { Time::Piece->strptime($l, "%Y-%m-%d %H:%M%z") }; print defined $t ? $t->epoch : "x", "\\n"; }';
    const r = spawnSync('perl', ['-e', script], { input: SAMPLES.join('\n') + '\n', encoding: 'utf8', env: { TZ: 'UTC', PATH: process.env.PATH } });
    expect(r.status).toBe(0);
    const perl = r.stdout.trimEnd().split('\n');
    expect(perl).toHaveLength(SAMPLES.length);
    const ours = SAMPLES.map((s) => {
      const t = strptimeYmdHMz(s);
      return t === undefined ? 'x' : String(t);
    });
    expect(SAMPLES.map((s, i) => `${JSON.stringify(s)} => ${ours[i]}`)).toEqual(SAMPLES.map((s, i) => `${JSON.stringify(s)} => ${perl[i]}`));
  });
});
