/**
 * What differs between two output trees (gbuild --vary): files only on one side, and for files
 * on both sides with different bytes, the differences `strip-nondeterminism diff` finds (the
 * one comparison in the project, src/app/compare/): which nested member, which field, or the
 * first differing content.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeDifference } from '../app/compare/diff.js';
import { diffFiles } from '../app/compare/command.js';
import { defaultEnabled } from '../app/registry.js';
import type { RunOptions } from '../app/pipeline.js';
import { treeEntries } from '../app/walk.js';

export interface FileDifference {
  file: string;
  details: string[];
}

export interface TreeComparison {
  onlyFirst: string[];
  onlySecond: string[];
  differing: FileDifference[];
}

/** Files under `dir` (symlinks and all, as Gitian's manifest lists them), relative, in the
 *  order of JavaScript's string comparison of the whole path. */
export function listFiles(dir: string): string[] {
  return treeEntries(dir)
    .map((e) => e.rel)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Whether two files hold the same bytes, read in 1 MiB blocks (only differing files are loaded). */
function sameBytes(a: string, b: string): boolean {
  if (fs.statSync(a).size !== fs.statSync(b).size) return false;
  const [fa, fb] = [fs.openSync(a, 'r'), fs.openSync(b, 'r')];
  try {
    const [x, y] = [Buffer.alloc(1 << 20), Buffer.alloc(1 << 20)];
    for (let pos = 0; ; ) {
      const n = fs.readSync(fa, x, 0, x.length, pos);
      if (n === 0) return true;
      if (fs.readSync(fb, y, 0, n, pos) !== n || !x.subarray(0, n).equals(y.subarray(0, n))) return false;
      pos += n;
    }
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

/** The outputs were normalized by the build already: compared with the default normalizers. */
const OPTIONS: RunOptions = { enabled: defaultEnabled(), clamp: false, verbose: false };

/** Why two versions of a file differ, a line per difference. */
async function explain(a: string, b: string, name: string): Promise<string[]> {
  try {
    const found = await diffFiles(a, b, OPTIONS, name);
    return found.length ? found.map(describeDifference) : ['bytes differ'];
  } catch (e) {
    return [`cannot be compared: ${e instanceof Error ? e.message : String(e)}`];
  }
}

export async function compareTrees(first: string, second: string): Promise<TreeComparison> {
  const a = listFiles(first);
  const b = listFiles(second);
  const inB = new Set(b);
  const inA = new Set(a);
  const differing: FileDifference[] = [];
  for (const f of a) {
    if (!inB.has(f)) continue;
    const [x, y] = [path.join(first, f), path.join(second, f)];
    if (!sameBytes(x, y)) differing.push({ file: f, details: await explain(x, y, f) });
  }
  return { onlyFirst: a.filter((f) => !inB.has(f)), onlySecond: b.filter((f) => !inA.has(f)), differing };
}
