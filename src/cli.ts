/**
 * `strip-nondeterminism`: a drop-in for the Perl command line.
 *
 * Same flags, messages and exit statuses as the Perl tool, with two deliberate differences
 * (docs/compat.md): every file is tried even after one fails (the exit status is still
 * non-zero), and SOURCE_DATE_EPOCH is used when -T is not given.
 */
import * as path from 'node:path';
import { parseArgs, type OptionSpec } from './args.js';
import { UsageError } from './errors.js';
import { applyNormalizerSpec, resolveTimestamp } from './options.js';
import { DEFAULT_ENABLED, handlerByName, NORMALIZER_NAMES } from './registry.js';
import { normalizeFile, type RunOptions } from './pipeline.js';
import { VERSION, PERL_COMPAT_VERSION } from './version.js';

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
];

export function usage(cmd: string): string {
  return `Usage: ${cmd} [-v|--verbose] [-t|--type FILETYPE] [-T|--timestamp SECONDS] [--clamp-timestamp] [--normalizers <+NORMALIZER,-NORMALIZER,+all,-all,...>] FILENAME`;
}

/** Run the CLI; returns the exit status. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, io: Output, argv0 = 'strip-nondeterminism'): Promise<number> {
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
    return 0;
  }
  if (v.version) {
    io.out(`${cmd} version ${PERL_COMPAT_VERSION} (strip-nondeterminism-node ${VERSION})`);
    return 0;
  }
  const verbose = v.verbose === true;
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
    if (timestamp === undefined && verbose) {
      io.out(`${cmd}: Not using a canonical time`);
      io.out(`${cmd}: Using normalizers: ${NORMALIZER_NAMES.filter((n) => enabled.has(n)).join(' ')}`);
    }
    const options: RunOptions = { timestamp, clamp: v.clamp === true, enabled, verbose, forced };
    let status = 0;
    for (const file of parsed.operands) {
      const r = await normalizeFile(file, options);
      if (r.skipped === 'disabled' && verbose) io.out(`Not normalizing ${file} (normalizer disabled)`);
      if (r.handler && !r.skipped && verbose) io.out(`Normalizing ${file}`);
      if (verbose) for (const m of r.info) io.err(m);
      for (const w of r.warnings) io.err(w);
      if (r.error !== undefined) {
        io.err(r.exitCode === 2 ? `${file}: ${r.error}` : `${cmd}: ${file}: ${r.error}`);
        // A missing file alone gives Perl's status 2; any other failure gives 255.
        status = status === 255 || r.exitCode === 255 ? 255 : r.exitCode;
      }
    }
    return status;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(e.message);
      return e.exitCode;
    }
    throw e;
  }
}

export async function run(): Promise<void> {
  const io: Output = {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
  };
  process.exitCode = await main(process.argv.slice(2), process.env, io, process.argv[1] ?? 'strip-nondeterminism');
}
