/**
 * `strip-nondeterminism`: a drop-in for the Perl command line, plus batch mode.
 *
 * With file operands it behaves as the Perl tool does (same flags, messages and exit statuses),
 * with two deliberate differences (docs/compat.md): every file is tried even after one fails,
 * and SOURCE_DATE_EPOCH is used when -T is not given.
 *
 * Batch mode (a directory operand, --check or --json): directories are walked, files are spread
 * over -j worker threads, and a one-line summary ends the run (a progress bar too, on a terminal).
 * --check writes nothing, lists what would change and exits 1 if anything would, or failed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type OptionSpec, type ParsedArgs } from './args.js';
import { UsageError } from '../kit/errors.js';
import { handlerByName, normalizerNames, perlDefaultEnabled } from './registry.js';
import type { FileReport, RunOptions } from './pipeline.js';
import { removeTemporaryFilesOnSignals } from './writer.js';
import { collectTargets, makeExcluder } from './walk.js';
import { VERSION, PERL_COMPAT_VERSION } from './version.js';
import { Progress } from './progress.js';
import { resolveSettings, type Settings } from './settings.js';
import { runTargets } from './batch.js';
import { DEFAULT_JOBS } from './pool.js';
import { jsonReport, summarize, type Summary } from './report.js';
import { runDiff, runIdentity } from './compare/command.js';
import { brpOperands } from './brp.js';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const SPECS: OptionSpec[] = [
  { names: ['type', 't'], kind: 'string', key: 'type' },
  { names: ['timestamp', 'T'], kind: 'integer', key: 'timestamp' },
  { names: ['clamp-timestamp'], kind: 'negatable', key: 'clamp' },
  { names: ['normalizers'], kind: 'string', key: 'normalizers' },
  { names: ['help', 'h'], kind: 'flag', key: 'help' },
  { names: ['verbose', 'v'], kind: 'flag', key: 'verbose' },
  { names: ['version', 'V'], kind: 'flag', key: 'version' },
  { names: ['jobs', 'j'], kind: 'integer', key: 'jobs' },
  { names: ['compress-threads'], kind: 'integer', key: 'compressThreads' },
  { names: ['check'], kind: 'flag', key: 'check' },
  { names: ['identity'], kind: 'flag', key: 'identity' },
  { names: ['exclude'], kind: 'list', key: 'exclude' },
  { names: ['json'], kind: 'string', key: 'json' },
  { names: ['tar-owner'], kind: 'string', key: 'tarOwner' },
  { names: ['tar-group'], kind: 'string', key: 'tarGroup' },
  { names: ['build-path'], kind: 'list', key: 'buildPath' },
  { names: ['hostname'], kind: 'list', key: 'hostname' },
  { names: ['pyc-zero-mtime'], kind: 'flag', key: 'pycZeroMtime' },
  { names: ['junit-zero-time'], kind: 'flag', key: 'junitZeroTime' },
  { names: ['rpm-strip-signatures'], kind: 'flag', key: 'rpmStripSignatures' },
  { names: ['max-depth'], kind: 'integer', key: 'maxDepth' },
  { names: ['max-member-size'], kind: 'string', key: 'maxMemberSize' },
  { names: ['list-normalizers'], kind: 'flag', key: 'listNormalizers' },
  { names: ['quiet'], kind: 'flag', key: 'quiet' },
  { names: ['brp'], kind: 'flag', key: 'brp' },
];

export function usage(cmd: string): string {
  return `Usage: ${cmd} [-v|--verbose] [-t|--type FILETYPE] [-T|--timestamp SECONDS] [--clamp-timestamp] [--normalizers <+NORMALIZER,-NORMALIZER,+all,-all,...>] FILENAME`;
}

const EXTENSIONS = `Also: FILENAME may be a directory (walked recursively; symlinks are not followed).
  diff [options] A B compare two files or trees after normalizing both in memory: each
                     difference, through nested containers (--json: as JSON); exit 0 when
                     identical, 1 when not, 2 on errors
  -j, --jobs N       threads normalizing a directory's files (default: 1, this one; the
                     compressors use every CPU either way, see --compress-threads)
  --compress-threads N
                     threads xz and zstd recompress a tar with (default: the number of
                     CPUs); the bytes are the same for any N
  --check            write nothing; list files that would change (only them, on stdout; every
                     diagnostic goes to stderr); exit 1 if any would, or failed
  --identity         write nothing; print a sha256sum-style identity line per file (and per
                     tree): equal for artifacts that differ only in what normalizing removes
                     or in how they were packed (docs/identity.md)
  --quiet            print nothing but errors
  --brp              run as an rpm build-root policy script: every FILENAME must lie in
                     $RPM_BUILD_ROOT (the build root when none is given); see
                     rpm/macros.strip-nondeterminism
  --list-normalizers list every normalizer: on by default here and in dh_strip_nondeterminism?
                     which files it claims (with --json FILE|-: as JSON)
  --exclude GLOB     skip matching files and directories (repeatable; a GLOB without / matches names)
  --json FILE        write a per-file report as JSON (- for standard output)
  --build-path FROM[=TO]
                     replace the build directory FROM by TO (default /build) in ELF and
                     HTML files; repeatable; BUILD_PATH_PREFIX_MAP is read too
  --hostname NAME[=REPLACEMENT]
                     replace the host name NAME by REPLACEMENT (default build) in ELF and
                     HTML files; repeatable; STRIP_NONDETERMINISM_HOSTNAMES is read too
  --pyc-zero-mtime   set the source mtime in .pyc headers to 0, and the mtime of the
                     .py beside each (as add-determinism does)
  --junit-zero-time  set the test durations in JUnit XML reports to 0
  --rpm-strip-signatures
                     normalize signed rpm packages too, dropping their signatures
                     (without it they are left unchanged, with a warning)
  --tar-owner NAME:ID, --tar-group NAME:ID
                     owner and group of tar and .deb members (default root:0)
  --max-depth N      refuse archives nested more than N deep (default 32)
  --max-member-size SIZE
                     the most of one archive member held in memory (default 64M;
                     K, M, G suffixes); a file needing more is an error, left unchanged
SOURCE_DATE_EPOCH is used as the timestamp when -T is not given.`;

/** The run's settings from the parsed flags. */
function settingsFrom(v: Record<string, unknown>): Settings {
  return {
    timestamp: v.timestamp as number | undefined,
    clamp: v.clamp === true,
    normalizers: v.normalizers as string | undefined,
    type: v.type as string | undefined,
    check: v.check === true,
    buildPaths: (v.buildPath as string[] | undefined) ?? [],
    hostnames: (v.hostname as string[] | undefined) ?? [],
    tarOwner: v.tarOwner as string | undefined,
    tarGroup: v.tarGroup as string | undefined,
    pycZeroMtime: v.pycZeroMtime === true,
    junitZeroTime: v.junitZeroTime === true,
    rpmStripSignatures: v.rpmStripSignatures === true,
    verbose: v.verbose === true,
    maxDepth: v.maxDepth as number | undefined,
    maxMemberSize: v.maxMemberSize as string | undefined,
    compressThreads: v.compressThreads as number | undefined,
  };
}

