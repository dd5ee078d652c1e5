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
import { syncRenames, watchTemporaryFiles } from './writer.js';
import { clonedPath } from './paths.js';
import { PRELOAD_LIMIT } from '../kit/io.js';

/** What a worker needs to rebuild RunOptions: the same, with the set as an array and the forced
 *  handler by name (functions and sets do not cross threads; plain objects do). */
export type WorkerOptions = Omit<RunOptions, 'enabled' | 'forced'> & { enabled: string[]; forced?: string };

export function toWorkerOptions(o: RunOptions): WorkerOptions {
  return { ...o, enabled: [...o.enabled], forced: o.forced?.name };
}

export function fromWorkerOptions(o: WorkerOptions): RunOptions {
  return { ...o, enabled: new Set(o.enabled), forced: o.forced ? handlerByName(o.forced) : undefined };
}

/** Each worker's young generation, as small as bin/'s --max-semi-space-size=2 keeps the main one. */
const YOUNG_GENERATION_MB = 6;
const CHUNK = 256;
/** Files in flight per thread: while one waits for its fsync, others are read and normalized.
 *  Each path is a distinct inode, so files in flight never touch each other. */
const IN_FLIGHT = 8;

/** Files at least this big go to a worker one at a time (the rest in chunks of CHUNK). */
const LARGE = 1 << 20;

/** The order to start jobs in: the largest first (known sizes), so that one big file does not
 *  run alone at the end; equal sizes keep the walk's order. Reports keep the walk's order. */
export function largestFirst(jobs: readonly FileJob[]): Uint32Array {
  return Uint32Array.from(jobs, (_, i) => i).sort((a, b) => (jobs[b].size ?? 0) - (jobs[a].size ?? 0));
}

/** The bytes of file data a thread may hold for its files in flight (each counts up to what
 *  FileSource.preload reads): largest-first would otherwise start the eight biggest files at once. */
const IN_FLIGHT_BYTES = 12 << 20;

/** Normalize `jobs` with up to IN_FLIGHT files in flight, the largest first, within
 *  IN_FLIGHT_BYTES (one file always runs, however big); reports are delivered by index. */
export async function normalizeAll(jobs: readonly FileJob[], options: RunOptions, done: (index: number, r: FileReport) => void): Promise<void> {
  const order = largestFirst(jobs);
  let next = 0;
  let held = 0;
  let running = 0;
  const waiting: (() => void)[] = [];
  const weight = (i: number) => Math.min(jobs[i].size ?? 0, PRELOAD_LIMIT);
  const lane = async () => {
    while (next < order.length) {
      while (running > 0 && next < order.length && held + weight(order[next]) > IN_FLIGHT_BYTES) await new Promise<void>((r) => waiting.push(r));
      if (next >= order.length) break;
      const i = order[next++];
      const w = weight(i);
      held += w;
      running++;
      try {
        done(i, await normalizeFile(jobs[i], options));
      } finally {
        held -= w;
        running--;
        waiting.splice(0).forEach((wake) => wake());
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, jobs.length) }, lane));
}

/** A job as it arrives in a worker: structured cloning turns Buffers into Uint8Arrays. */
export function fromWorkerJob(job: FileJob): FileJob {
  return { ...job, fsPath: clonedPath(job.fsPath), links: job.links?.map(clonedPath) };
}
/** Threads when none are asked for: this one. Measured faster than two on 2 cores, and ~40 MB
 *  smaller (README, Benchmarks); the compressors run in their own processes, on every CPU. */
export const DEFAULT_JOBS = 1;

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
    await syncRenames();
    return reports;
  }
  const options4worker = toWorkerOptions(options);
  const { Worker, MessageChannel, receiveMessageOnPort } = await import('node:worker_threads'); // only when threads are used
  const order = largestFirst(paths);
  let next = 0;
  const start = () => {
    // The worker's temporary files are reported on a channel of their own, which a signal
    // handler can drain synchronously (writer.ts, removeTemporaryFiles).
    const { port1, port2 } = new MessageChannel();
    const state = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(workerUrl, {
      workerData: { options: options4worker, temporaryFiles: { port: port2, state } },
      transferList: [port2],
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    const unwatch = watchTemporaryFiles(port1, state, () => receiveMessageOnPort(port1)?.message);
    return { worker, unwatch };
  };
  const workers = Array.from({ length: Math.min(jobs, Math.ceil(paths.length / CHUNK)) }, start);
  await Promise.all(
    workers.map(
      ({ worker: w, unwatch }) =>
        new Promise<void>((resolve, reject) => {
          const feed = () => {
            if (next >= order.length) {
              void w.terminate().then(() => {
                unwatch();
                resolve();
              });
              return;
            }
            // A large file alone; small ones by the chunk.
            const start = next;
            next = (paths[order[next]].size ?? 0) >= LARGE ? next + 1 : Math.min(next + CHUNK, order.length);
            const indexes = Array.from(order.subarray(start, next));
            w.postMessage({ paths: indexes.map((i) => paths[i]), indexes });
          };
          w.on('message', (msg: { reports: FileReport[]; indexes: number[] }) => {
            msg.reports.forEach((r, k) => {
              reports[msg.indexes[k]] = r;
              onReport?.(msg.indexes[k], r);
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
