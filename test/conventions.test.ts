/**
 * Command-line conventions: --list-normalizers against the Perl tool's own default list,
 * `--json -`, --check's stdout, --quiet, the canonical-time warnings, the progress bar on a
 * terminal (under script(1)), dh_strip_nondeterminism's --help and silence against debhelper's
 * command, --help and --version on every runner command, and the man pages (groff -ww).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, PERL_TOOL, ROOT, UPSTREAM, missing, runBin, sh, tempDir } from './lib/helpers.js';

const GZ = path.join(UPSTREAM, 'gzip/vimoutliner_vo_readme_txt.gz.in');
const ZIP = path.join(UPSTREAM, 'zip/test.zip.in');
const copy = (from: string, dir: string, name: string) => {
  const to = path.join(dir, name);
  fs.copyFileSync(from, to);
  fs.chmodSync(to, 0o644);
  return to;
};

describe('--list-normalizers', () => {
  it.skipIf(missing(PERL_TOOL))('lists every normalizer with its defaults; dh\'s selection is the Perl tool\'s own', () => {
    const r = runBin(['--list-normalizers']);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => /^(\w+)\s+default: (.+?)\s+dh: (on|off)\s+files: (.+)$/.exec(l));
    expect(rows.every(Boolean), r.stdout).toBe(true);
    const byName = new Map(rows.map((m) => [m![1], { cli: m![2], dh: m![3], files: m![4] }]));
    expect(byName.get('ar')).toMatchObject({ cli: 'off', dh: 'off' });
    expect(byName.get('tar')).toMatchObject({ cli: 'on', dh: 'off' });
    expect(byName.get('elf')).toMatchObject({ cli: 'with --build-path/--hostname', dh: 'off' });
    expect(byName.get('zip')!.files).toContain('*.zip');
    // The Perl tool prints its default selection with -v and no time (it still has javaproperties,
    // which upstream dropped in 1.14: docs/compat.md).
    const perl = /Using normalizers: (.*)/.exec(spawnSync(PERL_TOOL, ['-v', '/dev/null'], { encoding: 'utf8' }).stderr + spawnSync(PERL_TOOL, ['-v', '/dev/null'], { encoding: 'utf8' }).stdout)![1].split(' ').filter((n) => n !== 'javaproperties');
    expect([...byName].filter(([, v]) => v.dh === 'on').map(([n]) => n).sort()).toEqual(perl.sort());
    const json = JSON.parse(runBin(['--list-normalizers', '--json', '-']).stdout);
    expect(json.map((n: { name: string }) => n.name)).toEqual([...byName.keys()]);
    expect(json.find((n: { name: string }) => n.name === 'elf')).toEqual({ name: 'elf', cli: 'scrubs', dh: false, files: byName.get('elf')!.files });
  });
});

describe('standard output and its users', () => {
  it('--json - writes the report to stdout, the summary stays on stderr, and no file named - appears', () => {
    const dir = tempDir('snd-json-');
    copy(GZ, dir, 'a.gz');
    const r = spawnSync(process.execPath, [BIN, '-T', '5', '--json', '-', path.join(dir, 'a.gz')], { encoding: 'utf8', cwd: dir });
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.files[0]).toMatchObject({ path: path.join(dir, 'a.gz'), handler: 'gzip', changed: true });
    expect(r.stderr).toMatch(/1 files scanned/);
    expect(fs.existsSync(path.join(dir, '-'))).toBe(false);
  });

  it('--check -v: stdout holds only the paths that would change', () => {
    const dir = tempDir('snd-check-');
    const a = copy(GZ, dir, 'a.gz');
    fs.writeFileSync(path.join(dir, 'plain.txt'), 'x');
    const r = runBin(['--check', '-v', '-T', '5', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(`${a}\n`);
    expect(r.stderr).toContain(`Normalizing ${a}`);
  });

  it('--quiet prints errors only', () => {
    const dir = tempDir('snd-quiet-');
    copy(GZ, dir, 'a.gz');
    fs.writeFileSync(path.join(dir, 'bad.gz'), fs.readFileSync(GZ).subarray(0, 5));
    const r = runBin(['--quiet', '-T', '5', dir]);
    expect(r.status).toBe(255);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^strip-nondeterminism: ${dir}/bad.gz: `))]);
  });
});

describe('the canonical time', () => {
  it('before 1980 is said once for all zip archives of a run', () => {
    const dir = tempDir('snd-1970-');
    copy(ZIP, dir, 'a.zip');
    copy(ZIP, dir, 'b.zip');
    const r = runBin(['-T', '0', path.join(dir, 'a.zip'), path.join(dir, 'b.zip')]);
    expect(r.status).toBe(0);
    expect(r.stderr.match(/before 1980-01-01 12:01:00 UTC/g)).toHaveLength(1);
    expect(runBin(['-T', '1423159771', path.join(dir, 'a.zip')]).stderr).toBe('');
  });

  it('in the future makes --clamp-timestamp say it changes nothing', () => {
    const dir = tempDir('snd-future-');
    const a = copy(GZ, dir, 'a.gz');
    const future = String(Math.floor(Date.now() / 1000) + 86400 * 365);
    expect(runBin(['--clamp-timestamp', '-T', future, a]).stderr).toContain(`the canonical time ${future} is in the future`);
    expect(runBin(['-T', future, a]).stderr).toBe('');
  });
});

describe.skipIf(missing('script'))('the progress bar on a terminal', () => {
  it('shows files per second and the time left', () => {
    const dir = tempDir('snd-progress-');
    for (let i = 0; i < 120; i++) copy(GZ, dir, `f${i}.gz`);
    const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} -T 5 -j1 ${dir}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, CI: '' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\] \d+\/120 {2}[\d.]+ files\/s {2}\d+ s left/);
  });
});

describe.skipIf(missing('/usr/bin/dh_strip_nondeterminism', 'gzip'))('dh_strip_nondeterminism', () => {
  const ours = path.join(ROOT, 'bin', 'dh_strip_nondeterminism');
  it('answers --help as debhelper\'s does', () => {
    const theirs = spawnSync('/usr/bin/dh_strip_nondeterminism', ['--help'], { encoding: 'utf8' });
    const mine = spawnSync(ours, ['--help'], { encoding: 'utf8' });
    expect(mine.status).toBe(theirs.status);
    expect(mine.stdout.split('\n')[0]).toBe(theirs.stdout.split('\n')[0]);
  });

  it('is silent without DH_VERBOSE, as debhelper\'s is, and says the same with it', () => {
    const results = ['/usr/bin/dh_strip_nondeterminism', ours].map((command) => {
      const src = tempDir('snd-dhq-');
      fs.mkdirSync(path.join(src, 'debian', 'pkg', 'usr', 'share', 'doc', 'pkg'), { recursive: true });
      fs.writeFileSync(path.join(src, 'debian', 'control'), 'Source: demo\nMaintainer: M <m@example.org>\n\nPackage: pkg\nArchitecture: all\nDescription: d\n');
      fs.writeFileSync(path.join(src, 'debian', 'changelog'), 'demo (1.0) unstable; urgency=low\n\n  * x\n\n -- M <m@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n');
      fs.writeFileSync(path.join(src, 'debian', 'compat'), '13\n');
      const gz = path.join(src, 'debian', 'pkg', 'usr', 'share', 'doc', 'pkg', 'a.gz');
      fs.copyFileSync(GZ, gz);
      const plain = spawnSync(command, [], { cwd: src, encoding: 'utf8', env: { ...process.env, DH_VERBOSE: '' } });
      fs.copyFileSync(GZ, gz);
      const verbose = spawnSync(command, [], { cwd: src, encoding: 'utf8', env: { ...process.env, DH_VERBOSE: '1' } });
      return { plain: plain.stdout + plain.stderr, verbose: verbose.stdout };
    });
    expect(results[1].plain).toBe('');
    expect(results[1]).toEqual(results[0]);
  });
});

describe('the runner\'s commands', () => {
  for (const command of ['gbuild', 'gsign', 'gverify', 'make-base-vm']) {
    it(`${command} answers --help and --version`, () => {
      const bin = path.join(ROOT, 'bin', command);
      const help = spawnSync(bin, ['--help'], { encoding: 'utf8' });
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: ${command} `));
      const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
      expect(version.status).toBe(0);
      expect(version.stdout).toMatch(new RegExp(`^${command} \\(strip-nondeterminism-node \\d+\\.\\d+\\.\\d+\\)\\n$`));
    });
  }
});

describe.skipIf(missing('groff'))('man pages', () => {
  it('all six render without a groff warning', () => {
    const pages = fs.readdirSync(path.join(ROOT, 'man')).filter((f) => f.endsWith('.1')).sort();
    expect(pages).toEqual(['dh_strip_nondeterminism.1', 'gbuild.1', 'gsign.1', 'gverify.1', 'make-base-vm.1', 'strip-nondeterminism.1']);
    for (const page of pages) {
      const r = spawnSync('groff', ['-man', '-ww', '-z', path.join(ROOT, 'man', page)], { encoding: 'utf8' });
      expect(r.status, page).toBe(0);
      expect(r.stderr, page).toBe('');
    }
    expect(sh(`MANWIDTH=80 man -l '${path.join(ROOT, 'man', 'strip-nondeterminism.1')}'`)).toMatch(/NAME\s+strip-nondeterminism\s+-\s+normalize\s+build\s+artifacts/);
  });
});
