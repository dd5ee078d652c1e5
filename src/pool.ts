/**
 * Running the pipeline over many files, in this thread or in a pool of worker threads.
 *
 * Results come back in input order whatever the number of workers, so reports and output are
 * identical for -j1 and -jN. Work is handed out in small chunks, on demand, so a slow file does
 * not hold up a whole share. Each inode appears once in the input (src/walk.ts), so two workers
 * never rewrite the same file.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { normalizeFile, type FileReport, type RunOptions } from './pipeline.js';
import { handlerByName } from './registry.js';
import { syncRenames } from './replace.js';

/** What a worker needs to rebuild RunOptions (functions and sets do not cross threads). */
export interface WorkerOptions {
  timestamp?: number;
  clamp: boolean;
  enabled: string[];
  verbose: boolean;
  forced?: string;
  check?: boolean;
}

export function toWorkerOptions(o: RunOptions): WorkerOptions {
  return { timestamp: o.timestamp, clamp: o.clamp, enabled: [...o.enabled], verbose: o.verbose, forced: o.forced?.name, check: o.check };
}

export function fromWorkerOptions(o: WorkerOptions): RunOptions {
  return { timestamp: o.timestamp, clamp: o.clamp, enabled: new Set(o.enabled), verbose: o.verbose, forced: o.forced ? handlerByName(o.forced) : undefined, check: o.check };
}

const CHUNK = 16;
/** Below this many files, starting threads costs more than it saves. */
const MIN_FILES_FOR_WORKERS = 64;

export async function runFiles(paths: readonly string[], options: RunOptions, jobs: number, onReport?: (index: number, r: FileReport) => void): Promise<FileReport[]> {
  const reports: FileReport[] = new Array(paths.length);
  const workerUrl = new URL('./worker.js', import.meta.url);
  // Run from TypeScript sources (the test runner) there is no compiled worker: stay in-thread.
  if (jobs <= 1 || paths.length < MIN_FILES_FOR_WORKERS || !existsSync(fileURLToPath(workerUrl))) {
    for (const [i, p] of paths.entries()) {
      reports[i] = await normalizeFile(p, options);
      onReport?.(i, reports[i]);
    }
    syncRenames();
    return reports;
  }
  const workerData = toWorkerOptions(options);
  let next = 0;
  const workers = Array.from({ length: Math.min(jobs, Math.ceil(paths.length / CHUNK)) }, () => new Worker(workerUrl, { workerData }));
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const feed = () => {
            if (next >= paths.length) {
              void w.terminate().then(() => resolve());
              return;
            }
            const start = next;
            next = Math.min(next + CHUNK, paths.length);
            w.postMessage({ start, paths: paths.slice(start, next) });
          };
          w.on('message', (msg: { start: number; reports: FileReport[] }) => {
            msg.reports.forEach((r, k) => {
              reports[msg.start + k] = r;
              onReport?.(msg.start + k, r);
            });
            feed();
          });
          w.on('error', reject);
          feed();
        }),
    ),
  );
  return reports;
}