/** Where diagnostics go: stdout as in Perl, except that with --check stdout holds only the list
 *  of paths (and with --quiet, only errors are printed at all). */
interface Channels {
  /** Perl's stdout lines (-v): stderr under --check. */
  say(line: string): void;
  /** Warnings and the summary: nowhere under --quiet. */
  note(line: string): void;
  /** Errors: always stderr. */
  error(line: string): void;
  /** --check's list of paths. */
  list(line: string): void;
}

function channels(io: Output, check: boolean, quiet: boolean): Channels {
  const silent = () => {};
  return { say: quiet ? silent : check ? io.err : io.out, note: quiet ? silent : io.err, error: io.err, list: io.out };
}

/** Warnings about the run rather than a file (handlers word them without a file name): printed
 *  once however many files give them. */
const isRunWide = (w: string) => w.includes(': the canonical time ');

/** Print each file's lines, in order; returns the exit status the files call for. */
function printReports(reports: readonly FileReport[], options: RunOptions, cmd: string, out: Channels): number {
  let status = 0;
  const said = new Set<string>();
  for (const r of reports) {
    if (r.skipped === 'disabled' && options.verbose) out.say(`Not normalizing ${r.path} (normalizer disabled)`);
    if (r.handler && !r.skipped && options.verbose) out.say(`Normalizing ${r.path}`);
    if (options.check && r.changed) out.list(r.path);
    if (options.verbose) for (const m of r.info) out.note(m);
    for (const w of r.warnings) {
      if (isRunWide(w) && said.has(w)) continue;
      said.add(w);
      out.note(w);
    }
    if (r.error !== undefined) {
      out.error(r.exitCode === 2 ? `${r.path}: ${r.error}` : `${cmd}: ${r.path}: ${r.error}`);
      // A missing file alone gives Perl's status 2; any other failure gives 255.
      status = status === 255 || r.exitCode === 255 ? 255 : r.exitCode;
    }
  }
  return status;
}

