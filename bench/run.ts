/**
 * `npm run bench`: the Perl tool and this port over copies of the same corpus, in the same run.
 * Reports wall time, CPU time and peak RSS for each (via /usr/bin/time), the Perl/ours wall ratio,
 * and checks that both produced identical trees. Ratios, not absolute times, are the result: the
 * two tools run back to back on the same machine.
 *
 * Corpus: the Debian package corpus (scripts/fetch-debian-corpus.sh), every regular file passed
 * to each tool in batches of 500 paths, as `find | xargs` would.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HANDLERS } from '../src/registry.js';
import { listFiles } from '../src/walk.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CORPUS = process.env.SND_DEBIAN_CORPUS ?? path.join(ROOT, 'var', 'debian-corpus', 'root');
const PERL = '/usr/bin/strip-nondeterminism';
const OURS = path.join(ROOT, 'bin', 'strip-nondeterminism');
const BATCH = 500;
const ARGS = ['-T', '1423159771', '--normalizers', '+all'];

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
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...ARGS, ...files.slice(i, i + BATCH)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const last = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
    m.wall += last[0];
    m.cpu += last[1] + last[2];
    m.maxRssMb = Math.max(m.maxRssMb, last[3] / 1024);
    if (r.status !== 0) m.failures++;
  }
  return m;
}

function main(): void {
  for (const [what, p] of [['Perl tool', PERL], ['/usr/bin/time', '/usr/bin/time'], ['corpus', CORPUS]]) {
    if (!fs.existsSync(p)) {
      console.error(`bench: ${what} not found at ${p} (apt-get install strip-nondeterminism time; scripts/fetch-debian-corpus.sh)`);
      process.exit(1);
    }
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'snd-bench-'));
  try {
    const copies: Record<string, string[]> = {};
    for (const who of ['perl', 'ours']) {
      spawnSync('cp', ['-a', CORPUS, path.join(work, who)]);
      copies[who] = listFiles(path.join(work, who));
    }
    const bytes = copies.ours.reduce((n, f) => n + fs.statSync(f).size, 0);
    console.log(`corpus: ${copies.ours.length} files, ${(bytes / 1e6).toFixed(1)} MB (${CORPUS})`);
    const perl = measure(PERL, copies.perl);
    const ours = measure(OURS, copies.ours);
    const differ = copies.ours.filter((f, i) => !fs.readFileSync(f).equals(fs.readFileSync(copies.perl[i])));
    // A difference counts against parity only where one of our handlers claims the file name;
    // other files are ones the Perl tool handles and this build does not yet (listed, by extension).
    const claimed = (f: string) => HANDLERS.some((h) => h.matchName(f));
    const mismatches = differ.filter(claimed);
    const unhandled = new Map<string, number>();
    for (const f of differ.filter((f) => !claimed(f))) unhandled.set(path.extname(f), (unhandled.get(path.extname(f)) ?? 0) + 1);
    const row = (name: string, m: Measure) =>
      `${name.padEnd(6)} wall ${m.wall.toFixed(2).padStart(7)} s   cpu ${m.cpu.toFixed(2).padStart(7)} s   peak RSS ${m.maxRssMb.toFixed(0).padStart(4)} MB   failed batches ${m.failures}`;
    console.log(row('perl', perl));
    console.log(row('ours', ours));
    console.log(`wall ratio perl/ours: ${(perl.wall / ours.wall).toFixed(1)}x   cpu ratio: ${(perl.cpu / ours.cpu).toFixed(1)}x`);
    console.log(`outputs identical for formats this build handles: ${mismatches.length === 0 ? 'yes' : `NO (${mismatches.length} files differ)`}`);
    for (const f of mismatches.slice(0, 20)) console.log(`  differs: ${path.relative(work, f)}`);
    if (unhandled.size) console.log(`files only the Perl tool changed (formats not in this build): ${[...unhandled].map(([e, n]) => `${n} ${e || '(no extension)'}`).join(', ')}`);
    if (mismatches.length !== 0) process.exitCode = 1;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
