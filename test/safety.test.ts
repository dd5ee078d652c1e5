/**
 * Never harm a file: a process swapping tree files for symlinks during runs, names that are
 * not UTF-8, unreadable directories, zip members that inflate past any bound, kill -9 at many
 * moments during a tree run with hard links, SIGTERM/SIGINT/SIGHUP mid-write (no temporary file
 * left), leftovers of killed runs, zips whose headers
 * disagree (unzip -t is the oracle), owners that cannot be kept, times. Each case checks the
 * bytes of every file it did not ask to change.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURE_T, UPSTREAM, missing, runBin, sh, tempDir } from './lib/helpers.js';

const GZ_IN = fs.readFileSync(path.join(UPSTREAM, 'gzip/vimoutliner_vo_readme_txt.gz.in'));
const GZ_OUT = fs.readFileSync(path.join(UPSTREAM, 'gzip/vimoutliner_vo_readme_txt.gz.out'));
const T = String(FIXTURE_T);
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const isRoot = process.getuid?.() === 0;
const asNobody = (args: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], { encoding: 'utf8' });

describe('a tree run writes only what it was asked to', () => {
  it('never rewrites a file outside the tree while another process swaps tree files for symlinks to it', async () => {
    const dir = tempDir('snd-race-');
    const outside = path.join(dir, 'outside.gz');
    fs.writeFileSync(outside, GZ_IN);
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(tree);
    const names = Array.from({ length: 40 }, (_, i) => path.join(tree, `f${String(i).padStart(2, '0')}.gz`));
    // The swapper: each name in turn becomes a symlink to the outside file, then a file again.
    const swapper = spawn(process.execPath, ['-e', `
      const fs = require('fs');
      const names = ${JSON.stringify(names)};
      for (let round = 0; ; round++) for (const n of names) {
        try { fs.unlinkSync(n); } catch {}
        try { fs.symlinkSync(${JSON.stringify(outside)}, n); } catch {}
        try { fs.unlinkSync(n); fs.writeFileSync(n, fs.readFileSync(${JSON.stringify(path.join(UPSTREAM, 'gzip/vimoutliner_vo_readme_txt.gz.in'))})); } catch {}
      }`]);
    try {
      for (let run = 0; run < 25; run++) {
        for (const n of names) fs.rmSync(n, { force: true });
        for (const n of names) fs.writeFileSync(n, GZ_IN);
        const r = spawnSync(process.execPath, [BIN, '-T', T, tree], { encoding: 'utf8' });
        expect(r.stderr).not.toMatch(/TypeError|RangeError|at .*\.js:\d+/);
        expect(fs.lstatSync(outside).isFile()).toBe(true);
        expect(fs.readFileSync(outside).equals(GZ_IN)).toBe(true);
      }
    } finally {
      swapper.kill('SIGKILL');
    }
    expect(fs.readdirSync(tree).filter((n) => n.endsWith('.snd-tmp'))).toEqual([]);
  }, 120_000);

  it('processes a name that is not valid UTF-8 and shows it escaped', () => {
    const dir = tempDir('snd-bytes-');
    const bad = Buffer.concat([Buffer.from(dir + '/caf'), Buffer.from([0xe9, 0xff]), Buffer.from('.gz')]);
    fs.writeFileSync(bad, GZ_IN);
    fs.writeFileSync(path.join(dir, 'plain.gz'), GZ_IN);
    const json = path.join(tempDir('snd-json-'), 'r.json');
    const r = runBin(['-T', T, '--json', json, dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(bad).equals(GZ_OUT)).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'plain.gz')).equals(GZ_OUT)).toBe(true);
    const files = JSON.parse(fs.readFileSync(json, 'utf8')).files.map((f: { path: string; changed: boolean }) => [path.basename(f.path), f.changed]);
    expect(files).toEqual([['caf\\xe9\\xff.gz', true], ['plain.gz', true]]);
    expect(fs.readdirSync(dir, { encoding: 'buffer' }).length).toBe(2);
  });

  it.skipIf(!isRoot || !!missing('setpriv'))('warns about an unreadable directory and file, and normalizes the rest', () => {
    const dir = tempDir('snd-unreadable-');
    fs.mkdirSync(path.join(dir, 'closed'));
    fs.writeFileSync(path.join(dir, 'closed', 'x.gz'), GZ_IN);
    fs.writeFileSync(path.join(dir, 'secret.gz'), GZ_IN);
    fs.writeFileSync(path.join(dir, 'open.gz'), GZ_IN);
    sh(`chown -R 65534:65534 '${dir}' && chown 0:0 '${dir}/closed' '${dir}/secret.gz' && chmod 700 '${dir}/closed' && chmod 600 '${dir}/secret.gz' && chmod 755 '${path.dirname(dir)}' || true`);
    const r = asNobody(['-T', T, dir]);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(r.stderr).toContain(`cannot read directory ${dir}/closed (EACCES); skipped`);
    expect(r.stderr).toMatch(/2 warnings, 0 errors/);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'open.gz')).equals(GZ_OUT)).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'closed', 'x.gz')).equals(GZ_IN)).toBe(true);
  });

  it.skipIf(!isRoot || !!missing('setpriv'))('does not replace a file whose owner it cannot keep', () => {
    const dir = tempDir('snd-owner-');
    const file = path.join(dir, 'root-owned.gz');
    fs.writeFileSync(file, GZ_IN);
    fs.chmodSync(file, 0o644);
    sh(`chown 65534:65534 '${dir}' && chmod 755 '${path.dirname(dir)}' || true`);
    const r = asNobody(['-T', T, file]);
    expect(r.status).toBe(255);
    expect(r.stderr).toContain(`${file}: cannot keep its owner 0:0 (EPERM): the file is left as it was`);
    expect(fs.statSync(file).uid).toBe(0);
    expect(fs.readFileSync(file).equals(GZ_IN)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['root-owned.gz']);
  });
});

describe('leftovers of a killed run', () => {
  it('are removed by the next run, in a tree and beside an operand, and never processed', () => {
    const dir = tempDir('snd-leftover-');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'a.gz'), GZ_IN);
    fs.writeFileSync(path.join(dir, 'sub', '.a.gz.0123456789ab.snd-tmp'), GZ_IN.subarray(0, 10));
    fs.writeFileSync(path.join(dir, 'b.gz'), GZ_IN);
    fs.writeFileSync(path.join(dir, '.b.gz.abcdefabcdef.snd-tmp'), GZ_IN.subarray(0, 10));
    fs.writeFileSync(path.join(dir, '.b.gz.not-ours.snd-tmp'), 'a user file');
    expect(runBin(['-T', T, path.join(dir, 'b.gz')]).status).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['.b.gz.not-ours.snd-tmp', 'b.gz', 'sub']);
    const r = runBin(['-T', T, '--json', path.join(tempDir(), 'r.json'), dir]);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'sub'))).toEqual(['a.gz']);
    expect(fs.readFileSync(path.join(dir, 'sub', 'a.gz')).equals(GZ_OUT)).toBe(true);
  });
});

describe.skipIf(missing('tar', 'zip', 'python3'))('kill -9 during a tree run with hard links, a big tar and jars', () => {
  it('leaves every name holding a complete old or new file at 20 moments, and the next run finishes cleanly', () => {
    const base = tempDir('snd-kill-');
    const seed = path.join(base, 'seed');
    fs.mkdirSync(seed);
    // A ~24 MB tar of random-ish data (slow to rewrite), a jar, and a gzip file with three names.
    sh(`python3 -c "import os,sys; sys.stdout.buffer.write(os.urandom(24<<20))" > blob && tar cf big.tar blob && rm blob`, seed);
    sh(`printf 'Manifest-Version: 1.0\\nBuilt-By: someone\\n' > MANIFEST.MF && mkdir META-INF && mv MANIFEST.MF META-INF/ && zip -q app.jar META-INF/MANIFEST.MF && rm -r META-INF`, seed);
    fs.writeFileSync(path.join(seed, 'doc.gz'), GZ_IN);
    const expected = new Map<string, Set<string>>(); // name → the hashes it may hold
    const fresh = (dir: string) => {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir);
      for (const n of fs.readdirSync(seed)) fs.copyFileSync(path.join(seed, n), path.join(dir, n));
      fs.linkSync(path.join(dir, 'doc.gz'), path.join(dir, 'doc-link1.gz'));
      fs.linkSync(path.join(dir, 'doc.gz'), path.join(dir, 'doc-link2.gz'));
    };
    // The complete new bytes, from an uninterrupted run.
    const reference = path.join(base, 'reference');
    fresh(reference);
    const names = fs.readdirSync(reference).sort();
    for (const n of names) expected.set(n, new Set([sha(fs.readFileSync(path.join(reference, n)))]));
    expect(runBin(['-T', T, '-j1', reference]).status).toBe(0);
    for (const n of names) expected.get(n)!.add(sha(fs.readFileSync(path.join(reference, n))));

    const work = path.join(base, 'work');
    for (let k = 0; k < 20; k++) {
      fresh(work);
      const delay = 20 + k * 45; // ms, spread over the run
      const r = spawnSync('sh', ['-c', `${process.execPath} '${BIN}' -T ${T} -j1 '${work}' & pid=$!; sleep ${delay / 1000}; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; true`]);
      expect(r.status).toBe(0);
      for (const n of names) {
        const h = sha(fs.readFileSync(path.join(work, n)));
        expect(expected.get(n)!.has(h), `${n} after a kill at ${delay} ms`).toBe(true);
      }
      const again = runBin(['-T', T, '-j1', work]);
      expect(again.status, again.stderr).toBe(0);
      expect(fs.readdirSync(work).sort()).toEqual(names);
      for (const n of names) expect(fs.readFileSync(path.join(work, n)).equals(fs.readFileSync(path.join(reference, n))), `${n} after the next run`).toBe(true);
    }
  }, 300_000);
});

describe.skipIf(missing('tar', 'python3'))('a signal during a write', () => {
  /** A tree whose big tar takes a while to rewrite, and enough small files for -j2's workers. */
  const seed = tempDir('snd-signal-seed-');
  sh(`python3 -c "import os,sys; sys.stdout.buffer.write(os.urandom(24<<20))" > blob && tar cf big.tar blob && rm blob`, seed);
  for (let i = 0; i < 70; i++) fs.writeFileSync(path.join(seed, `doc${i}.gz`), GZ_IN);
  const names = fs.readdirSync(seed).sort();
  const allowed = new Map(names.map((n) => [n, new Set([sha(fs.readFileSync(path.join(seed, n)))])]));
  const reference = tempDir('snd-signal-ref-');
  for (const n of names) fs.copyFileSync(path.join(seed, n), path.join(reference, n));
  expect(runBin(['-T', T, reference]).status).toBe(0);
  for (const n of names) allowed.get(n)!.add(sha(fs.readFileSync(path.join(reference, n))));

  for (const [signal, jobs] of [['SIGTERM', '1'], ['SIGINT', '2'], ['SIGHUP', '1']] as const) {
    it(`${signal} with -j${jobs}: the run dies of it, no temporary file is left, every file is whole`, async () => {
      const work = tempDir('snd-signal-');
      for (const n of names) fs.copyFileSync(path.join(seed, n), path.join(work, n));
      const child = spawn(process.execPath, [BIN, '-T', T, `-j${jobs}`, work], { stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      // Signal the run once a temporary file exists (the tar's, or a worker's).
      const deadline = Date.now() + 30_000;
      while (!fs.readdirSync(work).some((n) => n.endsWith('.snd-tmp')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      expect(fs.readdirSync(work).some((n) => n.endsWith('.snd-tmp'))).toBe(true);
      child.kill(signal);
      expect(await exited).toBe(signal);
      expect(fs.readdirSync(work).sort()).toEqual(names);
      for (const n of names) expect(allowed.get(n)!.has(sha(fs.readFileSync(path.join(work, n)))), n).toBe(true);
    }, 60_000);
  }
});

describe.skipIf(missing('python3', 'unzip'))('zip members held in memory are bounded', () => {
  const bomb = (dir: string, name: string, member: string, bytes: number) => {
    sh(`python3 -c "
import zipfile
with zipfile.ZipFile('${name}', 'w', zipfile.ZIP_DEFLATED) as z:
    with z.open('${member}', 'w', force_zip64=True) as f:
        chunk = b'Manifest-Version: 1.0\\n' + b'x' * (1 << 20)
        for _ in range(${bytes} >> 20): f.write(chunk[: 1 << 20])
"`, dir);
    return path.join(dir, name);
  };

  it('a MANIFEST.MF declaring 1 GiB is a clean error, the jar unchanged', () => {
    const dir = tempDir('snd-bomb-');
    const jar = bomb(dir, 'bomb.jar', 'META-INF/MANIFEST.MF', 1 << 30);
    const before = fs.readFileSync(jar);
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, BIN, '-T', T, jar], { encoding: 'utf8' });
    expect(r.status).toBe(255);
    expect(r.stderr).toContain(`${jar}: member META-INF/MANIFEST.MF: 1073741824 bytes to hold in memory, over the limit of 67108864 (--max-member-size raises it)`);
    expect(fs.readFileSync(jar).equals(before)).toBe(true);
    const rssKb = Number(r.stderr.trim().split('\n').pop());
    expect(rssKb).toBeLessThan(256 * 1024);
  }, 120_000);

  it('a member that inflates past its declared size is corrupt, not a bigger buffer', () => {
    const dir = tempDir('snd-bomb-');
    const jar = bomb(dir, 'liar.jar', 'META-INF/MANIFEST.MF', 32 << 20);
    const b = fs.readFileSync(jar);
    // Declare 100 bytes in the central directory (the zip64 extra keeps the real one: drop it).
    const cd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    b.writeUInt32LE(100, cd + 24);
    fs.writeFileSync(jar, b);
    const r = runBin(['-T', T, jar]);
    expect(r.status).toBe(255);
    expect(r.stderr).toMatch(/member META-INF\/MANIFEST\.MF: (inflates to more than its declared 100 bytes|CRC|size)/);
    expect(fs.readFileSync(jar).equals(b)).toBe(true);
  }, 120_000);

  it('a jar nested 40 deep is refused at the depth limit, and --max-depth raises it', () => {
    const dir = tempDir('snd-nest-');
    sh(`printf 'Manifest-Version: 1.0\\nBuilt-By: x\\n' > m && mkdir -p META-INF && cp m META-INF/MANIFEST.MF && zip -q j0.jar META-INF/MANIFEST.MF && for i in $(seq 1 40); do mv j$((i-1)).jar inner.jar && zip -q j$i.jar inner.jar && rm inner.jar; done`, dir);
    const jar = path.join(dir, 'j40.jar');
    const before = fs.readFileSync(jar);
    const r = runBin(['-T', T, jar]);
    expect(r.status).toBe(255);
    expect(r.stderr).toMatch(/members nested more than 32 deep, at inner\.jar \(--max-depth raises the limit\)/);
    expect(fs.readFileSync(jar).equals(before)).toBe(true);
    expect(runBin(['-T', T, '--max-depth', '64', jar]).status).toBe(0);
    expect(sh(`unzip -t '${jar}'`)).toContain('No errors detected');
  }, 120_000);
});

