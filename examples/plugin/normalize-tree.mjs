#!/usr/bin/env node
// Register the buildstamp handler, then normalize a tree: `node normalize-tree.mjs DIR [T]`.
// Prints one line per file the run changed, and the summary.
import { normalizeTree, registerHandler } from 'strip-nondeterminism-node';
import { buildstamp } from './buildstamp.mjs';

const [dir, T] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node normalize-tree.mjs DIR [TIMESTAMP]');
  process.exit(2);
}
registerHandler(buildstamp);
const { files, summary } = await normalizeTree(dir, { timestamp: T === undefined ? undefined : Number(T), env: {} });
for (const f of files) {
  if (f.changed) console.log(`changed ${f.path} (${f.handler})`);
  for (const w of f.warnings) console.error(w);
  if (f.error) console.error(`${f.path}: ${f.error}`);
}
console.log(`${summary.scanned} files, ${summary.changed} changed, ${summary.errors} errors`);
process.exit(summary.errors ? 1 : 0);
