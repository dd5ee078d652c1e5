/**
 * A run over targets (files and walked trees): the reports of names the pipeline never sees
 * (missing files, further names of a hard-linked inode, unwritable files in a tree), then the
 * pipeline over the rest, in this thread or in workers. Shared by the CLI and the library API.
 */
import * as fs from 'node:fs';
import type { FileReport, RunOptions } from './pipeline.js';
import { runFiles } from './pool.js';
import type { Target } from './walk.js';
import { splitPath, type FsPath } from './paths.js';

export interface BatchOptions {
  /** Worker threads (1: this thread). */
  jobs: number;
  /** Some operand was a directory: unwritable files are skipped with a warning. */
  isTree: boolean;
  /** The command's name, for warnings. */
  cmd: string;
  /** Told how many files the pipeline will run on, before it starts. */
  onStart?: (total: number) => void;
  /** Called as each file the pipeline ran on is done. */
  onReport?: (report: FileReport) => void;
}

/** Can the file be replaced? It must be writable, and so must its directory (temp file). */
function writable(p: FsPath): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK);
    fs.accessSync(splitPath(p).dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The report of a target the pipeline does not run on, or undefined when it should. */
function reportWithoutRunning(t: Target, options: RunOptions, batch: BatchOptions): FileReport | undefined {
  const report: FileReport = { path: t.path, changed: false, warnings: [], info: [], exitCode: 0 };
  if (t.problem === 'missing') return { ...report, error: 'Does not exist', exitCode: 2 };
  if (t.problem === 'unreadable') return { ...report, skipped: 'unreadable', warnings: [`${batch.cmd}: ${t.message}`] };
  if (t.linkOf !== undefined) return { ...report, skipped: 'hard-link', linkOf: t.linkOf };
  if (batch.isTree && !options.check && !writable(t.fsPath)) {
    return { ...report, skipped: 'unwritable', warnings: [`${batch.cmd}: Ignoring unwritable file: ${t.path}`] };
  }
  return undefined;
}

/** Reports for every target, in target order. */
export async function runTargets(targets: readonly Target[], options: RunOptions, batch: BatchOptions): Promise<FileReport[]> {
  const reports: (FileReport | undefined)[] = targets.map((t) => reportWithoutRunning(t, options, batch));
  const work = reports.flatMap((r, i) => (r ? [] : [i]));
  batch.onStart?.(work.length);
  const results = await runFiles(
    work.map((i) => targets[i]),
    options,
    batch.jobs,
    batch.onReport && ((_i, r) => batch.onReport!(r)),
  );
  results.forEach((r, k) => (reports[work[k]] = r));
  return reports as FileReport[];
}
