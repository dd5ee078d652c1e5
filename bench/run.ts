/**
 * `npm run bench`: the Perl tool and this port over copies of the same corpus, in the same run.
 * Reports wall time, CPU time and peak RSS for each (via /usr/bin/time), the Perl/ours wall ratio,
 * and checks that both produced identical trees. Ratios, not absolute times, are the result: the
 * two tools run back to back on the same machine.
 *
 * Scenarios:
 *  - corpus: the Debian package corpus (scripts/fetch-debian-corpus.sh, ~50 packages): the Perl
 *    tool over every regular file in batches of 500 paths (`find | xargs`), this port once over
 *    the tree (its batch mode, worker threads);
 *  - jar5k: a 5,000-entry jar, both tools, plus this port alone on 20,000 and 50,000 entries to
 *    show time per entry stays flat (linear time);
 *  - big (only with SND_BENCH_BIG=1, it writes 2 GB): a zip with a 2 GB member, this port's peak
 *    RSS against a small archive's, to show memory does not grow with member size;
 *  - tar: a ~1 GB tar.gz of real files, a large real .deb, and tar.zst inputs of 0.25, 1 and 4 GB
 *    (SND_BENCH_TAR_MAX_GB caps the series) to show peak RSS stays flat as input grows. The Perl
 *    tool has no tar handler, so this scenario reports throughput and RSS, not ratios.
 *  - resources: hostile inputs (issue 13's bounds: peak RSS at most 256 MB, bombs end cleanly, the
 *    42-style one within 10 s): zips of 100,000 and 1,000,000 entries, 2,000 nested jars, a
 *    42-style nested-jar bomb, a MANIFEST.MF declaring 1 GiB. Time, peak RSS, exit status.
 *  - startup: one small .gz, each command started 10 times: `node -e 0`, the Perl tool and this
 *    port (medians; the target is this port within 1.35x of `node -e 0`), then 1,000 files each
 *    normalized by its own process (the `find -exec` pattern), the Perl tool against this port.
 *  - pyc: a large module (5,000 functions and 500 classes, ~5,500 code objects) compiled by
 *    python3: this port's time and peak RSS, against python3 itself loading and re-dumping the
 *    marshal stream (C code, the floor for this work); the output must load as the same code.
 *  - diff: `strip-nondeterminism diff` against diffoscope (diffoscope-minimal) on pairs of real
 *    artifacts built twice at different times: a .deb (dpkg-deb, of /usr/share/perl plus a jar),
 *    a jar (the JDK's jar tool, of guava's classes) and a tar.xz (GNU tar, of /usr/share/perl).
 *  - scaling: zips of 1,000 to 1,000,000 entries, tars of 100 MB to 4 GB, jars nested 1 to 1,000
 *    deep: time and peak RSS of each (a table for the README).
 *  - rpm: packages rpmbuild made with 50 MB and 500 MB payloads (zstd -3; a .gz and a jar among
 *    50 files of incompressible data): time and peak RSS of normalizing each, `rpm -K` after; the
 *    peak must not grow with the payload (it is streamed through scratch files).
 * `npm run bench -- corpus` (or jar5k, big, tar, resources, startup, pyc, diff, scaling, rpm) runs one scenario.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { handlers } from '../src/app/registry.js';
import { listFiles } from '../src/app/walk.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CORPUS = process.env.SND_DEBIAN_CORPUS ?? path.join(ROOT, 'var', 'debian-corpus', 'root');
const PERL = '/usr/bin/strip-nondeterminism';
const OURS = path.join(ROOT, 'bin', 'strip-nondeterminism');
const BATCH = 500;
const ARGS = ['-T', '1423159771', '--normalizers', '+all'];
/** Ours with the Perl tool's formats only: the corpus compares outputs byte for byte, and the
 *  formats Perl leaves alone (tar, deb, html, xml, odf, pyc) would differ by design. */
const OURS_ARGS = ['-T', '1423159771', '--normalizers', ['+all', ...handlers().filter((h) => h.beyondPerl).map((h) => `-${h.name}`)].join(',')];

interface Measure {
  wall: number;
  cpu: number;
  maxRssMb: number;
  failures: number;
}

/** Run `cmd ARGS batch...` for every batch under /usr/bin/time; sum wall and CPU, max RSS. */
function measure(cmd: string, files: string[]): Measure {
  const m: Measure = { wall: 0, cpu: 0, maxRssMb: 0, failures: 0 };
  for (let i = 0; i < files.length; i += BATCH) {
    const one = timeOne(cmd, [...ARGS, ...files.slice(i, i + BATCH)]);
    m.wall += one.wall;
    m.cpu += one.cpu;
    m.maxRssMb = Math.max(m.maxRssMb, one.maxRssMb);
    m.failures += one.failures;
  }
  return m;
}

