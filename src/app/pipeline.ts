/**
 * The per-file pipeline: open (a tree's file without following a symlink, and only if it is
 * still the inode the walk found), detect (or use the forced -t handler), run the handler from a
 * FileSource into a temporary-file sink, and replace the file only if the handler reports a
 * change. Every outcome is returned as a FileReport; nothing here prints.
 */
import * as fs from 'node:fs';
import { BufferSink, BufferSource, DiscardSink, FileSource, HEAD_SIZE, type Sink, type Source } from '../kit/io.js';
import type { Handler } from '../kit/handler.js';
import { fileContext } from './dispatcher.js';
import type { NormalizeOptions } from '../kit/options.js';
import { detect } from './detect.js';
import { setMtimeBeside, TempFileSink } from './writer.js';
import { FormatError } from '../kit/errors.js';
import type { FsPath } from './paths.js';

export interface RunOptions extends NormalizeOptions {
  /** -t: use this handler for every file, without detection. */
  readonly forced?: Handler;
}

export interface FileReport {
  path: string;
  /** The handler that processed (or would have processed) the file. */
  handler?: string;
  /** Why the file was not processed, if it was not. */
  skipped?: 'disabled' | 'no-handler' | 'not-a-file' | 'hard-link' | 'unwritable' | 'unreadable';
  /** For skipped 'hard-link': the name that was processed for this inode. */
  linkOf?: string;
  changed: boolean;
  warnings: string[];
  /** Verbose diagnostics from the handler. */
  info: string[];
  error?: string;
  /** The error was a fault of this program (a TypeError, RangeError, ...), not of the input. */
  internal?: boolean;
  /** Exit status this file calls for (0 when fine). */
  exitCode: number;
}

function describe(e: unknown): string {
  if (e instanceof FormatError) return e.message;
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && err.syscall) return `${err.syscall} failed: ${err.code} (${err.message.replace(/^[A-Z]+: /, '')})`;
  return err instanceof Error ? err.message : String(e);
}

/** The forced handler, or detection's; undefined when none runs (report.skipped says why). */
async function pickHandler(path: string, src: Source & { head: Buffer }, options: RunOptions, report: FileReport | BufferResult): Promise<Handler | undefined> {
  let handler = options.forced;
  if (!handler) {
    const found = await detect(path, src, options.enabled);
    if (!found) {
      report.skipped = 'no-handler';
      return undefined;
    }
    report.handler = found.handler.name;
    if (!found.enabled) {
      report.skipped = 'disabled';
      return undefined;
    }
    handler = found.handler;
  }
  report.handler = handler.name;
  return handler;
}

export interface BufferResult {
  /** The normalized bytes (the input itself when nothing changed). */
  bytes: Buffer;
  changed: boolean;
  handler?: string;
  skipped?: 'disabled' | 'no-handler';
  warnings: string[];
  info: string[];
}

/** Normalize bytes held in memory as if they were the file `name`. A FormatError propagates. */
export async function normalizeBytes(bytes: Buffer, name: string, options: RunOptions): Promise<BufferResult> {
  const result: BufferResult = { bytes, changed: false, warnings: [], info: [] };
  const src = Object.assign(new BufferSource(bytes), { head: bytes.subarray(0, HEAD_SIZE) });
  const handler = await pickHandler(name, src, options, result);
  if (!handler) return result;
  const sink = new BufferSink();
  if (await handler.normalize(src, sink, fileContext(options, name, bytes.length, result))) {
    result.changed = true;
    result.bytes = sink.toBuffer();
  }
  return result;
}

/** One file to normalize: what the walk found (see Target in walk.ts). */
export interface FileJob {
  /** The name as shown in reports. */
  path: string;
  /** The name as the file system has it. */
  fsPath: FsPath;
  /** Found in a walked tree: symlinks are not followed, and the file must still be this inode. */
  inode?: string;
  /** Further names of the inode, which get the new bytes too. */
  links?: readonly FsPath[];
  /** Its size when the walk saw it (the pool starts the largest files first). */
  size?: number;
}

/** What a file turned out to be once opened: the source, its stat, and the names to replace. */
interface Opened {
  src: FileSource;
  st: fs.BigIntStats;
  names: FsPath[];
}

/**
 * Open the file a job names. An operand is followed through symlinks (the file they point to is
 * replaced); a file of a tree is opened without following one, and must still be the inode the
 * walk saw. Returns a report when there is nothing to open.
 */
function openJob(job: FileJob, report: FileReport): Opened | FileReport {
  if (job.inode === undefined) {
    const target = fs.lstatSync(job.fsPath).isSymbolicLink() ? fs.realpathSync(job.fsPath) : job.fsPath;
    const fd = fs.openSync(target, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const st = fs.fstatSync(fd, { bigint: true });
    if (!st.isFile()) {
      fs.closeSync(fd);
      return { ...report, skipped: 'not-a-file' };
    }
    return { src: FileSource.fromFd(fd, Number(st.size)), st, names: [target, ...(job.links ?? [])] };
  }
  let fd: number;
  try {
    fd = fs.openSync(job.fsPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return { ...report, skipped: 'not-a-file', warnings: [`${job.path}: became a symlink since the directory was read; not followed`] };
    throw e;
  }
  const st = fs.fstatSync(fd, { bigint: true });
  if (!st.isFile() || `${st.dev}:${st.ino}` !== job.inode) {
    fs.closeSync(fd);
    return { ...report, skipped: 'not-a-file', warnings: [`${job.path}: replaced by another file since the directory was read; left alone`] };
  }
  return { src: FileSource.fromFd(fd, Number(st.size)), st, names: [job.fsPath, ...(job.links ?? [])] };
}

function failure(report: FileReport, e: unknown, inTree: boolean): FileReport {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { ...report, error: 'Does not exist', exitCode: 2 };
  // In a tree, a file this user may not read is a warning, and the run goes on.
  if (inTree && code === 'EACCES') return { ...report, skipped: 'unreadable', warnings: [`${report.path}: cannot be read (EACCES); skipped`] };
  return { ...report, error: describe(e), exitCode: 255 };
}

export async function normalizeFile(job: FileJob | string, options: RunOptions): Promise<FileReport> {
  if (typeof job === 'string') job = { path: job, fsPath: job };
  const report: FileReport = { path: job.path, changed: false, warnings: [], info: [], exitCode: 0 };
  let opened: Opened | FileReport;
  try {
    opened = openJob(job, report);
  } catch (e) {
    return failure(report, e, job.inode !== undefined);
  }
  if (!('src' in opened)) return opened;
  const { src, st, names } = opened;
  let sink: (Sink & { commit?: () => Promise<void>; abort?: () => void }) | undefined;
  try {
    const handler = await pickHandler(job.path, src, options, report);
    if (!handler) return report;
    // One read for the whole file beats many small ones; large files keep streaming.
    src.preload();
    const ctx = fileContext(options, job.path, src.size, report);
    sink = options.check ? new DiscardSink() : new TempFileSink(names, st, (m) => report.warnings.push(m));
    const changed = await handler.normalize(src, sink, ctx);
    await src.close();
    if (changed) await sink.commit?.();
    else sink.abort?.();
    if (changed && !options.check) for (const b of ctx.beside) setMtimeBeside(names[0], b.name, b.mtime, (m) => report.warnings.push(m));
    report.changed = changed;
  } catch (e) {
    sink?.abort?.();
    report.error = describe(e);
    report.exitCode = 255;
    if (e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError) report.internal = true;
  } finally {
    await src.close();
  }
  return report;
}
