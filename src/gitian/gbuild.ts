/**
 * gbuild: build a Gitian descriptor in a clean root, normalize the outputs, write
 * `result/<name>-res.yml`. Works in the current directory, laid out as Gitian's: `inputs/` (files
 * and git checkouts), `build/` (this build; `build/out` the outputs), `result/`, `cache/`, `var/`
 * (logs, and the base cache unless $GITIAN_CACHE says otherwise).
 *
 * Phases: the base with the descriptor's packages is made by mmdebstrap (src/gitian/base.ts,
 * the only phase that reaches Debian's mirror, and cached); the build runs with no network.
 * Environment of the script (bash -e, umask 022), and nothing else:
 *   HOME=/home/build USER=LOGNAME=build SHELL=/bin/bash PATH=/usr/local/bin:/usr/bin:/bin:...
 *   TZ=UTC LANG=LC_ALL=C.UTF-8 SOURCE_DATE_EPOCH REFERENCE_DATETIME REFERENCE_DATE REFERENCE_TIME
 *   OUTDIR=/home/build/out MAKEOPTS=-jN NUM_PROCS=N GBUILD_BITS=64|32
 *   GBUILD_CACHE_ENABLED GBUILD_PACKAGE_CACHE GBUILD_COMMON_CACHE (with enable_cache)
 *   FAKETIME and, set by the script's first lines, LD_PRELOAD (with `faketime: true`:
 *   libfaketime from the reference time, one second more per time read)
 *   GBUILD_RANDOM_SEED and LD_PRELOAD (with `random: deterministic`: src/gitian/preload/, and
 *   /dev/random and /dev/urandom a file of the same stream)
 * With `single_cpu: true` the script runs on one CPU (NUM_PROCS=1, MAKEOPTS=-j1); with `aslr:
 * false` without address-space randomization (setarch -R): src/gitian/environment.ts.
 * The working directory is the fixed build path /home/build/build/<name>, holding the input files
 * and the remotes' checkouts; the host name is `build`.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OptionSpec } from '../app/args.js';
import { CommandError, oneDescriptor, parseCommand, run } from './command.js';
import { ARCHES, DescriptorError, formatDatetime, loadDescriptor, parseDatetime, type Descriptor } from './descriptor.js';
import { BaseError, BUILD_UID, RANDOM_LIBRARY, ensureBase, type Base } from './base.js';
import { VARIED_VARIABLE, adjustments, setarchPrefix, variationLines, writeRandomStream, type Adjustments, type VariantAdjustments } from './environment.js';
import { runSandbox, type RunResult } from './sandbox.js';
import { compareTrees, listFiles, type TreeComparison } from './compare.js';
import { formatOmap, resultEntries, type BuildResult } from './result.js';

export const HOME = '/home/build';
export const OUTDIR = `${HOME}/out`;

/** What one build varies (gbuild --vary builds once with NORMAL, once with VARIED). */
export interface Variant extends VariantAdjustments {
  label: string;
  hostname: string;
  /** Parent of the build directory; the same length in both variants, so paths padded in
   *  binaries come out alike. */
  buildRoot: string;
  umask: string;
  tz: string;
  lang: string;
  lcAll?: string;
  user: string;
  uid: number;
  /** Seconds added to the faketime clock (undefined: no faketime unless the descriptor asks). */
  timeOffset?: number;
  /** The VM's ext4 directory hash seed (readdir order there). */
  hashSeed?: string;
}

export const NORMAL: Variant = { label: 'build', hostname: 'build', buildRoot: `${HOME}/build`, umask: '022', tz: 'UTC', lang: 'C.UTF-8', lcAll: 'C.UTF-8', user: 'build', uid: BUILD_UID, home: HOME };
export const VARIED: Variant = {
  label: 'vary',
  hostname: 'gvary',
  buildRoot: `${HOME}/varyb`,
  umask: '002',
  tz: 'VRY-14',
  lang: 'fr_CH.UTF-8',
  user: 'varied',
  uid: BUILD_UID + 1,
  timeOffset: 397 * 86400 + 3 * 3600 + 17,
  oneCpu: true,
  home: '/home/gvary',
  flipAslr: true,
  uname26: true,
  reverseReaddir: true,
  extraEnv: VARIED_VARIABLE,
  hashSeed: '5e1f0d7a-0b5e-4d1d-9c5e-0000000000f2',
};

