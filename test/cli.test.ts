/**
 * The command line, end to end through bin/: flags, messages and exit statuses are compared
 * with the Perl tool's where Perl defines them; the documented differences (every file is
 * tried; SOURCE_DATE_EPOCH) are checked on their own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, PERL_TOOL, runBin, runPerl, tempDir, UPSTREAM, FIXTURE_T } from './lib/helpers.js';

const GZ = path.join(UPSTREAM, 'gzip/vimoutliner_vo_readme_txt.gz.in');
const GZ_OUT = path.join(UPSTREAM, 'gzip/vimoutliner_vo_readme_txt.gz.out');
const PNG = path.join(UPSTREAM, 'png/tEXt.png.in');

function copy(from: string, name: string): string {
  const target = path.join(tempDir(), name);
  fs.copyFileSync(from, target);
  fs.chmodSync(target, 0o644);
  return target;
}

describe.skipIf(missing(PERL_TOOL))('messages and exit statuses match the Perl tool', () => {
  it('help starts with the Perl usage line', () => {
    for (const flag of ['-h', '--help']) {
      const ours = runBin([flag, 'ignored-file']);
      expect(ours.status).toBe(0);
      expect(ours.stdout.split('\n')[0]).toBe(runPerl([flag]).stdout.trimEnd());
    }
  });

  const cases: [string, string[]][] = [
    ['no file', []],
    ['unknown option', ['--bogus', 'x']],
    ['unknown bundled letter', ['-vq', 'x']],
    ['non-numeric timestamp', ['-T', 'abc', 'x']],
    ['unknown -t type', ['-t', 'foo', 'x']],
    ['disabled -t type', ['-t', 'ar', 'x']],
    ['unknown normalizer', ['--normalizers', '+foo', 'x']],
    ['missing file', ['/nonexistent/file.gz']],
    ['missing file with a timestamp', ['-T', '5', '/nonexistent/file.gz']],
  ];
  for (const [title, args] of cases) {
    it(title, () => {
      const perl = runPerl(args);
      const ours = runBin(args);
      expect(ours.status).toBe(perl.status);
      expect(ours.stdout).toBe(perl.stdout);
      // Perl appends " at FILE line N." to some dies; compare without it.
      expect(ours.stderr).toBe(perl.stderr.replace(/ at \/\S+ line \d+\.$/gm, ''));
    });
  }

  it('invalid --normalizers spec', () => {
    const perl = runPerl(['--normalizers', 'foo', 'x']);
    const ours = runBin(['--normalizers', 'foo', 'x']);
    expect(ours.status).toBe(perl.status);
    expect(ours.stderr).toContain('invalid --normalizer spec: foo');
  });

  it('-V prints the version line in Perl\'s shape', () => {
    expect(runPerl(['-V']).stdout).toMatch(/^strip-nondeterminism version \d/);
    expect(runBin(['-V']).stdout).toMatch(/^strip-nondeterminism version 1\.14\.1 /);
    expect(runBin(['--version']).status).toBe(0);
  });

  it('verbose lines for a file', () => {
    const a = copy(GZ, 'a.gz');
    const b = copy(GZ, 'a.gz');
    const perl = runPerl(['-v', '-T', '5', a]);
    const ours = runBin(['-v', '-T', '5', b]);
    expect(ours.stdout.replace(b, 'F')).toBe(perl.stdout.replace(a, 'F'));
  });

  it('a handler error names the file, exits 255 and leaves it alone', () => {
    const target = copy(GZ, 'x.png');
    const perl = runPerl(['-t', 'png', target]);
    const ours = runBin(['-t', 'png', target]);
    expect(ours.status).toBe(perl.status);
    expect(ours.stderr).toMatch(new RegExp(`^strip-nondeterminism: ${target}: .*does not appear to be a PNG`));
    expect(fs.readFileSync(target).equals(fs.readFileSync(GZ))).toBe(true);
  });
});

describe('option parsing', () => {
  const expectFixtureOutput = (args: (target: string) => string[], env: NodeJS.ProcessEnv = {}) => {
    const target = copy(GZ, 'v.gz');
    const r = runBin(args(target), env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.readFileSync(target).equals(fs.readFileSync(GZ_OUT))).toBe(true);
  };
  it('bundled -vT', () => expectFixtureOutput((t) => [`-T${FIXTURE_T}`, t]));
  it('--timestamp=N', () => expectFixtureOutput((t) => [`--timestamp=${FIXTURE_T}`, t]));
  it('an abbreviated long option', () => expectFixtureOutput((t) => ['--time', String(FIXTURE_T), t]));
  it('options after the file', () => expectFixtureOutput((t) => [t, '-T', String(FIXTURE_T), '--no-clamp-timestamp']));
  it('-- ends the options', () => expectFixtureOutput((t) => ['-T', String(FIXTURE_T), '--', t]));
  it('SOURCE_DATE_EPOCH stands in for -T', () => expectFixtureOutput((t) => [t], { SOURCE_DATE_EPOCH: String(FIXTURE_T) }));
  it('-T wins over SOURCE_DATE_EPOCH', () => expectFixtureOutput((t) => ['-T', String(FIXTURE_T), t], { SOURCE_DATE_EPOCH: '12345' }));

  it('an invalid SOURCE_DATE_EPOCH is an error', () => {
    const target = copy(GZ, 'v.gz');
    const r = runBin([target], { SOURCE_DATE_EPOCH: 'yesterday' });
    expect(r.status).toBe(255);
    expect(r.stderr).toContain('SOURCE_DATE_EPOCH');
    expect(fs.readFileSync(target).equals(fs.readFileSync(GZ))).toBe(true);
  });

  it('an ambiguous abbreviation is refused', () => {
    const r = runBin(['--ver', 'x']);
    expect(r.status).toBe(255);
    expect(r.stderr).toContain('Option ver is ambiguous');
  });
});

describe('every file is tried (a deliberate difference from Perl)', () => {
  it('one bad file does not stop the others, and the exit is non-zero', () => {
    const dir = tempDir();
    const bad = path.join(dir, 'bad.gz');
    fs.writeFileSync(bad, Buffer.from([0x1f, 0x8b, 8, 0, 0]));
    const good = path.join(dir, 'good.gz');
    fs.copyFileSync(GZ, good);
    const r = runBin(['-T', String(FIXTURE_T), bad, '/nonexistent.gz', good]);
    expect(r.status).toBe(255);
    expect(r.stderr).toContain(`strip-nondeterminism: ${bad}: `);
    expect(r.stderr).toContain('/nonexistent.gz: Does not exist');
    expect(fs.readFileSync(good).equals(fs.readFileSync(GZ_OUT))).toBe(true);
  });

  it('only missing files give status 2, as in Perl', () => {
    expect(runBin(['/nonexistent-a.gz', '/nonexistent-b.gz']).status).toBe(2);
  });
});

describe('results do not depend on the local time zone', () => {
  it('png dates are UTC whatever TZ says', () => {
    const outputs = ['UTC', 'Asia/Kathmandu', 'America/St_Johns'].map((tz) => {
      const target = copy(PNG, 't.png');
      expect(runBin(['-T', '1423159771', target], { TZ: tz }).status).toBe(0);
      return fs.readFileSync(target);
    });
    expect(outputs[0].equals(fs.readFileSync(path.join(UPSTREAM, 'png/tEXt.png.out')))).toBe(true);
    for (const o of outputs) expect(o.equals(outputs[0])).toBe(true);
  });
});
