/**
 * Test helpers: temporary directories, running this port (in-process or through bin/), running
 * the Perl reference tool, and the differential comparison used by every format's suite.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { main } from '../../src/app/cli.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURES = path.join(ROOT, 'fixtures');
export const UPSTREAM = path.join(FIXTURES, 'upstream');
export const BIN = path.join(ROOT, 'bin', 'strip-nondeterminism');
export const PERL_TOOL = '/usr/bin/strip-nondeterminism';
/** The canonical time the upstream fixtures were made with. */
export const FIXTURE_T = 1423159771;

const madeDirs: string[] = [];
afterAll(() => {
  for (const d of madeDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the suite. */
export function tempDir(prefix = 'snd-test-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  madeDirs.push(d);
  return d;
}

const whichCache = new Map<string, boolean>();
/** Is `cmd` on PATH (or an existing absolute path)? */
export function have(cmd: string): boolean {
  if (!whichCache.has(cmd)) {
    const ok = cmd.startsWith('/') ? fs.existsSync(cmd) : spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
    whichCache.set(cmd, ok);
  }
  return whichCache.get(cmd)!;
}

/** Reason to skip when a tool is missing, printed so CI logs show why; undefined if all present. */
export function missing(...cmds: string[]): string | undefined {
  const gone = cmds.filter((c) => !have(c));
  if (gone.length === 0) return undefined;
  const reason = `skipped: ${gone.join(', ')} not installed (.ci/run installs them)`;
  console.warn(reason);
  return reason;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run this port's CLI in-process. */
export async function runOurs(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, env, { out: (l) => (stdout += l + '\n'), err: (l) => (stderr += l + '\n') });
  return { status, stdout, stderr };
}

/** Run bin/strip-nondeterminism as a user would (needs `npm run build`). */
export function runBin(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, cwd });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Run the Perl reference tool. */
export function runPerl(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): RunResult {
  const r = spawnSync(PERL_TOOL, args, { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, cwd });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function sh(command: string, cwd?: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', cwd, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${command} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export interface Difference {
  file: string;
  args: string[];
  problem: string;
}

/**
 * Normalize copies of `inputs` with the Perl tool and with this port, under each argument
 * set, and list every file whose output bytes (or success) differ. An empty list is parity.
 */
/** Our arguments for a comparison with the Perl tool: the maven normalizer, which changes members
 *  of jars (a format Perl handles) on purpose (docs/compat.md), is turned off. */
function perlParityArgs(args: string[]): string[] {
  const at = args.indexOf('--normalizers');
  if (at >= 0) return args.map((a, i) => (i === at + 1 ? `${a},-maven` : a));
  if (args.some((a) => a.startsWith('--normalizers='))) return args.map((a) => (a.startsWith('--normalizers=') ? `${a},-maven` : a));
  return ['--normalizers', '-maven', ...args];
}

export async function compareWithPerl(inputs: string[], argSets: string[][], env: NodeJS.ProcessEnv = {}): Promise<Difference[]> {
  const diffs: Difference[] = [];
  for (const args of argSets) {
    const oursArgs = perlParityArgs(args);
    const base = tempDir('snd-diff-');
    // Each input keeps its base name (detection uses it) in a directory of its own.
    const copies = inputs.map((input, i) => {
      const name = path.join(String(i), path.basename(input));
      const perl = path.join(base, 'perl', name);
      const ours = path.join(base, 'ours', name);
      for (const p of [perl, ours]) {
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.copyFileSync(input, p);
      }
      return { input, perl, ours };
    });
    const perl = runPerl([...args, ...copies.map((c) => c.perl)], env);
    if (perl.status === 0) {
      const ours = await runOurs([...oursArgs, ...copies.map((c) => c.ours)], env);
      if (ours.status !== 0) diffs.push({ file: '(batch)', args, problem: `perl ok, ours failed: ${ours.stderr}` });
    } else {
      // Perl stops at its first failure: start again and compare file by file.
      for (const c of copies) {
        fs.copyFileSync(c.input, c.perl);
        const perlOk = runPerl([...args, c.perl], env).status === 0;
        const ours = await runOurs([...oursArgs, c.ours], env);
        if (perlOk !== (ours.status === 0)) {
          diffs.push({ file: c.input, args, problem: `perl ${perlOk ? 'ok' : 'failed'}, ours ${ours.status === 0 ? 'ok' : 'failed: ' + ours.stderr}` });
        }
      }
    }
    for (const c of copies) {
      const a = fs.readFileSync(c.perl);
      const b = fs.readFileSync(c.ours);
      if (!a.equals(b)) diffs.push({ file: c.input, args, problem: `bytes differ (perl ${a.length} bytes, ours ${b.length} bytes)` });
    }
  }
  return diffs;
}

/** Argument sets every differential suite runs: fixed T, no T, clamping below and above. */
export function standardArgSets(extra: string[] = []): string[][] {
  return [
    [...extra, '-T', String(FIXTURE_T)],
    [...extra],
    [...extra, '-T', '0'],
    [...extra, '-T', '1000000000', '--clamp-timestamp'],
    [...extra, '-T', '2000000000', '--clamp-timestamp'],
    [...extra, '-T', '2000000000'],
  ];
}

/**
 * Run `fn` while `target` (a file or directory) cannot be written, even by root: chmod for
 * ordinary users, `chattr +i` for root. Returns false (after printing why) when that is not
 * possible here, so the caller can skip.
 */
export function whileUnwritable(target: string, fn: () => void): boolean {
  const root = process.getuid?.() === 0;
  const mode = fs.statSync(target).mode & 0o7777;
  if (root) {
    if (spawnSync('chattr', ['+i', target]).status !== 0) {
      console.warn('skipped: chattr +i is not supported here, so nothing is unwritable for root');
      return false;
    }
  } else {
    fs.chmodSync(target, mode & ~0o222);
  }
  try {
    fn();
  } finally {
    if (root) spawnSync('chattr', ['-i', target]);
    else fs.chmodSync(target, mode);
  }
  return true;
}