/** A jar with `n` class-like members in 97 packages, a MANIFEST.MF with Built-By, made by the
 *  JDK's `jar` tool when it is installed (deflated members, data descriptors, the 0xCAFE extra
 *  field: what real jars look like), else by python's zipfile. */
function makeJar(file: string, n: number): void {
  const py = `
import os, random, sys, zipfile
random.seed(1)
out, n, tree = sys.argv[1], int(sys.argv[2]), sys.argv[3]
blobs = [bytes(random.getrandbits(8) for _ in range(48)) * 10 for _ in range(64)]
if tree != '-':
    for i in range(n):
        d = os.path.join(tree, 'org', 'example', 'p%d' % (i % 97))
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, 'C%d.class' % i), 'wb').write(blobs[i % 64] + str(i).encode())
    open(os.path.join(tree, '..', 'manifest.txt'), 'w').write('Built-By: bench\\nCreated-By: bench\\n')
else:
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo('META-INF/', (2021, 1, 1, 0, 0, 0)), '')
        z.writestr(zipfile.ZipInfo('META-INF/MANIFEST.MF', (2021, 1, 1, 0, 0, 0)), 'Manifest-Version: 1.0\\r\\nBuilt-By: bench\\r\\n\\r\\n', zipfile.ZIP_DEFLATED)
        for i in range(n):
            info = zipfile.ZipInfo('org/example/p%d/C%d.class' % (i % 97, i), (2021, 1 + i % 12, 1 + i % 28, i % 24, i % 60, 0))
            z.writestr(info, blobs[i % 64] + str(i).encode(), zipfile.ZIP_DEFLATED)
`;
  const useJar = spawnSync('sh', ['-c', 'command -v jar']).status === 0;
  const tree = useJar ? fs.mkdtempSync(path.join(path.dirname(file), 'tree-')) + '/classes' : '-';
  const r = spawnSync('python3', ['-c', py, file, String(n), tree], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`making ${file}: ${r.stderr}`);
  if (useJar) {
    const j = spawnSync('jar', ['cfm', file, path.join(tree, '..', 'manifest.txt'), '-C', tree, '.'], { encoding: 'utf8' });
    if (j.status !== 0) throw new Error(`jar: ${j.stderr}`);
    fs.rmSync(path.dirname(tree), { recursive: true, force: true });
  }
}

/** One command under /usr/bin/time: wall, user+system CPU, peak RSS. */
function timeOne(cmd: string, args: string[]): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const last = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall: last[0], cpu: last[1] + last[2], maxRssMb: last[3] / 1024, failures: r.status === 0 ? 0 : 1 };
}

function jarScenario(work: string): void {
  const jar = path.join(work, 'big5k.jar');
  makeJar(jar, 5000);
  for (const who of ['perl', 'ours']) fs.copyFileSync(jar, path.join(work, `${who}.jar`));
  const perl = timeOne(PERL, ['-T', '1423159771', path.join(work, 'perl.jar')]);
  const ours = timeOne(OURS, ['-T', '1423159771', path.join(work, 'ours.jar')]);
  const same = fs.readFileSync(path.join(work, 'perl.jar')).equals(fs.readFileSync(path.join(work, 'ours.jar')));
  const maker = spawnSync('sh', ['-c', 'command -v jar']).status === 0 ? 'the JDK jar tool' : 'python zipfile';
  console.log(`\n5,000-entry jar (${(fs.statSync(jar).size / 1e6).toFixed(1)} MB, made by ${maker})`);
  console.log(`perl   wall ${perl.wall.toFixed(2).padStart(7)} s   peak RSS ${perl.maxRssMb.toFixed(0).padStart(4)} MB`);
  console.log(`ours   wall ${ours.wall.toFixed(2).padStart(7)} s   peak RSS ${ours.maxRssMb.toFixed(0).padStart(4)} MB`);
  console.log(`wall ratio perl/ours: ${(perl.wall / ours.wall).toFixed(1)}x   outputs identical: ${same ? 'yes' : 'NO'}`);
  if (!same || perl.failures || ours.failures) process.exitCode = 1;
  console.log('scaling (this port only):');
  for (const n of [5000, 20000, 50000]) {
    const f = path.join(work, `scale${n}.jar`);
    makeJar(f, n);
    const m = timeOne(OURS, ['-T', '1423159771', f]);
    console.log(`  ${String(n).padStart(6)} entries: ${m.wall.toFixed(2).padStart(6)} s, ${((m.wall * 1e6) / n).toFixed(0).padStart(4)} µs/entry, peak RSS ${m.maxRssMb.toFixed(0)} MB`);
  }
}

