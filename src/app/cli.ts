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
import { parseArgs, type OptionSpec } from './args.js';
import { UsageError } from '../kit/errors.js';
import { applyNormalizerSpec, parseBuildPaths, parseHostnames, parseOwner, resolveTimestamp } from '../kit/options.js';
import { DEFAULT_ENABLED, handlerByName, NORMALIZER_NAMES, SCRUB_ONLY } from './registry.js';
import type { FileReport, RunOptions } from './pipeline.js';
import { runFiles } from './pool.js';
import { collectTargets, makeExcluder } from './walk.js';
import { VERSION, PERL_COMPAT_VERSION } from './version.js';
import { Progress } from './progress.js';

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
SOURCE_DATE_EPOCH is used as the timestamp when -T is not given.`;

export interface Summary {
  scanned: number;
  handled: number;
  changed: number;
  unchanged: number;
  warnings: number;
  errors: number;
  seconds: number;
}

export function summarize(reports: FileReport[], seconds: number): Summary {
  const handled = reports.filter((r) => r.handler && !r.skipped && r.error === undefined);
  return {
    scanned: reports.length,
    handled: handled.length,
    changed: handled.filter((r) => r.changed).length,
    unchanged: handled.filter((r) => !r.changed).length,
    warnings: reports.reduce((n, r) => n + r.warnings.length, 0),
    errors: reports.filter((r) => r.error !== undefined).length,
    seconds,
  };
}

export function jsonReport(reports: FileReport[], summary: Summary, options: RunOptions): string {
  return JSON.stringify(
    {
      tool: 'strip-nondeterminism-node',
      version: VERSION,
      timestamp: options.timestamp ?? null,
      check: options.check === true,
      files: reports.map((r) => ({
        path: r.path,
        handler: r.handler ?? null,
        changed: r.changed,
        skipped: r.skipped ?? null,
        linkOf: r.linkOf ?? null,
        warnings: r.warnings,
        error: r.error ?? null,
      })),
      summary,
    },
    null,
    2,
  );
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
  const v = parsed.values;
  if (v.help) {
    io.out(usage(cmd));
    io.out(EXTENSIONS);
    return 0;
  }
  if (v.version) {
    io.out(`${cmd} version ${PERL_COMPAT_VERSION} (strip-nondeterminism-node ${VERSION})`);
    return 0;
  }
  const verbose = v.verbose === true;
  const check = v.check === true;
  try {
    const enabled = applyNormalizerSpec(NORMALIZER_NAMES, DEFAULT_ENABLED, v.normalizers as string | undefined, argv0, verbose ? io.out : undefined);
    const timestamp = resolveTimestamp(v.timestamp as number | undefined, env);
    if (parsed.operands.length === 0) throw new UsageError(usage(cmd));
    let forced;
    if (v.type !== undefined) {
      const name = v.type as string;
      forced = handlerByName(name);
      if (!forced) throw new UsageError(`Unknown handler: ${name}`);
      if (!enabled.has(name)) throw new UsageError(`${name}: Unknown file type`);
    }
    const jobs = v.jobs === undefined ? os.availableParallelism() : (v.jobs as number);
    if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`${cmd}: --jobs wants a whole number of at least 1`);
    if (timestamp === undefined && verbose) {
      io.out(`${cmd}: Not using a canonical time`);
      io.out(`${cmd}: Using normalizers: ${NORMALIZER_NAMES.filter((n) => enabled.has(n)).join(' ')}`);
    }
    const tarOwner = v.tarOwner === undefined ? undefined : parseOwner(v.tarOwner as string, '--tar-owner');
    const tarGroup = v.tarGroup === undefined ? undefined : parseOwner(v.tarGroup as string, '--tar-group');
    const buildPaths = parseBuildPaths((v.buildPath as string[] | undefined) ?? [], env);
    const hostnames = parseHostnames((v.hostname as string[] | undefined) ?? [], env);
    // Without build paths or host names the ELF and HTML normalizers have nothing to do: leave
    // those files unclaimed.
    if (buildPaths.length === 0 && hostnames.length === 0) for (const n of SCRUB_ONLY) enabled.delete(n);
    const options: RunOptions = { timestamp, clamp: v.clamp === true, enabled, verbose, forced, check, tarOwner, tarGroup, buildPaths, hostnames, pycZeroMtime: v.pycZeroMtime === true, junitZeroTime: v.junitZeroTime === true };
    const started = performance.now();
    const { targets, isTree } = collectTargets(parsed.operands, makeExcluder((v.exclude as string[] | undefined) ?? []));
    const batch = isTree || check || v.json !== undefined;

    // Files to run the pipeline on; the others get their report here.
    const reports: FileReport[] = targets.map((t) => ({ path: t.path, changed: false, warnings: [], info: [], exitCode: 0 }));
    const work: number[] = [];
    for (const [i, t] of targets.entries()) {
      if (t.problem === 'missing') {
        reports[i].error = 'Does not exist';
        reports[i].exitCode = 2;
      } else if (t.linkOf !== undefined) {
        reports[i].skipped = 'hard-link';
        reports[i].linkOf = t.linkOf;
      } else if (isTree && !check && !writable(t.path)) {
        reports[i].skipped = 'unwritable';
        reports[i].warnings.push(`${cmd}: Ignoring unwritable file: ${t.path}`);
      } else {
        work.push(i);
      }
    }
    const progress = batch && isTTY && !env.CI ? new Progress(work.length, (s) => process.stderr.write(s)) : undefined;
    const results = await runFiles(
      work.map((i) => targets[i].path),
      options,
      jobs,
      progress ? () => progress.tick() : undefined,
    );
    progress?.done();
    results.forEach((r, k) => (reports[work[k]] = r));

    let status = 0;
    for (const r of reports) {
      if (r.skipped === 'disabled' && verbose) io.out(`Not normalizing ${r.path} (normalizer disabled)`);
      if (r.handler && !r.skipped && verbose) io.out(`Normalizing ${r.path}`);
      if (check && r.changed) io.out(r.path);
      if (verbose) for (const m of r.info) io.err(m);
      for (const w of r.warnings) io.err(w);
      if (r.error !== undefined) {
        io.err(r.exitCode === 2 ? `${r.path}: ${r.error}` : `${cmd}: ${r.path}: ${r.error}`);
        // A missing file alone gives Perl's status 2; any other failure gives 255.
        status = status === 255 || r.exitCode === 255 ? 255 : r.exitCode;
      }
    }
    const summary = summarize(reports, (performance.now() - started) / 1000);
    if (batch) {
      const verb = check ? 'would change' : 'changed';
      io.err(
        `${cmd}: ${summary.scanned} files scanned, ${summary.handled} handled, ${summary.changed} ${verb}, ${summary.unchanged} unchanged, ` +
          `${summary.warnings} warnings, ${summary.errors} errors in ${summary.seconds.toFixed(2)} s`,
      );
    }
    if (v.json !== undefined) fs.writeFileSync(v.json as string, jsonReport(reports, summary, options) + '\n');
    if (check) return summary.changed > 0 || summary.errors > 0 ? 1 : 0;
    return status;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(e.message);
      return e.exitCode;
    }
    throw e;
  }
}

/** Can the file be replaced? It must be writable, and so must its directory (temp file). */
function writable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK);
    fs.accessSync(path.dirname(p), fs.constants.W_OK);
    return true;
  } catch {
    return false;
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
