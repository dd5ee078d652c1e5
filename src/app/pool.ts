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
import { normalizeFile, type FileJob, type FileReport, type RunOptions } from './pipeline.js';
import { handlerByName, registeredCount } from './registry.js';
import { syncRenames } from './writer.js';

/** What a worker needs to rebuild RunOptions: the same, with the set as an array and the forced
 *  handler by name (functions and sets do not cross threads; plain objects do). */
export type WorkerOptions = Omit<RunOptions, 'enabled' | 'forced'> & { enabled: string[]; forced?: string };

export function toWorkerOptions(o: RunOptions): WorkerOptions {
  return { ...o, enabled: [...o.enabled], forced: o.forced?.name };
}

export function fromWorkerOptions(o: WorkerOptions): RunOptions {
  return { ...o, enabled: new Set(o.enabled), forced: o.forced ? handlerByName(o.forced) : undefined };
}

/** Each worker's young generation, as small as bin/'s --max-semi-space-size=4 keeps the main one. */
const YOUNG_GENERATION_MB = 12;
const CHUNK = 256;
/** Files in flight per thread: while one waits for its fsync, others are read and normalized.
 *  Each path is a distinct inode, so files in flight never touch each other. */
const IN_FLIGHT = 8;

/** Normalize `jobs` with up to IN_FLIGHT files in flight; reports are delivered by index. */
export async function normalizeAll(jobs: readonly FileJob[], options: RunOptions, done: (index: number, r: FileReport) => void): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      done(i, await normalizeFile(jobs[i], options));
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, jobs.length) }, lane));
}

/** A job as it arrives in a worker: structured cloning turns Buffers into Uint8Arrays. */
export function fromWorkerJob(job: FileJob): FileJob {
  const bytes = (p: FileJob['fsPath']) => (typeof p === 'string' || Buffer.isBuffer(p) ? p : Buffer.from((p as Uint8Array).buffer, (p as Uint8Array).byteOffset, (p as Uint8Array).byteLength));
  return { ...job, fsPath: bytes(job.fsPath), links: job.links?.map(bytes) };
}
/** Below this many files, starting threads costs more than it saves. */
const MIN_FILES_FOR_WORKERS = 64;

export async function runFiles(paths: readonly FileJob[], options: RunOptions, jobs: number, onReport?: (index: number, r: FileReport) => void): Promise<FileReport[]> {
  const reports: FileReport[] = new Array(paths.length);
  const workerUrl = new URL('./worker.js', import.meta.url);
  // Run from TypeScript sources (the test runner) there is no compiled worker, and handlers
  // registered through the API live in this thread only: stay in-thread.
  if (jobs <= 1 || registeredCount() > 0 || paths.length < MIN_FILES_FOR_WORKERS || !existsSync(fileURLToPath(workerUrl))) {
    await normalizeAll(paths, options, (i, r) => {
      reports[i] = r;
      onReport?.(i, r);
    });
    syncRenames();
    return reports;
  }
  const workerData = toWorkerOptions(options);
  const { Worker } = await import('node:worker_threads'); // only when threads are used
  let next = 0;
  const workers = Array.from({ length: Math.min(jobs, Math.ceil(paths.length / CHUNK)) }, () => new Worker(workerUrl, { workerData, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } }));
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
