/** Worker-thread entry for src/pool.ts: normalizes the chunks of paths it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import type { FileJob, FileReport } from './pipeline.js';
import { fromWorkerJob, fromWorkerOptions, normalizeAll, type WorkerOptions } from './pool.js';
import { reportTemporaryFiles, syncRenames, type TemporaryFileChannel } from './writer.js';

const data = workerData as { options: WorkerOptions; temporaryFiles: TemporaryFileChannel };
const options = fromWorkerOptions(data.options);
// The main thread removes them if a signal ends the run (signals reach only the main thread).
reportTemporaryFiles(data.temporaryFiles);
parentPort!.on('message', async (msg: { paths: FileJob[]; indexes: number[] }) => {
  const reports: FileReport[] = new Array(msg.paths.length);
  await normalizeAll(msg.paths.map(fromWorkerJob), options, (i, r) => (reports[i] = r));
  await syncRenames();
  parentPort!.postMessage({ reports, indexes: msg.indexes });
});