describe.skipIf(missing('zip', 'unzip'))('zips whose local header contradicts the central directory', () => {
  it('are left unchanged with a warning naming the member, where a copy would fail unzip -t', () => {
    const dir = tempDir('snd-disagree-');
    sh(`printf 'hello hello hello hello\\n' > a.txt && printf 'b\\n' > b.txt && zip -q base.zip a.txt b.txt`, dir);
    const base = fs.readFileSync(path.join(dir, 'base.zip'));
    const local = 0; // a.txt's local header comes first
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ['method.zip', (b) => b.writeUInt16LE(0, local + 8), /compression method 0 in its local header, 8 in the central directory/],
      ['encrypted.zip', (b) => b.writeUInt16LE(b.readUInt16LE(local + 6) | 1, local + 6), /encryption flag differs/],
      ['size.zip', (b) => b.writeUInt32LE(b.readUInt32LE(local + 22) + 1, local + 22), /size \d+ in its local header/],
    ];
    for (const [name, damage, message] of cases) {
      const b = Buffer.from(base);
      damage(b);
      const f = path.join(dir, name);
      fs.writeFileSync(f, b);
      const r = runBin(['-T', T, f]);
      expect(r.status, name).toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('member a.txt');
      expect(fs.readFileSync(f).equals(b), name).toBe(true);
    }
  });
});
