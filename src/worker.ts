/** Worker-thread entry for src/pool.ts: normalizes the chunks of paths it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { normalizeFile } from './pipeline.js';
import { fromWorkerOptions, type WorkerOptions } from './pool.js';
import { syncRenames } from './replace.js';

const options = fromWorkerOptions(workerData as WorkerOptions);
parentPort!.on('message', async (msg: { start: number; paths: string[] }) => {
  const reports = [];
  for (const p of msg.paths) reports.push(await normalizeFile(p, options));
  syncRenames();
  parentPort!.postMessage({ start: msg.start, reports });
});