function summaryLine(summary: Summary, check: boolean, cmd: string): string {
  const verb = check ? 'would change' : 'changed';
  return (
    `${cmd}: ${summary.scanned} files scanned, ${summary.handled} handled, ${summary.changed} ${verb}, ${summary.unchanged} unchanged, ` +
    `${summary.warnings} warnings, ${summary.errors} errors in ${summary.seconds.toFixed(2)} s`
  );
}

/** --help and --version; undefined when neither was asked for. */
function informational(v: Record<string, unknown>, cmd: string, io: Output): number | undefined {
  if (v.help) {
    io.out(usage(cmd));
    io.out(EXTENSIONS);
    return 0;
  }
  if (v.version) {
    io.out(`${cmd} version ${PERL_COMPAT_VERSION} (strip-nondeterminism-node ${VERSION})`);
    return 0;
  }
  return undefined;
}

/** Write the --json report (or the normalizer list) to FILE, or to stdout for `-`. */
function writeJson(target: string, text: string, io: Output): void {
  if (target === '-') io.out(text);
  else fs.writeFileSync(target, text + '\n');
}

/** A canonical time the formats cannot honour, said once per run. */
function timeWarnings(options: RunOptions, cmd: string, now: number): string[] {
  const T = options.timestamp;
  if (T === undefined || !options.clamp || T <= now) return [];
  return [`${cmd}: the canonical time ${T} is in the future: --clamp-timestamp then changes no time that is not in the future too`];
}

/** The run itself: options, targets, the pipeline, the report. */
async function normalizeOperands(parsed: ParsedArgs, env: NodeJS.ProcessEnv, io: Output, argv0: string, isTTY: boolean): Promise<number> {
  const cmd = path.basename(argv0);
  const v = parsed.values;
  const out = channels(io, v.check === true, v.quiet === true);
  if (v.check === true && v.json === '-') throw new UsageError(`${cmd}: --check and --json - would both write to standard output`);
  const options = resolveSettings(settingsFrom(v), env, argv0, v.verbose === true ? out.say : undefined);
  const operands = v.brp === true ? brpOperands(parsed.operands, env) : parsed.operands;
  if (operands.length === 0) throw new UsageError(usage(cmd));
  if (v.identity === true) return runIdentity(operands, options, io, cmd);
  const jobs = v.jobs === undefined ? DEFAULT_JOBS : (v.jobs as number);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`${cmd}: --jobs wants a whole number of at least 1`);
  if (options.timestamp === undefined && options.verbose) {
    out.say(`${cmd}: Not using a canonical time`);
    out.say(`${cmd}: Using normalizers: ${normalizerNames().filter((n) => options.enabled.has(n)).join(' ')}`);
  }
  for (const w of timeWarnings(options, cmd, Date.now() / 1000)) out.note(w);
  const started = performance.now();
  const { targets, isTree } = collectTargets(operands, makeExcluder((v.exclude as string[] | undefined) ?? []));
  const batch = isTree || options.check === true || v.json !== undefined;
  let progress: Progress | undefined;
  const reports = await runTargets(targets, options, {
    jobs,
    isTree,
    cmd,
    onStart: (total) => void (progress = batch && isTTY && !env.CI && v.quiet !== true ? new Progress(total, (s) => process.stderr.write(s)) : undefined),
    onReport: () => progress?.tick(),
  });
  progress?.done();
  const status = printReports(reports, options, cmd, out);
  const summary = summarize(reports, (performance.now() - started) / 1000);
  if (batch) out.note(summaryLine(summary, options.check === true, cmd));
  if (v.json !== undefined) writeJson(v.json as string, jsonReport(reports, summary, options), io);
  if (options.check) return summary.changed > 0 || summary.errors > 0 ? 1 : 0;
  return status;
}