function bigScenario(work: string): void {
  const big = path.join(work, 'big.zip');
  const small = path.join(work, 'small.zip');
  const py = `
import zipfile, sys
size = int(sys.argv[2])
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED, allowZip64=True) as z:
    with z.open(zipfile.ZipInfo('blob.bin', (2021, 1, 1, 0, 0, 0)), 'w', force_zip64=False) as f:
        chunk = bytes(range(256)) * 4096
        left = size
        while left > 0:
            f.write(chunk[:min(left, len(chunk))]); left -= len(chunk)
    z.writestr('small.txt', 'x')
`;
  for (const [f, size] of [[big, 2 * 1024 ** 3 - 1024], [small, 1024 * 1024]] as const) {
    const r = spawnSync('python3', ['-c', py, f, String(size)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  const s = timeOne(OURS, ['-T', '1423159771', small]);
  const b = timeOne(OURS, ['-T', '1423159771', big]);
  console.log('\n2 GB member (this port): peak RSS does not follow member size');
  console.log(`  1 MB member: peak RSS ${s.maxRssMb.toFixed(0)} MB;  2 GB member: peak RSS ${b.maxRssMb.toFixed(0)} MB, wall ${b.wall.toFixed(1)} s`);
  const t = spawnSync('unzip', ['-tq', big], { encoding: 'utf8' });
  console.log(`  unzip -t on the result: ${t.status === 0 ? 'ok' : 'FAILED ' + t.stdout}`);
  if (t.status !== 0 || b.failures) process.exitCode = 1;
}

const sh = (cmd: string, cwd?: string) => {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', cwd, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
};
const mb = (bytes: number) => bytes / 1e6;
const fmtRow = (label: string, inBytes: number, tarBytes: number, m: Measure) =>
  `  ${label.padEnd(34)} ${mb(inBytes).toFixed(0).padStart(6)} MB in, ${mb(tarBytes).toFixed(0).padStart(6)} MB tar: ` +
  `wall ${m.wall.toFixed(1).padStart(6)} s, ${(mb(tarBytes) / m.wall).toFixed(1).padStart(6)} MB/s of tar, peak RSS ${m.maxRssMb.toFixed(0).padStart(4)} MB`;

/** tar.gz of real files, a big real .deb, and a size series for memory flatness. */
function tarScenario(work: string): void {
  console.log('\ntar and .deb (this port only: the Perl tool has no tar handler)');
  // 1. About 1 GB of real files (libraries, documentation), packed as a build would: GNU tar in
  //    readdir order with the files' own times and owners, gzip -6.
  const list = path.join(work, 'files.txt');
  sh(`find /usr/lib /usr/share -xdev -type f -size -64M 2>/dev/null > '${list}.all' || true`);
  let total = 0;
  const chosen: string[] = [];
  for (const f of fs.readFileSync(`${list}.all`, 'utf8').split('\n')) {
    if (!f || total > 1e9) continue;
    try {
      total += fs.statSync(f).size;
      chosen.push(f.slice(1));
    } catch {
      /* vanished */
    }
  }
  fs.writeFileSync(list, chosen.join('\n') + '\n');
  const tgz = path.join(work, 'real.tar.gz');
  sh(`tar -C / -cf - -T '${list}' 2>/dev/null | gzip -6 > '${tgz}'`);
  const tarSize = Number(sh(`gzip -dc '${tgz}' | wc -c`).trim());
  const m1 = timeOne(OURS, ['-T', '1423159771', tgz]);
  console.log(fmtRow('real files, tar.gz', fs.statSync(tgz).size, tarSize, m1));
  const ok = spawnSync('sh', ['-c', `gzip -dc '${tgz}' | tar -t >/dev/null`]).status === 0;
  if (!ok || m1.failures) process.exitCode = 1;

  // 2. A large real .deb (downloaded with apt-get when possible, else the corpus's largest).
  let deb: string | undefined;
  for (const pkg of (process.env.SND_BENCH_DEB ?? 'libllvm15').split(',')) {
    const r = spawnSync('sh', ['-c', `apt-get download ${pkg} >/dev/null 2>&1 && ls ${pkg}_*.deb`], { cwd: work, encoding: 'utf8' });
    if (r.status === 0) deb = path.join(work, r.stdout.trim().split('\n')[0]);
  }
  const debs = path.join(ROOT, 'var', 'debian-corpus', 'debs');
  if (!deb && fs.existsSync(debs)) {
    const biggest = fs.readdirSync(debs).map((n) => path.join(debs, n)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    deb = path.join(work, path.basename(biggest));
    fs.copyFileSync(biggest, deb);
  }
  if (deb) {
    const dataSize = Number(sh(`dpkg-deb --fsys-tarfile '${deb}' | wc -c`).trim());
    const size = fs.statSync(deb).size;
    const m2 = timeOne(OURS, ['-T', '1423159771', deb]);
    console.log(fmtRow(path.basename(deb), size, dataSize, m2));
    const accepted = spawnSync('sh', ['-c', `dpkg-deb -I '${deb}' >/dev/null && dpkg-deb -c '${deb}' >/dev/null`]).status === 0;
    console.log(`  dpkg-deb -I/-c on the result: ${accepted ? 'ok' : 'FAILED'}`);
    if (!accepted || m2.failures) process.exitCode = 1;
  }

  // 3. Peak RSS against input size: tar.zst of 0.25, 1 and 4 GB (zstd keeps the run short; the
  //    pipeline is the same for every compression). Members: 1,000 small files and large ones.
  const maxGb = Number(process.env.SND_BENCH_TAR_MAX_GB ?? 4);
  for (const gb of [0.25, 1, 4].filter((g) => g <= maxGb)) {
    const f = path.join(work, `series-${gb}.tar.zst`);
    const py = String.raw`
import tarfile, sys, io, os
size = int(float(sys.argv[2]) * 1e9)
# Half random bytes, half text: compresses about 2:1, like a mix of binaries and documents.
def chunk(i):
    text = b'line %d of some text\n' % i
    return os.urandom(1 << 19) + (text * ((1 << 19) // len(text) + 1))[:1 << 19]
with tarfile.open(fileobj=sys.stdout.buffer, mode='w|', format=tarfile.GNU_FORMAT) as t:
    for i in range(1000):
        ti = tarfile.TarInfo('small/%04d.txt' % (999 - i)); data = b'small file %d\n' % i
        ti.size = len(data); ti.mtime = 1600000000 + i; ti.uid = 1000; t.addfile(ti, io.BytesIO(data))
    done, n = 0, 0
    while done < size:
        part = min(256 << 20, size - done)
        ti = tarfile.TarInfo('big/%03d.bin' % (999 - n)); ti.size = part; ti.mtime = 1600000000 + n
        class R(io.RawIOBase):
            left, k = part, 0
            def readable(self): return True
            def readinto(self, b):
                c = chunk(self.k)[:min(len(b), self.left)]; self.k += 1
                b[:len(c)] = c; self.left -= len(c); return len(c)
        t.addfile(ti, io.BufferedReader(R(), 1 << 20)); done += part; n += 1
`;
    fs.writeFileSync(path.join(work, 'gen.py'), py);
    sh(`python3 '${path.join(work, 'gen.py')}' x ${gb} > '${f}.tar' && zstd -q -1 -T0 --rm -o '${f}' '${f}.tar'`);
    const inSize = fs.statSync(f).size;
    const tarBytes = Math.round(gb * 1e9);
    const m = timeOne(OURS, ['-T', '1423159771', f]);
    console.log(fmtRow(`synthetic ${gb} GB, tar.zst`, inSize, tarBytes, m));
    if (m.failures) process.exitCode = 1;
    fs.rmSync(f);
  }
}

/** Python that makes the hostile inputs of the resources scenario (argv: kind, output). */
const HOSTILE_PY = `
import sys, zipfile, io
kind, out = sys.argv[1], sys.argv[2]
def jar_bytes(members, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', method) as z:
        for name, data in members: z.writestr(name, data)
    return b.getvalue()
if kind.startswith('entries-'):
    n = int(kind.split('-')[1])
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as z:
        for i in range(n): z.writestr('d%04d/f%07d.class' % (i // 1000, i), b'x')
elif kind.startswith('nested-'):
    depth = int(kind.split('-')[1])
    data = jar_bytes([('META-INF/MANIFEST.MF', b'Manifest-Version: 1.0\\nBuilt-By: x\\n')])
    for i in range(depth): data = jar_bytes([('inner%d.jar' % i, data)])
    open(out, 'wb').write(data)
elif kind == '42':
    leaf = jar_bytes([('big%d.txt' % i, b'\\0' * (64 << 20)) for i in range(16)])
    data = leaf
    for level in range(4): data = jar_bytes([('lib%d.jar' % i, data) for i in range(16)])
    open(out, 'wb').write(data)
elif kind == 'manifest-1g':
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
        with z.open('META-INF/MANIFEST.MF', 'w', force_zip64=True) as f:
            for _ in range(1024): f.write(b'x' * (1 << 20))
`;

/** Median wall time of `runs` starts of a command. */
function medianStart(cmd: string, args: string[], runs = 10): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    spawnSync(cmd, args, { stdio: 'ignore' });
    times.push((performance.now() - t) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

function startupScenario(work: string): void {
  const gz = path.join(work, 'small.gz');
  fs.copyFileSync(path.join(ROOT, 'fixtures', 'upstream', 'gzip', 'vimoutliner_vo_readme_txt.gz.out'), gz);
  const node = medianStart(process.execPath, ['-e', '0']);
  const perl = medianStart(PERL, ['-T', '1', gz]);
  const ours = medianStart(OURS, ['-T', '1', gz]);
  console.log(`startup (one small .gz, median of 10): node -e 0 ${node.toFixed(3)} s, Perl ${perl.toFixed(3)} s, ours ${ours.toFixed(3)} s = ${(ours / node).toFixed(2)}x node (target <= 1.35x) ${ours / node <= 1.35 ? 'within' : 'OVER'}`);
  const dir = path.join(work, 'many');
  const each = (cmd: string) => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    for (let i = 0; i < 1000; i++) fs.copyFileSync(gz, path.join(dir, `f${i}.gz`));
    const t = performance.now();
    spawnSync('sh', ['-c', `find '${dir}' -name '*.gz' -exec '${cmd}' -T 1 {} \\;`], { stdio: 'ignore' });
    return (performance.now() - t) / 1000;
  };
  const perlMany = each(PERL);
  const oursMany = each(OURS);
  console.log(`1,000 files, one process each (find -exec): Perl ${perlMany.toFixed(1)} s, ours ${oursMany.toFixed(1)} s (ours/Perl ${(oursMany / perlMany).toFixed(2)}x)`);
}

function resourcesScenario(work: string): void {
  console.log('resources: hostile inputs; bounds: peak RSS <= 256 MB, a clean end (no signal), 42-style bomb <= 10 s');
  for (const kind of ['entries-100000', 'entries-1000000', 'nested-2000', '42', 'manifest-1g']) {
    const file = path.join(work, `${kind}.jar`);
    const made = spawnSync('python3', ['-c', HOSTILE_PY, kind, file], { encoding: 'utf8' });
    if (made.status !== 0) {
      console.log(`  ${kind}: could not make the input (${made.stderr.trim().split('\n').pop()})`);
      continue;
    }
    const size = fs.statSync(file).size;
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', OURS, '-T', '1423159771', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const lines = r.stderr.trim().split('\n');
    const [wall, rssKb] = lines.pop()!.split(' ').map(Number);
    const outcome = r.signal ? `killed by ${r.signal}` : r.status === 0 ? 'normalized' : `exit ${r.status}: ${(lines[0] ?? '').replace(file, kind + '.jar').slice(0, 110)}`;
    const within = rssKb / 1024 <= 256 && !r.signal && (kind !== '42' || wall <= 10);
    console.log(`  ${kind.padEnd(16)} ${(size / 1e6).toFixed(1).padStart(7)} MB  ${wall.toFixed(2).padStart(6)} s  peak RSS ${(rssKb / 1024).toFixed(0).padStart(5)} MB  ${within ? 'within bounds' : 'OVER BOUNDS'}  ${outcome}`);
    fs.rmSync(file, { force: true });
  }
}

/** How cost grows: zips of 1,000 to 1,000,000 entries, plain tars of 100 MB to 4 GB (capped by
 *  SND_BENCH_TAR_MAX_GB, default 1), jars nested 1 to 1,000 deep (with --max-depth 1000). */
function scalingScenario(work: string): void {
  console.log('\nscaling: time and peak RSS as inputs grow');
  console.log('  input                          size       time   peak RSS');
  const run = (label: string, file: string, extra: string[] = []) => {
    const size = fs.statSync(file).size;
    const m = timeOne(OURS, ['-T', '1423159771', ...extra, file]);
    console.log(`  ${label.padEnd(28)} ${(size / 1e6).toFixed(1).padStart(8)} MB ${m.wall.toFixed(2).padStart(7)} s ${m.maxRssMb.toFixed(0).padStart(6)} MB${m.failures ? '  FAILED' : ''}`);
    if (m.failures) process.exitCode = 1;
    fs.rmSync(file, { force: true });
  };
  const make = (kind: string, file: string) => spawnSync('python3', ['-c', HOSTILE_PY, kind, file]).status === 0;
  for (const n of [1000, 10000, 100000, 1000000]) {
    const f = path.join(work, `z${n}.zip`);
    if (make(`entries-${n}`, f)) run(`zip, ${n.toLocaleString('en')} entries`, f);
  }
  const maxGb = Number(process.env.SND_BENCH_TAR_MAX_GB ?? 1);
  for (const mb of [100, 1000, 4000].filter((x) => x <= maxGb * 1000)) {
    const f = path.join(work, `t${mb}.tar`);
    // Ten members of mb/10 MB of varied bytes, packed by GNU tar.
    spawnSync('sh', ['-c', `mkdir -p t && for i in 0 1 2 3 4 5 6 7 8 9; do head -c ${mb / 10}M /dev/urandom > t/m$i; done && tar -cf '${f}' t && rm -rf t`], { cwd: work });
    run(`tar, ${mb} MB`, f);
  }
  for (const depth of [1, 10, 100, 1000]) {
    const f = path.join(work, `n${depth}.jar`);
    if (make(`nested-${depth}`, f)) run(`jar nested ${depth} deep`, f, ['--max-depth', '1001']);
  }
}

/** A module of many code objects, each with constants marshal shares or repeats. */
const BIG_MODULE = `
import sys
parts = []
for i in range(5000):
    parts.append(f"def f{i}(a, b=None, *, c='k{i % 50}'):\\n    x = ('alpha', 'beta', {i}, {i}.5, 'k{i % 50}')\\n    return [a, b, c, x, 'alpha', 2 ** 70 + {i}]\\n")
for i in range(500):
    parts.append(f"class C{i}:\\n    '''doc {i}'''\\n    def m(self, y):\\n        return f{i}(y) or ('alpha', {i})\\n")
open(sys.argv[1], 'w').write(''.join(parts))
`;

function pycScenario(work: string): void {
  const source = path.join(work, 'big_module.py');
  const pyc = path.join(work, 'big_module.pyc');
  if (spawnSync('python3', ['-c', BIG_MODULE, source]).status !== 0) throw new Error('bench pyc: python3 could not write the module');
  spawnSync('python3', ['-c', `import py_compile; py_compile.compile(${JSON.stringify(source)}, cfile=${JSON.stringify(pyc)})`]);
  const original = path.join(work, 'original.pyc');
  fs.copyFileSync(pyc, original);
  const ours = timeOne(OURS, [pyc]);
  const redump = timeOne('python3', ['-c', `import marshal,sys; d=open(sys.argv[1],'rb').read(); marshal.dumps(marshal.loads(d[16:]))`, original]);
  const same = spawnSync('python3', ['-c', `import marshal,sys; a,b=[marshal.loads(open(f,'rb').read()[16:]) for f in sys.argv[1:]]; print(a==b)`, original, pyc], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n.pyc of a large module (${(fs.statSync(original).size / 1e6).toFixed(1)} MB, ~5,500 code objects, python3)`);
  console.log(`ours            wall ${ours.wall.toFixed(2).padStart(6)} s   peak RSS ${ours.maxRssMb.toFixed(0).padStart(4)} MB   changed: ${fs.readFileSync(pyc).equals(fs.readFileSync(original)) ? 'no' : 'yes'}`);
  console.log(`python3 marshal wall ${redump.wall.toFixed(2).padStart(6)} s   peak RSS ${redump.maxRssMb.toFixed(0).padStart(4)} MB   (loads + dumps, C)`);
  console.log(`ratio ours/python3: ${(ours.wall / redump.wall).toFixed(1)}x   output loads as the same code: ${same === 'True' ? 'yes' : 'NO'}`);
  if (same !== 'True' || ours.failures) process.exitCode = 1;
}

/** rpmbuild a package whose payload holds `mb` MB in 50 files, a .gz and a jar. */
function makeRpm(work: string, mb: number): string {
  const top = path.join(work, `rpm${mb}`);
  fs.mkdirSync(top, { recursive: true });
  const spec = path.join(top, 'big.spec');
  fs.writeFileSync(spec, `Name: snd-big${mb}
Version: 1
Release: 1
Summary: s
License: MIT
BuildArch: noarch
%description
d
%install
mkdir -p %{buildroot}/usr/share/big
for i in $(seq 1 50); do head -c ${Math.round((mb * 1e6) / 50)} /dev/urandom > %{buildroot}/usr/share/big/part$i; done
date | gzip -c > %{buildroot}/usr/share/big/x.gz
mkdir -p j && date > j/a.txt && (cd j && jar cf %{buildroot}/usr/share/big/x.jar a.txt)
%files
/usr/share/big
`);
  const r = spawnSync('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${top}`, '--define', '_binary_payload w3.zstdio', '--define', '__brp_compress %{nil}', spec], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench rpm: rpmbuild failed: ${r.stderr}`);
  return path.join(top, 'RPMS', 'noarch', `snd-big${mb}-1-1.noarch.rpm`);
}

function rpmScenario(work: string): void {
  console.log('\nrpm packages (rpmbuild, zstd -3 payload; this port only: the Perl tool has no rpm handler)');
  for (const mb of [50, 500]) {
    const rpm = makeRpm(work, mb);
    const m = timeOne(OURS, ['-T', '1423159771', rpm]);
    const ok = spawnSync('rpm', ['-K', '--nosignature', rpm]).status === 0;
    console.log(`  ${String(mb).padStart(4)} MB payload: ${m.wall.toFixed(2).padStart(6)} s, peak RSS ${m.maxRssMb.toFixed(0).padStart(4)} MB, rpm -K: ${ok ? 'OK' : 'FAILED'}`);
    if (!ok || m.failures) process.exitCode = 1;
    fs.rmSync(path.dirname(path.dirname(path.dirname(rpm))), { recursive: true, force: true });
  }
}

/** Two builds of each artifact, at two times (faketime), in `work`. */
function diffPairs(work: string): [string, string, string][] {
  const sh = (cmd: string) => {
    const r = spawnSync('sh', ['-c', cmd], { cwd: work, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench diff: ${cmd}: ${r.stderr}`);
  };
  sh('mkdir -p classes && cd classes && unzip -q /usr/share/java/guava.jar -x "META-INF/*"');
  const pairs: [string, string, string][] = [];
  for (const [i, when] of ['2024-01-02 03:04:05', '2025-06-07 08:09:10'].entries()) {
    sh(`faketime '${when}' jar cf guava-${i}.jar -C classes .`);
    sh(`rm -rf pkg && mkdir -p pkg/DEBIAN pkg/usr/share/java && cp -r /usr/share/perl pkg/usr/share/ && cp guava-${i}.jar pkg/usr/share/java/guava.jar && printf 'Package: p\nVersion: 1\nArchitecture: all\nMaintainer: M <m@example.org>\nDescription: d\n' > pkg/DEBIAN/control && find pkg -exec touch -h -d '${when}' {} + && dpkg-deb --root-owner-group -Zxz --build pkg p-${i}.deb >/dev/null`);
    sh(`tar --mtime='${when}' -cf - -C /usr/share perl | xz -${i === 0 ? 6 : 9} > perl5-${i}.tar.xz`);
  }
  pairs.push(['.deb', 'p-0.deb', 'p-1.deb'], ['jar', 'guava-0.jar', 'guava-1.jar'], ['tar.xz', 'perl5-0.tar.xz', 'perl5-1.tar.xz']);
  return pairs;
}

function diffScenario(work: string): void {
  if (spawnSync('sh', ['-c', 'command -v diffoscope']).status !== 0) {
    console.log('\ndiff: diffoscope not installed (apt-get install diffoscope-minimal); skipped');
    return;
  }
  console.log('\ndiff against diffoscope (two builds of each, at two times)');
  for (const [what, a, b] of diffPairs(work)) {
    const [x, y] = [path.join(work, a), path.join(work, b)];
    const ours = timeOne(OURS, ['diff', x, y]);
    const theirs = timeOne('diffoscope', ['--no-progress', '--text', '/dev/null', x, y]);
    const size = (fs.statSync(x).size / 1e6).toFixed(1);
    const verdict = spawnSync(OURS, ['diff', x, y], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    console.log(`  ${what.padEnd(7)} ${size.padStart(6)} MB   ours ${ours.wall.toFixed(2).padStart(6)} s (${ours.maxRssMb.toFixed(0)} MB)   diffoscope ${theirs.wall.toFixed(2).padStart(7)} s   ratio ${(theirs.wall / ours.wall).toFixed(1)}x   ours: ${verdict}`);
  }
}

function main(): void {
  const only = process.argv[2];
  if (only === 'jar5k' || only === 'big' || only === 'tar' || only === 'resources' || only === 'startup' || only === 'pyc' || only === 'diff' || only === 'scaling' || only === 'rpm') {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'snd-bench-'));
    try {
      if (only === 'jar5k') jarScenario(work);
      else if (only === 'tar') tarScenario(work);
      else if (only === 'resources') resourcesScenario(work);
      else if (only === 'startup') startupScenario(work);
      else if (only === 'pyc') pycScenario(work);
      else if (only === 'diff') diffScenario(work);
      else if (only === 'scaling') scalingScenario(work);
      else if (only === 'rpm') rpmScenario(work);
      else bigScenario(work);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
    return;
  }
  for (const [what, p] of [['Perl tool', PERL], ['/usr/bin/time', '/usr/bin/time'], ['corpus', CORPUS]]) {
    if (!fs.existsSync(p)) {
      console.error(`bench: ${what} not found at ${p} (apt-get install strip-nondeterminism time; scripts/fetch-debian-corpus.sh)`);
      process.exit(1);
    }
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'snd-bench-'));
  try {
    // Three alternating runs of each tool, each on a fresh copy flushed to disk first (so no
    // run pays for another's writeback); medians are reported.
    const RUNS = Number(process.env.SND_BENCH_RUNS ?? 3);
    const copies: Record<string, string[]> = {};
    const fresh = (who: string) => {
      fs.rmSync(path.join(work, who), { recursive: true, force: true });
      spawnSync('cp', ['-a', CORPUS, path.join(work, who)]);
      copies[who] = listFiles(path.join(work, who));
      spawnSync('sync');
    };
    const perlRuns: Measure[] = [];
    const oursRuns: Measure[] = [];
    for (let r = 0; r < RUNS; r++) {
      fresh('perl');
      // Perl as it is used on a tree: find | xargs, 500 paths per run.
      perlRuns.push(measure(PERL, copies.perl));
      fresh('ours');
      // Ours: the tree itself, one process, worker threads.
      oursRuns.push(timeOne(OURS, [...OURS_ARGS, path.join(work, 'ours')]));
    }
    const median = (ms: Measure[]): Measure => {
      const sorted = [...ms].sort((a, b) => a.wall - b.wall);
      return sorted[Math.floor(sorted.length / 2)];
    };
    const perl = median(perlRuns);
    const ours = median(oursRuns);
    const bytes = copies.ours.reduce((n, f) => n + fs.statSync(f).size, 0);
    console.log(`corpus: ${copies.ours.length} files, ${(bytes / 1e6).toFixed(1)} MB (${CORPUS}); median of ${RUNS} runs each`);
    console.log(`  perl walls: ${perlRuns.map((m) => m.wall.toFixed(2)).join(', ')} s; ours walls: ${oursRuns.map((m) => m.wall.toFixed(2)).join(', ')} s`);
    const differ = copies.ours.filter((f, i) => !fs.readFileSync(f).equals(fs.readFileSync(copies.perl[i])));
    // A difference counts against parity only where one of our handlers claims the file name;
    // other files are ones the Perl tool handles and this build does not yet (listed, by extension).
    const claimed = (f: string) => handlers().some((h) => h.matchName(f));
    const mismatches = differ.filter(claimed);
    const unhandled = new Map<string, number>();
    for (const f of differ.filter((f) => !claimed(f))) unhandled.set(path.extname(f), (unhandled.get(path.extname(f)) ?? 0) + 1);
    const row = (name: string, m: Measure) =>
      `${name.padEnd(6)} wall ${m.wall.toFixed(2).padStart(7)} s   cpu ${m.cpu.toFixed(2).padStart(7)} s   peak RSS ${m.maxRssMb.toFixed(0).padStart(4)} MB   failed batches ${m.failures}`;
    console.log(row('perl', perl));
    console.log(row('ours', ours) + '  (one run over the tree, the default -j1)');
    console.log(`wall ratio perl/ours: ${(perl.wall / ours.wall).toFixed(1)}x   cpu ratio: ${(perl.cpu / ours.cpu).toFixed(1)}x`);
    console.log(`outputs identical for formats this build handles: ${mismatches.length === 0 ? 'yes' : `NO (${mismatches.length} files differ)`}`);
    for (const f of mismatches.slice(0, 20)) console.log(`  differs: ${path.relative(work, f)}`);
    if (unhandled.size) console.log(`files only the Perl tool changed (formats not in this build): ${[...unhandled].map(([e, n]) => `${n} ${e || '(no extension)'}`).join(', ')}`);
    if (mismatches.length !== 0) process.exitCode = 1;
    if (only !== 'corpus') jarScenario(work);
    if (only !== 'corpus') tarScenario(work);
    if (only !== 'corpus') resourcesScenario(work);
    if (only !== 'corpus') startupScenario(work);
    if (only !== 'corpus') pycScenario(work);
    if (only !== 'corpus') diffScenario(work);
    if (only !== 'corpus') scalingScenario(work);
    if (only !== 'corpus') rpmScenario(work);
    if (only !== 'corpus' && process.env.SND_BENCH_BIG === '1') bigScenario(work);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
