/**
 * The per-file pipeline: stat, open, detect (or use the forced -t handler), run the handler
 * from a FileSource into a temporary-file sink, and replace the file only if the handler
 * reports a change. Every outcome is returned as a FileReport; nothing here prints.
 */
import * as fs from 'node:fs';
import { BufferSink, BufferSource, DiscardSink, FileSource, HEAD_SIZE, type Sink, type Source } from '../kit/io.js';
import type { Handler } from '../kit/handler.js';
import { fileContext } from './dispatcher.js';
import type { NormalizeOptions } from '../kit/options.js';
import { detect } from './detect.js';
import { TempFileSink } from './writer.js';
import { FormatError } from '../kit/errors.js';

export interface RunOptions extends NormalizeOptions {
  /** -t: use this handler for every file, without detection. */
  readonly forced?: Handler;
}

export interface FileReport {
  path: string;
  /** The handler that processed (or would have processed) the file. */
  handler?: string;
  /** Why the file was not processed, if it was not. */
  skipped?: 'disabled' | 'no-handler' | 'not-a-file' | 'hard-link' | 'unwritable';
  /** For skipped 'hard-link': the name that was processed for this inode. */
  linkOf?: string;
  changed: boolean;
  warnings: string[];
  /** Verbose diagnostics from the handler. */
  info: string[];
  error?: string;
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
  if (await handler.normalize(src, sink, fileContext(options, name, result))) {
    result.changed = true;
    result.bytes = sink.toBuffer();
  }
  return result;
}

export async function normalizeFile(path: string, options: RunOptions): Promise<FileReport> {
  const report: FileReport = { path, changed: false, warnings: [], info: [], exitCode: 0 };
  let st: fs.Stats;
  let target = path;
  try {
    // One lstat serves the symlink check, the file-type check and, at commit, the attributes.
    st = fs.lstatSync(path);
    if (st.isSymbolicLink()) {
      // Symlinks given on the command line are followed: the file they point to is replaced.
      target = fs.realpathSync(path);
      st = fs.statSync(target);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      report.error = 'Does not exist';
      report.exitCode = 2;
    } else {
      report.error = describe(e);
      report.exitCode = 255;
    }
    return report;
  }
  if (!st.isFile()) {
    report.skipped = 'not-a-file';
    return report;
  }

  let src: FileSource | undefined;
  let sink: (Sink & { commit?: () => Promise<void>; abort?: () => void }) | undefined;
  try {
    src = await FileSource.open(path);
    const handler = await pickHandler(path, src, options, report);
    if (!handler) return report;
    // One read for the whole file beats many small ones; large files keep streaming.
    src.preload();
    const ctx = fileContext(options, path, report);
    sink = options.check ? new DiscardSink() : new TempFileSink(target, st);
    const changed = await handler.normalize(src, sink, ctx);
    await src.close();
    src = undefined;
    if (changed) await sink.commit?.();
    else sink.abort?.();
    report.changed = changed;
  } catch (e) {
    sink?.abort?.();
    report.error = describe(e);
    report.exitCode = 255;
  } finally {
    await src?.close();
  }
  return report;
}
