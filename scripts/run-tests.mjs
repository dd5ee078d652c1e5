#!/usr/bin/env node
// Runs the vitest suites, then prints one plain closing line, "N passed, N failed, N skipped",
// which CI reads (vitest's own summary is not a format it knows). Exit status is vitest's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

mkdirSync('var', { recursive: true });
const report = 'var/test-results.json';
const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], { stdio: 'inherit' });
let counts;
try {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  counts = { passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests + j.numTodoTests };
} catch {
  counts = undefined;
}
if (counts) console.log(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(r.status ?? 1);
