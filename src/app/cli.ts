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
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, type OptionSpec, type ParsedArgs } from './args.js';
import { UsageError } from '../kit/errors.js';
import { normalizerNames } from './registry.js';
import type { FileReport, RunOptions } from './pipeline.js';
import { collectTargets, makeExcluder } from './walk.js';
import { VERSION, PERL_COMPAT_VERSION } from './version.js';
import { Progress } from './progress.js';
import { resolveSettings, type Settings } from './settings.js';
import { runTargets } from './batch.js';
import { jsonReport, summarize, type Summary } from './report.js';

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
  { names: ['check'], kind: 'flag', key: 'check' },
  { names: ['exclude'], kind: 'list', key: 'exclude' },
  { names: ['json'], kind: 'string', key: 'json' },
  { names: ['tar-owner'], kind: 'string', key: 'tarOwner' },
  { names: ['tar-group'], kind: 'string', key: 'tarGroup' },
  { names: ['build-path'], kind: 'list', key: 'buildPath' },
  { names: ['hostname'], kind: 'list', key: 'hostname' },
  { names: ['pyc-zero-mtime'], kind: 'flag', key: 'pycZeroMtime' },
  { names: ['junit-zero-time'], kind: 'flag', key: 'junitZeroTime' },
  { names: ['max-depth'], kind: 'integer', key: 'maxDepth' },
  { names: ['max-member-size'], kind: 'string', key: 'maxMemberSize' },
];

export function usage(cmd: string): string {
  return `Usage: ${cmd} [-v|--verbose] [-t|--type FILETYPE] [-T|--timestamp SECONDS] [--clamp-timestamp] [--normalizers <+NORMALIZER,-NORMALIZER,+all,-all,...>] FILENAME`;
}

const EXTENSIONS = `Also: FILENAME may be a directory (walked recursively; symlinks are not followed).
  -j, --jobs N       worker threads for directories (default: the number of CPUs)
  --check            write nothing; list files that would change; exit 1 if any would, or failed
  --exclude GLOB     skip matching files and directories (repeatable; a GLOB without / matches names)
  --json FILE        write a per-file report as JSON
  --build-path FROM[=TO]
                     replace the build directory FROM by TO (default /build) in ELF and
                     HTML files; repeatable; BUILD_PATH_PREFIX_MAP is read too
  --hostname NAME[=REPLACEMENT]
                     replace the host name NAME by REPLACEMENT (default build) in ELF and
                     HTML files; repeatable; STRIP_NONDETERMINISM_HOSTNAMES is read too
  --pyc-zero-mtime   set the source mtime in .pyc headers to 0
  --junit-zero-time  set the test durations in JUnit XML reports to 0
  --tar-owner NAME:ID, --tar-group NAME:ID
                     owner and group of tar and .deb members (default root:0)
  --max-depth N      refuse archives nested more than N deep (default 32)
  --max-member-size SIZE
                     the most of one archive member held in memory (default 64M;
                     K, M, G suffixes); a file needing more is an error, left unchanged
SOURCE_DATE_EPOCH is used as the timestamp when -T is not given.`;

export { summarize, jsonReport, type Summary } from './report.js';

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
    verbose: v.verbose === true,
    maxDepth: v.maxDepth as number | undefined,
    maxMemberSize: v.maxMemberSize as string | undefined,
  };
}

/** Print each file's lines, in order; returns the exit status the files call for. */
function printReports(reports: readonly FileReport[], options: RunOptions, cmd: string, io: Output): number {
  let status = 0;
  for (const r of reports) {
    if (r.skipped === 'disabled' && options.verbose) io.out(`Not normalizing ${r.path} (normalizer disabled)`);
    if (r.handler && !r.skipped && options.verbose) io.out(`Normalizing ${r.path}`);
    if (options.check && r.changed) io.out(r.path);
    if (options.verbose) for (const m of r.info) io.err(m);
    for (const w of r.warnings) io.err(w);
    if (r.error !== undefined) {
      io.err(r.exitCode === 2 ? `${r.path}: ${r.error}` : `${cmd}: ${r.path}: ${r.error}`);
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

/** The run itself: options, targets, the pipeline, the report. */
async function normalizeOperands(parsed: ParsedArgs, env: NodeJS.ProcessEnv, io: Output, argv0: string, isTTY: boolean): Promise<number> {
  const cmd = path.basename(argv0);
  const v = parsed.values;
  const options = resolveSettings(settingsFrom(v), env, argv0, v.verbose === true ? io.out : undefined);
  if (parsed.operands.length === 0) throw new UsageError(usage(cmd));
  const jobs = v.jobs === undefined ? os.availableParallelism() : (v.jobs as number);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`${cmd}: --jobs wants a whole number of at least 1`);
  if (options.timestamp === undefined && options.verbose) {
    io.out(`${cmd}: Not using a canonical time`);
    io.out(`${cmd}: Using normalizers: ${normalizerNames().filter((n) => options.enabled.has(n)).join(' ')}`);
  }
  const started = performance.now();
  const { targets, isTree } = collectTargets(parsed.operands, makeExcluder((v.exclude as string[] | undefined) ?? []));
  const batch = isTree || options.check === true || v.json !== undefined;
  let progress: Progress | undefined;
  const reports = await runTargets(targets, options, {
    jobs,
    isTree,
    cmd,
    onStart: (total) => void (progress = batch && isTTY && !env.CI ? new Progress(total, (s) => process.stderr.write(s)) : undefined),
    onReport: () => progress?.tick(),
  });
  progress?.done();
  const status = printReports(reports, options, cmd, io);
  const summary = summarize(reports, (performance.now() - started) / 1000);
  if (batch) io.err(summaryLine(summary, options.check === true, cmd));
  if (v.json !== undefined) fs.writeFileSync(v.json as string, jsonReport(reports, summary, options) + '\n');
  if (options.check) return summary.changed > 0 || summary.errors > 0 ? 1 : 0;
  return status;
}

/** Run the CLI; returns the exit status. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, io: Output, argv0 = 'strip-nondeterminism', isTTY = false): Promise<number> {
  const cmd = path.basename(argv0);
  const parsed = parseArgs(argv, SPECS);
  if (parsed.errors.length) {
    for (const e of parsed.errors) io.err(e);
    io.err(usage(cmd));
    return 255;
  }
  const early = informational(parsed.values, cmd, io);
  if (early !== undefined) return early;
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

export async function run(): Promise<void> {
  // A reader that stops early (`| head`) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const io: Output = {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
  };
  process.exitCode = await main(process.argv.slice(2), process.env, io, process.argv[1] ?? 'strip-nondeterminism', process.stderr.isTTY === true);
}
