/**
 * Turning command-line operands into the list of files to process.
 *
 * - A directory is walked recursively, in byte order of names, so output order never depends on
 *   readdir order. Symlinks inside a tree are never followed or rewritten.
 * - A file given directly is processed even through a symlink (as the Perl tool does).
 * - Each inode is processed once: later names of a hard-linked file are reported as links to the
 *   first (the rewrite happens in place, so every name gets the new bytes).
 * - `--exclude GLOB` (repeatable): a pattern without `/` is matched against names, one with `/`
 *   against the path relative to the directory operand (and the full path); an excluded directory
 *   is not entered.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

// picomatch is loaded only when --exclude is used (it costs ~10 ms at every start otherwise).
const requireLazy = createRequire(import.meta.url);

export interface Target {
  path: string;
  /** Set when this name is a hard link to a file listed earlier. */
  linkOf?: string;
  /** Missing, or a directory given where a file was expected, etc. */
  problem?: 'missing';
}

export type Excluder = (fullPath: string, relative: string) => boolean;

export function makeExcluder(globs: readonly string[]): Excluder {
  if (globs.length === 0) return () => false;
  const picomatch = requireLazy('picomatch') as typeof import('picomatch');
  const matchers = globs.map((g) => {
    const m = picomatch(g, { dot: true });
    return g.includes('/') ? (full: string, rel: string) => m(rel) || m(full) : (full: string) => m(path.basename(full));
  });
  return (full, rel) => matchers.some((m) => m(full, rel));
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Every regular file below `dir`, in byte order of paths, not following symlinks. */
export function listFiles(dir: string, exclude: Excluder = () => false, root = dir, out: string[] = []): string[] {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => byteOrder(a.name, b.name));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (exclude(p, path.relative(root, p))) continue;
    if (e.isDirectory()) listFiles(p, exclude, root, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Expand operands into targets; `isTree` is true if any operand was a directory. */
export function collectTargets(operands: readonly string[], exclude: Excluder): { targets: Target[]; isTree: boolean } {
  const targets: Target[] = [];
  const seen = new Map<string, string>();
  let isTree = false;
  const add = (p: string, st: fs.Stats) => {
    const key = `${st.dev}:${st.ino}`;
    const first = seen.get(key);
    if (first !== undefined) targets.push({ path: p, linkOf: first });
    else {
      seen.set(key, p);
      targets.push({ path: p });
    }
  };
  for (const op of operands) {
    let st: fs.Stats;
    try {
      st = fs.statSync(op);
    } catch {
      targets.push({ path: op, problem: 'missing' });
      continue;
    }
    if (st.isDirectory()) {
      isTree = true;
      for (const f of listFiles(op, exclude)) add(f, fs.lstatSync(f));
    } else if (exclude(op, path.basename(op))) {
      continue;
    } else {
      add(op, st);
    }
  }
  return { targets, isTree };
}
