/**
 * `--identity` and `diff`: the two comparisons users run without rewriting anything. Files are
 * read, normalized and expanded in memory (artifact.ts); nothing is written.
 *  - identity: a `sha256sum`-style line per file (and per symlink of a tree), then one for each
 *    tree operand (identity.ts);
 *  - diff A B (files or trees): "identical after normalization" and 0, or one line per
 *    difference and 1 (diff.ts); --json for machines; 2 on errors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FormatError } from '../../kit/errors.js';
import type { RunOptions } from '../pipeline.js';
import { treeEntries } from '../walk.js';
import { expand, type ArtifactNode } from './artifact.js';
import { describeDifference, diffNodes, type Difference } from './diff.js';
import { identityOf, symlinkIdentity, treeIdentity, type TreeEntry } from './identity.js';

export interface Lines {
  out(line: string): void;
  err(line: string): void;
}

/** Identity v1 normalizes with T = 0, whatever -T says, so the time of the check cannot show. */
const identityOptions = (options: RunOptions): RunOptions => ({ ...options, timestamp: 0, clamp: false, check: false });

/** Regular files and symlinks under `dir`, relative, in byte order. */
const treeFiles = (dir: string) => treeEntries(dir).filter((e) => e.kind !== 'other').map((e) => ({ rel: e.rel, symlink: e.kind === 'symlink' }));

/** A file read, normalized and expanded; an error names the file. */
async function load(file: string, options: RunOptions): Promise<ArtifactNode> {
  try {
    return await expand(file, fs.readFileSync(file), options);
  } catch (e) {
    throw new FormatError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Print identities; returns the exit status (255 if a file could not be read or normalized). */
export async function runIdentity(operands: readonly string[], options: RunOptions, io: Lines, cmd: string): Promise<number> {
  const opts = identityOptions(options);
  let status = 0;
  const one = async (file: string, shown: string): Promise<string | undefined> => {
    try {
      const id = await identityOf(await load(file, opts));
      io.out(`${id}  ${shown}`);
      return id;
    } catch (e) {
      io.err(`${cmd}: ${e instanceof Error ? e.message : String(e)}`);
      status = 255;
      return undefined;
    }
  };
  for (const operand of operands) {
    if (!fs.existsSync(operand)) {
      io.err(`${cmd}: ${operand}: Does not exist`);
      status = status || 2;
    } else if (fs.statSync(operand).isDirectory()) {
      const entries: TreeEntry[] = [];
      for (const { rel, symlink } of treeFiles(operand)) {
        const full = path.join(operand, rel);
        if (symlink) {
          const id = symlinkIdentity(fs.readlinkSync(full));
          io.out(`${id}  ${full}`);
          entries.push({ path: rel, type: 'symlink', exec: false, identity: id });
        } else {
          const id = await one(full, full);
          if (id) entries.push({ path: rel, type: 'file', exec: (fs.statSync(full).mode & 0o100) !== 0, identity: id });
        }
      }
      io.out(`${treeIdentity(entries)}  ${operand.replace(/\/*$/, '/')}`);
    } else {
      await one(operand, operand);
    }
  }
  return status;
}

/** The differences between two trees: entries in one only, symlink targets, execute bits, and
 *  each common file's own differences, under its relative path. */
async function diffTrees(a: string, b: string, options: RunOptions): Promise<Difference[]> {
  const [x, y] = [treeFiles(a), treeFiles(b)];
  const inB = new Map(y.map((e) => [e.rel, e]));
  const inA = new Set(x.map((e) => e.rel));
  const out: Difference[] = [];
  for (const e of x) if (!inB.has(e.rel)) out.push({ path: e.rel, kind: 'only-first' });
  for (const e of y) if (!inA.has(e.rel)) out.push({ path: e.rel, kind: 'only-second' });
  for (const e of x) {
    const f = inB.get(e.rel);
    if (!f) continue;
    const [p, q] = [path.join(a, e.rel), path.join(b, e.rel)];
    if (e.symlink !== f.symlink) out.push({ path: e.rel, kind: 'type', first: e.symlink ? 'symlink' : 'file', second: f.symlink ? 'symlink' : 'file' });
    else if (e.symlink) {
      const [s, t] = [fs.readlinkSync(p), fs.readlinkSync(q)];
      if (s !== t) out.push({ path: e.rel, kind: 'link', first: s, second: t });
    } else {
      const [m, n] = [fs.statSync(p).mode & 0o100 ? 'x' : '-', fs.statSync(q).mode & 0o100 ? 'x' : '-'];
      if (m !== n) out.push({ path: e.rel, kind: 'mode', first: m, second: n });
      out.push(...(await diffFiles(p, q, options, e.rel)));
    }
  }
  return out;
}

/** Two files' differences; `at` is the first one's name as differences show it. */
export async function diffFiles(a: string, b: string, options: RunOptions, at: string): Promise<Difference[]> {
  const [x, y] = await Promise.all([load(a, options), load(b, options)]);
  return diffNodes(x, y, at);
}

/** diff A B: prints the differences (or JSON); 0 identical, 1 different, 2 errors. */
export async function runDiff(operands: readonly string[], options: RunOptions, json: boolean, io: Lines, cmd: string): Promise<number> {
  if (operands.length !== 2) {
    io.err(`Usage: ${cmd} diff [options] A B   (two files or two directories)`);
    return 2;
  }
  const [a, b] = operands;
  let differences: Difference[];
  try {
    for (const p of operands) if (!fs.existsSync(p)) throw new FormatError(`${p}: Does not exist`);
    const trees = fs.statSync(a).isDirectory();
    if (trees !== fs.statSync(b).isDirectory()) throw new FormatError('compare two files or two directories');
    differences = trees ? await diffTrees(a, b, options) : await diffFiles(a, b, options, path.basename(a));
  } catch (e) {
    io.err(`${cmd}: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  if (json) io.out(JSON.stringify({ identical: differences.length === 0, differences }, null, 2));
  else if (differences.length === 0) io.out('identical after normalization');
  else for (const d of differences) io.out(describeDifference(d));
  return differences.length === 0 ? 0 : 1;
}
