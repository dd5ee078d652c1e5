/**
 * The library API: what `import ... from 'strip-nondeterminism-node'` gives. It normalizes
 * files, trees and in-memory bytes with the same pipeline as the command line (same options,
 * same reports as --json), and lets a third party register handlers for its own formats, which
 * then take files in trees and members inside zip, tar, ar and .deb archives alike.
 * docs/api.md describes it; test/api.test.ts keeps that page and these exports in step.
 */
import * as path from 'node:path';
import { normalizeBytes, normalizeFile as runPipeline, type BufferResult as BytesResult } from './app/pipeline.js';
import { resolveSettings, type Settings } from './app/settings.js';
import { collectTargets, makeExcluder } from './app/walk.js';
import { runTargets } from './app/batch.js';
import { DEFAULT_JOBS } from './app/pool.js';
import { summarize, toEntry, type FileEntry, type Summary } from './app/report.js';
import { FormatError } from './kit/errors.js';

export type { Settings } from './app/settings.js';
export type { FileEntry, Summary } from './app/report.js';
export type { Handler, HandlerContext, ListedField, ListedMember, Listing, MemberOptions, MemberResult, MemberHooks } from './kit/handler.js';
export { extensionMatcher } from './kit/handler.js';
export type { Source, Sink } from './kit/io.js';
export { BufferSink, BufferSource, RangeSource, readAll, readExact } from './kit/io.js';
export { OutputPlan } from './kit/output-plan.js';
export type { NormalizeOptions } from './kit/options.js';
export { FormatError, UsageError } from './kit/errors.js';
export { registerHandler, handlers, handlerByName, normalizerNames } from './app/registry.js';
export { VERSION } from './app/version.js';

/** Options of every API call: the command line's settings, plus the environment to read
 *  SOURCE_DATE_EPOCH, BUILD_PATH_PREFIX_MAP and STRIP_NONDETERMINISM_HOSTNAMES from
 *  (default: process.env; pass `{}` to ignore it). */
export interface Options extends Settings {
  env?: NodeJS.ProcessEnv;
}

export interface TreeOptions extends Options {
  /** Worker threads (default: the number of CPUs; 1 when third-party handlers are registered,
   *  which live in this thread only). */
  jobs?: number;
  /** Globs to skip, as --exclude. */
  exclude?: readonly string[];
  /** Told after each file: how many are done, of how many, and its entry. */
  onProgress?: (done: number, total: number, entry: FileEntry) => void;
}

/** `{ bytes, changed, handler?, warnings }`: `bytes` is the input itself when nothing changed. */
export type BufferResult = Pick<BytesResult, 'bytes' | 'changed' | 'handler' | 'warnings'>;

const resolve = (options: Options) => resolveSettings(options, options.env ?? process.env, 'strip-nondeterminism');

/** Normalize one file in place (a symlink is followed, as for a command-line operand). Never
 *  throws for a bad file: the entry's `error` says what was wrong and the file is unchanged. */
export async function normalizeFile(file: string, options: Options = {}): Promise<FileEntry> {
  return toEntry(await runPipeline(file, resolve(options)));
}

/** Normalize every file below `dir` (and `dir` itself if it is a file), as the command line's
 *  batch mode does; returns the entries and summary that --json writes. */
export async function normalizeTree(dir: string, options: TreeOptions = {}): Promise<{ files: FileEntry[]; summary: Summary }> {
  const run = resolve(options);
  const started = performance.now();
  const { targets, isTree } = collectTargets([dir], makeExcluder(options.exclude ?? []));
  let done = 0;
  let total = 0;
  const reports = await runTargets(targets, run, {
    jobs: options.jobs ?? DEFAULT_JOBS,
    isTree,
    cmd: path.basename(process.argv[1] ?? 'strip-nondeterminism'),
    onStart: (n) => void (total = n),
    onReport: (r) => options.onProgress?.(++done, total, toEntry(r)),
  });
  return { files: reports.map(toEntry), summary: summarize(reports, (performance.now() - started) / 1000) };
}

/**
 * Normalize bytes as if they were the file `name` (its name and bytes choose the handler, or
 * `options.type` does). A damaged input throws a FormatError naming `name`.
 */
export async function normalizeBuffer(bytes: Uint8Array, name: string, options: Options = {}): Promise<BufferResult> {
  const input = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const r = await normalizeBytes(input, name, resolve(options));
    return { bytes: r.bytes, changed: r.changed, handler: r.handler, warnings: r.warnings };
  } catch (e) {
    throw e instanceof FormatError ? new FormatError(`${name}: ${e.message}`) : e;
  }
}
