/**
 * From what a user asks for (the CLI's flags, or the library API's options object) to the
 * RunOptions the pipeline takes: the normalizer selection, T, build paths, host names, owners.
 * One place, so the command line and the API cannot drift apart.
 */
import * as os from 'node:os';
import { UsageError } from '../kit/errors.js';
import { applyNormalizerSpec, parseBuildPaths, parseHostnames, parseOwner, parseSize, resolveTimestamp } from '../kit/options.js';
import { defaultEnabled, handlerByName, normalizerNames, scrubOnly } from './registry.js';
import type { RunOptions } from './pipeline.js';

export interface Settings {
  /** The canonical time T in seconds (-T); SOURCE_DATE_EPOCH from `env` when absent. */
  timestamp?: number;
  /** Only replace times later than T (--clamp-timestamp). */
  clamp?: boolean;
  /** A --normalizers spec: `+a,-b,+all,-all`, applied left to right to the defaults. */
  normalizers?: string;
  /** -t: use this normalizer for every file, without detection. */
  type?: string;
  /** Write nothing; report what would change (--check). */
  check?: boolean;
  /** `FROM[=TO]` build paths (--build-path). */
  buildPaths?: readonly string[];
  /** `NAME[=REPLACEMENT]` host names (--hostname). */
  hostnames?: readonly string[];
  /** `NAME:ID` owner and group of tar and .deb members (--tar-owner, --tar-group). */
  tarOwner?: string;
  tarGroup?: string;
  pycZeroMtime?: boolean;
  junitZeroTime?: boolean;
  /** Drop the signatures of signed rpms and normalize them (--rpm-strip-signatures). */
  rpmStripSignatures?: boolean;
  verbose?: boolean;
  /** Containers nested deeper than this are refused (default 32). */
  maxDepth?: number;
  /** The most bytes of one member held in memory (default 64 MiB), or a size string `64M`. */
  maxMemberSize?: number | string;
  /** Threads for recompressing xz and zstd tars (--compress-threads; default: the CPUs). */
  compressThreads?: number;
}

/** RunOptions for `settings`; `log` hears Perl's verbose lines about the selection. */
export function resolveSettings(settings: Settings, env: NodeJS.ProcessEnv, argv0: string, log?: (line: string) => void): RunOptions {
  const enabled = applyNormalizerSpec(normalizerNames(), defaultEnabled(), settings.normalizers, argv0, log);
  const timestamp = resolveTimestamp(settings.timestamp, env);
  let forced;
  if (settings.type !== undefined) {
    forced = handlerByName(settings.type);
    if (!forced) throw new UsageError(`Unknown handler: ${settings.type}`);
    if (!enabled.has(settings.type)) throw new UsageError(`${settings.type}: Unknown file type`);
  }
  if (settings.maxDepth !== undefined && !(Number.isInteger(settings.maxDepth) && settings.maxDepth >= 1)) {
    throw new UsageError(`--max-depth wants a whole number of at least 1`);
  }
  if (settings.compressThreads !== undefined && !(Number.isInteger(settings.compressThreads) && settings.compressThreads >= 1)) {
    throw new UsageError(`--compress-threads wants a whole number of at least 1`);
  }
  if (typeof settings.maxMemberSize === 'number' && !(Number.isSafeInteger(settings.maxMemberSize) && settings.maxMemberSize >= 1)) {
    throw new UsageError(`--max-member-size wants a whole number of bytes of at least 1`);
  }
  const buildPaths = parseBuildPaths(settings.buildPaths ?? [], env);
  const hostnames = parseHostnames(settings.hostnames ?? [], env);
  // Without build paths or host names the ELF normalizer has nothing to do: leave those files
  // unclaimed.
  if (buildPaths.length === 0 && hostnames.length === 0) for (const n of scrubOnly()) enabled.delete(n);
  return {
    timestamp,
    clamp: settings.clamp === true,
    enabled,
    verbose: settings.verbose === true,
    forced,
    check: settings.check === true,
    tarOwner: settings.tarOwner === undefined ? undefined : parseOwner(settings.tarOwner, '--tar-owner'),
    tarGroup: settings.tarGroup === undefined ? undefined : parseOwner(settings.tarGroup, '--tar-group'),
    buildPaths,
    hostnames,
    pycZeroMtime: settings.pycZeroMtime === true,
    junitZeroTime: settings.junitZeroTime === true,
    rpmStripSignatures: settings.rpmStripSignatures === true,
    maxDepth: settings.maxDepth,
    compressThreads: settings.compressThreads ?? os.availableParallelism(),
    maxMemberBytes: typeof settings.maxMemberSize === 'string' ? parseSize(settings.maxMemberSize, '--max-member-size') : settings.maxMemberSize,
  };
}