/** Where the build's /dev/random and /dev/urandom come from, inside the root. */
const RANDOM_STREAM = '/var/lib/gbuild/random-stream';

export interface GbuildOptions {
  descriptorFile: string;
  commits: Map<string, string>;
  urls: Map<string, string>;
  backend: 'sandbox' | 'vm';
  numMake: number;
  memory: number;
  vary: boolean;
  normalize: boolean;
  timeout?: number;
  skipFetch: boolean;
  cacheReadOnly: boolean;
  quiet: boolean;
}

export class BuildError extends Error {}

const sh = (cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string => run(cmd, args, opts).toString('utf8');

/** sha256 of a file, read in 1 MiB blocks (outputs can be large). */
function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** The project's own CLI, which normalizes the outputs. */
const NORMALIZER = fileURLToPath(new URL('../../../bin/strip-nondeterminism', import.meta.url));

interface Remote {
  dir: string;
  commit: string;
  /** Commit date, UTC "YYYY-MM-DD HH:MM:SS". */
  date: string;
}

/** Fetch each remote into inputs/<dir> and check out its commit, as Gitian does. */
function fetchRemotes(desc: Descriptor, opts: GbuildOptions, log: (s: string) => void): Remote[] {
  return desc.remotes.map((r) => {
    const commit = r.commit ?? opts.commits.get(r.dir);
    if (!commit) throw new BuildError(`must specify a commit for directory ${r.dir} (--commit ${r.dir}=COMMIT)`);
    const url = opts.urls.get(r.dir) ?? r.url;
    const dir = path.resolve('inputs', r.dir);
    if (!fs.existsSync(dir)) sh('git', ['init', '-q', dir]);
    if (!opts.skipFetch) {
      log(`Fetching ${url} into inputs/${r.dir}`);
      sh('git', ['fetch', '-q', '--update-head-ok', url, '+refs/tags/*:refs/tags/*', '+refs/heads/*:refs/heads/*'], { cwd: dir });
      sh('git', ['-c', 'advice.detachedHead=false', 'checkout', '-q', commit], { cwd: dir });
    }
    const hash = sh('git', ['log', '--format=%H', '-1', commit], { cwd: dir }).trim();
    const date = sh('git', ['log', '-1', '--date=format-local:%F %T', '--format=%cd', hash], { cwd: dir, env: { ...process.env, TZ: 'UTC' } }).trim();
    return { dir: r.dir, commit: hash, date };
  });
}

function copyTree(from: string, to: string): void {
  sh('cp', ['-a', '--', from, to]);
}

interface Prepared {
  root: string;
  workdir: string;
  script: string;
  env: Record<string, string>;
  adj: Adjustments;
  /** setarch and its flags, run in front of the script. */
  prefix: string[];
  /** The random stream inside the root, when `random: deterministic`. */
  randomStream?: string;
}

/** Extract the base and lay out inputs, script and environment for one build. */
function prepare(desc: Descriptor, base: Base, arch: string, remotes: Remote[], v: Variant, opts: GbuildOptions, epoch: number, refDatetime: string, reorder: boolean): Prepared {
  const adj = adjustments(desc, { ...v, reverseReaddir: reorder }, remotes.map((r) => r.commit));
  const root = path.resolve('build', `root-${v.label}`);
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  sh('tar', ['-xpf', base.tarball, '-C', root, '--numeric-owner']);
  const workdir = `${v.buildRoot}/${desc.name}`;
  const hostWork = path.join(root, workdir);
  fs.mkdirSync(hostWork, { recursive: true });
  fs.mkdirSync(path.join(root, OUTDIR), { recursive: true });
  for (const f of desc.files) {
    const src = path.resolve('inputs', f);
    if (!fs.existsSync(src)) throw new BuildError(`input file inputs/${f} is missing`);
    copyTree(src, path.join(hostWork, f));
  }
  for (const r of remotes) {
    const copy = path.join(hostWork, r.dir);
    copyTree(path.resolve('inputs', r.dir), copy);
    sh('git', ['reset', '-q', '--hard'], { cwd: copy });
    sh('git', ['clean', '-q', '-f', '-d'], { cwd: copy });
  }
  if (desc.enable_cache) {
    for (const c of [desc.name, 'common']) {
      const from = path.resolve('cache', c);
      fs.mkdirSync(path.join(root, HOME, 'cache'), { recursive: true });
      if (fs.existsSync(from)) copyTree(from, path.join(root, HOME, 'cache', c));
      else fs.mkdirSync(path.join(root, HOME, 'cache', c));
    }
  }
  // The build user (a varied build runs as another user, added here).
  const passwd = path.join(root, 'etc', 'passwd');
  if (!fs.readFileSync(passwd, 'utf8').split('\n').some((l) => l.split(':')[2] === String(v.uid))) {
    fs.appendFileSync(passwd, `${v.user}:x:${v.uid}:${v.uid}::${HOME}:/bin/bash\n`);
    fs.appendFileSync(path.join(root, 'etc', 'group'), `${v.user}:x:${v.uid}:\n`);
  }
  const procs = adj.cpus ? 1 : opts.numMake;
  const [refDate, refTime] = refDatetime.split(' ');
  const env: Record<string, string> = {
    HOME: adj.home,
    USER: v.user,
    LOGNAME: v.user,
    SHELL: '/bin/bash',
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    TZ: v.tz,
    LANG: v.lang,
    ...(v.lcAll ? { LC_ALL: v.lcAll } : {}),
    SOURCE_DATE_EPOCH: String(epoch),
    REFERENCE_DATETIME: refDatetime,
    REFERENCE_DATE: refDate,
    REFERENCE_TIME: refTime,
    OUTDIR,
    MAKEOPTS: `-j${procs}`,
    NUM_PROCS: String(procs),
    GBUILD_BITS: String(ARCHES[arch as keyof typeof ARCHES]),
    ...adj.extraEnv,
    ...(adj.randomSeed ? { GBUILD_RANDOM_SEED: adj.randomSeed } : {}),
  };
  if (desc.enable_cache) {
    Object.assign(env, { GBUILD_CACHE_ENABLED: '1', GBUILD_PACKAGE_CACHE: `${HOME}/cache/${desc.name}`, GBUILD_COMMON_CACHE: `${HOME}/cache/common` });
  }
  // The libraries are preloaded by the script itself, so they start in the build user's
  // processes (preloaded into the privilege drop, libfaketime's shared clock would be root's).
  const preload: string[] = [];
  if (adj.randomSeed) preload.push(RANDOM_LIBRARY);
  if (desc.faketime || v.timeOffset !== undefined) {
    const triplet = arch === 'i386' ? 'i386-linux-gnu' : 'x86_64-linux-gnu';
    const start = formatDatetime(epoch + (v.timeOffset ?? 0));
    Object.assign(env, { FAKETIME: `@${start} i1.0`, FAKETIME_DONT_FAKE_MONOTONIC: '1' });
    preload.push(`/usr/lib/${triplet}/faketime/libfaketime.so.1`);
  }
  let randomStream: string | undefined;
  if (adj.randomSeed) {
    randomStream = RANDOM_STREAM;
    fs.mkdirSync(path.join(root, path.dirname(RANDOM_STREAM)), { recursive: true });
    writeRandomStream(path.join(root, RANDOM_STREAM), adj.randomSeed);
  }
  const script = `${HOME}/.gbuild/build-script`;
  fs.mkdirSync(path.join(root, HOME, '.gbuild'), { recursive: true });
  const preloadLine = preload.length ? `export LD_PRELOAD=${preload.join(':')}\n` : '';
  fs.writeFileSync(path.join(root, script), `#!/bin/bash\nset -e\numask ${v.umask}\n${preloadLine}cd ${workdir}\n${desc.script}\n`);
  fs.mkdirSync(path.join(root, adj.home), { recursive: true });
  sh('chown', ['-R', `${v.uid}:${v.uid}`, path.join(root, HOME), path.join(root, adj.home)]);
  return { root, workdir, script, env, adj, prefix: setarchPrefix(adj), randomStream };
}

/** Run the normalizer over a finished output tree. */
function normalizeOutputs(dir: string, desc: Descriptor, v: Variant, workdir: string, epoch: number): void {
  const args = [NORMALIZER, '-T', String(epoch), '--build-path', `${workdir}=/build/${desc.name}`];
  if (v.hostname !== 'build') args.push('--hostname', `${v.hostname}=build`);
  const r = spawnSync(process.execPath, [...args, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new BuildError(`normalizing ${dir} failed:\n${(r.stderr || r.stdout).trim()}`);
}

async function runBuild(prepared: Prepared, v: Variant, opts: GbuildOptions, arch: string, logFile: string): Promise<RunResult> {
  const { adj } = prepared;
  if (opts.backend === 'vm') {
    const { runVm } = await import('./vm.js');
    const hashSeed = adj.reverseReaddir ? v.hashSeed : undefined;
    return runVm({ ...prepared, uid: v.uid, hostname: v.hostname, log: logFile, timeoutSeconds: opts.timeout ?? 3600, memory: opts.memory, cpus: adj.cpus ? 1 : opts.numMake, arch, hashSeed });
  }
  return runSandbox({
    root: prepared.root,
    cwd: prepared.workdir,
    script: prepared.script,
    env: prepared.env,
    uid: v.uid,
    gid: v.uid,
    hostname: v.hostname,
    cpus: adj.cpus,
    prefix: prepared.prefix,
    randomStream: prepared.randomStream,
    reverseReaddir: adj.reverseReaddir,
    timeoutSeconds: opts.timeout,
    log: logFile,
  });
}

/** Build one configuration with one variant; the normalized outputs land in `outDir`. */
async function buildOnce(desc: Descriptor, base: Base, arch: string, remotes: Remote[], v: Variant, opts: GbuildOptions, epoch: number, refDatetime: string, outDir: string, log: (s: string) => void): Promise<Adjustments> {
  const reorder = v.reverseReaddir === true && (opts.backend === 'vm' || hasDisorderfs());
  if (v.reverseReaddir && !reorder) log('--vary: disorderfs is not installed (apt-get install disorderfs): the file order is not varied');
  const prepared = prepare(desc, base, arch, remotes, v, opts, epoch, refDatetime, reorder);
  const logFile = path.resolve('var', v.label === 'build' ? 'build.log' : `build-${v.label}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, '');
  log(`Running build script (${opts.backend}${v.label === 'build' ? '' : `, varied: ${v.label}`}; log in ${path.relative(process.cwd(), logFile)})`);
  const result = await runBuild(prepared, v, opts, arch, logFile);
  if (result.timedOut) throw new BuildError(`build timed out after ${opts.timeout ?? 3600} s (log: ${logFile})`);
  if (result.code !== 0) {
    const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-20).join('\n');
    throw new BuildError(`build script failed with exit code ${result.code} (log: ${logFile})\n${tail}`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  sh('cp', ['-a', '--', `${path.join(prepared.root, OUTDIR)}/.`, outDir]);
  if (desc.enable_cache && !opts.cacheReadOnly && v.label === 'build') {
    for (const c of [desc.name, 'common']) {
      fs.rmSync(path.resolve('cache', c), { recursive: true, force: true });
      fs.mkdirSync(path.resolve('cache'), { recursive: true });
      copyTree(path.join(prepared.root, HOME, 'cache', c), path.resolve('cache', c));
    }
  }
  fs.rmSync(prepared.root, { recursive: true, force: true });
  if (opts.normalize) normalizeOutputs(outDir, desc, v, prepared.workdir, epoch);
  return prepared.adj;
}

const hasDisorderfs = () => spawnSync('sh', ['-c', 'command -v disorderfs']).status === 0;

/** The variant's own changes, for the --vary report (environment.ts adds the rest). */
function variedLines(n: Variant, v: Variant, desc: Descriptor, epoch: number): string[] {
  const days = Math.floor((v.timeOffset ?? 0) / 86400);
  return [
    `host name: ${n.hostname} -> ${v.hostname}`,
    `build path: ${n.buildRoot}/${desc.name} -> ${v.buildRoot}/${desc.name}`,
    `user: ${n.user} (${n.uid}) -> ${v.user} (${v.uid})`,
    `umask: ${n.umask} -> ${v.umask}`,
    `TZ: ${n.tz} -> ${v.tz}`,
    `LANG and LC_ALL: ${n.lang} -> ${v.lang}${v.lcAll ? '' : ' (LC_ALL unset)'}`,
    `time: ${formatDatetime(epoch)} -> ${formatDatetime(epoch + (v.timeOffset ?? 0))} (faketime, ${days} days later)`,
  ];
}

/** sha256sum lines for every file under `dir`, sorted by name (Gitian's manifests). */
export function manifest(dir: string): string {
  return listFiles(dir)
    .map((f) => `${sha256File(path.join(dir, f))}  ${f}\n`)
    .join('');
}

export function formatComparison(c: TreeComparison): string[] {
  const lines: string[] = [];
  for (const f of c.onlyFirst) lines.push(`${f}: only in the normal build`);
  for (const f of c.onlySecond) lines.push(`${f}: only in the varied build`);
  for (const d of c.differing) {
    lines.push(`${d.file}: differs`);
    for (const l of d.details) lines.push(`  ${l}`);
  }
  return lines;
}

export async function gbuild(opts: GbuildOptions, log: (s: string) => void): Promise<{ identical?: boolean }> {
  const desc = loadDescriptor(opts.descriptorFile);
  for (const f of desc.files) if (!fs.existsSync(path.resolve('inputs', f))) throw new BuildError(`input file inputs/${f} is missing`);
  const remotes = fetchRemotes(desc, opts, log);
  const refDatetime = desc.reference_datetime ?? remotes[remotes.length - 1].date;
  const epoch = parseDatetime(refDatetime);
  const inSums = [`${sha256File(opts.descriptorFile)}  ${desc.name}-desc.yml\n`, ...desc.files.map((f) => `${sha256File(path.resolve('inputs', f))}  ${f}\n`), ...remotes.map((r) => `git:${r.commit} ${r.dir}\n`)];

  fs.rmSync('build', { recursive: true, force: true });
  fs.mkdirSync('build');
  fs.mkdirSync('result', { recursive: true });
  const outDir = path.resolve('build', 'out');
  const baseManifests: [string, string][] = [];
  let identical: boolean | undefined;
  for (const suite of desc.suites) {
    for (const arch of desc.architectures) {
      log(`--- Building for ${suite} ${arch} ---`);
      const base = ensureBase({ distro: desc.distro, suite, arch, packages: [...desc.packages, 'faketime'], random: desc.random === 'deterministic' }, log);
      const normalAdj = await buildOnce(desc, base, arch, remotes, NORMAL, opts, epoch, refDatetime, outDir, log);
      baseManifests.push([`${suite}-${arch}`, fs.readFileSync(base.manifest, 'utf8')]);
      if (opts.vary) {
        const varied = path.resolve('build', `out-vary-${suite}-${arch}`);
        const normal = path.resolve('build', `out-normal-${suite}-${arch}`);
        copyTree(outDir, normal);
        const variedAdj = await buildOnce(desc, base, arch, remotes, VARIED, opts, epoch, refDatetime, varied, log);
        log(`--vary (${suite} ${arch}): the varied build changed:\n${variedLines(NORMAL, VARIED, desc, epoch).concat(variationLines(normalAdj, variedAdj, opts.backend)).map((l) => `  ${l}`).join('\n')}`);
        const comparison = await compareTrees(normal, varied);
        const lines = formatComparison(comparison);
        identical = (identical ?? true) && lines.length === 0;
        log(lines.length ? `--vary (${suite} ${arch}): outputs differ:\n${lines.join('\n')}` : `--vary (${suite} ${arch}): normalized outputs identical (${listFiles(normal).length} files)`);
      }
    }
  }
  const result: BuildResult = {
    out_manifest: manifest(outDir),
    in_manifest: inSums.join(''),
    base_manifests: baseManifests,
    cache_common_manifest: desc.enable_cache ? manifest(path.resolve('cache', 'common')) : '',
    cache_package_manifest: desc.enable_cache ? manifest(path.resolve('cache', desc.name)) : '',
  };
  if (!opts.quiet) process.stdout.write(result.out_manifest);
  fs.writeFileSync(path.join('result', `${desc.name}-res.yml`), formatOmap(resultEntries(result)));
  log(`Wrote result/${desc.name}-res.yml`);
  return { identical };
}

const SPECS: OptionSpec[] = [
  { names: ['commit', 'c'], kind: 'list', key: 'commit' },
  { names: ['url', 'u'], kind: 'list', key: 'url' },
  { names: ['backend'], kind: 'string', key: 'backend' },
  { names: ['num-make', 'j'], kind: 'integer', key: 'numMake' },
  { names: ['memory', 'm'], kind: 'integer', key: 'memory' },
  { names: ['vary'], kind: 'flag', key: 'vary' },
  { names: ['normalize'], kind: 'negatable', key: 'normalize' },
  { names: ['timeout'], kind: 'integer', key: 'timeout' },
  { names: ['skip-fetch'], kind: 'flag', key: 'skipFetch' },
  { names: ['cache-read-only', 'o'], kind: 'flag', key: 'cacheReadOnly' },
  { names: ['quiet', 'q'], kind: 'flag', key: 'quiet' },
];

const USAGE = `Usage: gbuild [--commit DIR=COMMIT[,...]] [--url DIR=URL[,...]] [--backend sandbox|vm] [--num-make N] [--memory MiB]
              [--vary] [--no-normalize] [--timeout SECONDS] [--skip-fetch] [--cache-read-only] [-q] descriptor.yml`;

function pairs(values: unknown, what: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of ((values as string[] | undefined) ?? []).flatMap((v) => v.split(','))) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new BuildError(`--${what} wants DIR=VALUE, got "${item}"`);
    out.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPECS, USAGE, oneDescriptor);
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  const log = (s: string) => process.stderr.write(`${s}\n`);
  try {
    const backend = (v.backend as string | undefined) ?? 'sandbox';
    if (backend !== 'sandbox' && backend !== 'vm') throw new BuildError(`--backend: sandbox or vm, not "${backend}"`);
    const opts: GbuildOptions = {
      descriptorFile: parsed.operands[0],
      commits: pairs(v.commit, 'commit'),
      urls: pairs(v.url, 'url'),
      backend,
      numMake: (v.numMake as number | undefined) ?? Math.min(os.availableParallelism(), 8),
      memory: (v.memory as number | undefined) ?? 2000,
      vary: v.vary === true,
      normalize: v.normalize !== false,
      timeout: v.timeout as number | undefined,
      skipFetch: v.skipFetch === true,
      cacheReadOnly: v.cacheReadOnly === true,
      quiet: v.quiet === true,
    };
    const { identical } = await gbuild(opts, log);
    return identical === false ? 1 : 0;
  } catch (e) {
    if (e instanceof BuildError || e instanceof DescriptorError || e instanceof BaseError || e instanceof CommandError) {
      log(`gbuild: ${e.message}`);
      return e instanceof DescriptorError ? 2 : 1;
    }
    throw e;
  }
}