interface NormalizerRow {
  name: string;
  /** On by default in strip-nondeterminism ('scrubs': only with --build-path or --hostname). */
  cli: boolean | 'scrubs';
  /** On in dh_strip_nondeterminism. */
  dh: boolean;
  files: string;
}

const onOff = (v: boolean | 'scrubs') => (v === 'scrubs' ? 'with --build-path/--hostname' : v ? 'on' : 'off');

/** Every normalizer, sorted, with its defaults and the files it claims (--list-normalizers). */
function normalizerList(): NormalizerRow[] {
  const dh = perlDefaultEnabled();
  return normalizerNames().map((name) => {
    const h = handlerByName(name)!;
    return { name, cli: h.defaultEnabled ? (h.onlyScrubs ? 'scrubs' : true) : false, dh: dh.has(name), files: h.files ?? '' };
  });
}

/** Run the CLI; returns the exit status. */
/** `diff [options] A B`: the normalizing options apply; `--json` (no value) asks for JSON. */
async function diffCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: Output, argv0: string): Promise<number> {
  const cmd = path.basename(argv0);
  const json = argv.includes('--json');
  const parsed = parseArgs(argv.filter((a) => a !== '--json'), SPECS);
  if (parsed.errors.length) {
    for (const e of parsed.errors) io.err(e);
    return 2;
  }
  try {
    const options = resolveSettings(settingsFrom(parsed.values), env, argv0);
    return await runDiff(parsed.operands, options, json, io, cmd);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(e.message);
    return 2;
  }
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, io: Output, argv0 = 'strip-nondeterminism', isTTY = false): Promise<number> {
  const cmd = path.basename(argv0);
  if (argv[0] === 'diff') return diffCommand(argv.slice(1), env, io, argv0);
  const parsed = parseArgs(argv, SPECS);
  if (parsed.errors.length) {
    for (const e of parsed.errors) io.err(e);
    io.err(usage(cmd));
    return 255;
  }
  const early = informational(parsed.values, cmd, io);
  if (early !== undefined) return early;
  if (parsed.values.listNormalizers) {
    const list = normalizerList();
    if (parsed.values.json !== undefined) writeJson(parsed.values.json as string, JSON.stringify(list, null, 2), io);
    else for (const n of list) io.out(`${n.name.padEnd(8)} default: ${onOff(n.cli).padEnd(28)} dh: ${onOff(n.dh).padEnd(4)} files: ${n.files}`);
    return 0;
  }
  try {
    return await normalizeOperands(parsed, env, io, argv0, isTTY);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(e.message);
      return e.exitCode;
    }
    throw e;
  }
}

/** A run whose work stopped waiting on something that can never happen would otherwise end
 *  with status 0 and no output: say so, and fail. */
export function exitOnStall(): void {
  let finished = false;
  process.once('exit', () => void (finished = true));
  process.on('beforeExit', () => {
    if (finished || process.exitCode !== undefined) return;
    process.stderr.write('strip-nondeterminism: internal error: the run stopped before it finished\n');
    process.exitCode = 255;
  });
}

export async function run(): Promise<void> {
  removeTemporaryFilesOnSignals();
  // A reader that stops early (`| head`) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const io: Output = {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
  };
  exitOnStall();
  process.exitCode = await main(process.argv.slice(2), process.env, io, process.argv[1] ?? 'strip-nondeterminism', process.stderr.isTTY === true);
}
