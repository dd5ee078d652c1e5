/**
 * Turning command-line operands into the list of files to process.
 *
 * - A directory is walked recursively, in byte order of names, so output order never depends on
 *   readdir order. Symlinks inside a tree are never followed or rewritten; each file found is
 *   pinned to the inode the walk saw (the pipeline refuses a file swapped for another since).
 * - Names are bytes: a name that is not valid UTF-8 is processed like any other, and shown with
 *   its bad bytes escaped (`\xNN`) in messages and reports.
 * - A directory that cannot be read is a warning (its target has problem 'unreadable'); the walk
 *   goes on.
 * - A file given directly is processed even through a symlink (as the Perl tool does); if it has
 *   other hard links in its own directory, they get the new bytes too.
 * - Each inode is processed once: later names of a hard-linked file are reported as links to the
 *   first, and handed to the writer with it, so every name found gets the new bytes.
 * - Temporary files a killed run left behind (`.NAME.<12 hex digits>.snd-tmp`, only ever made by
 *   src/app/writer.ts) are removed, in trees and beside operands, and never processed.
 * - `--exclude GLOB` (repeatable): a pattern without `/` is matched against names, one with `/`
 *   against the path relative to the directory operand (and the full path); an excluded directory
 *   is not entered.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { LEFTOVER, displayPath, joinPath, type FsPath } from './paths.js';

// picomatch is loaded only when --exclude is used (it costs ~10 ms at every start otherwise).
const requireLazy = createRequire(import.meta.url);

export interface Target {
  /** The name as shown: UTF-8, with bytes that are not valid UTF-8 escaped. */
  path: string;
  /** The name as the file system has it (a Buffer when it is not valid UTF-8). */
  fsPath: FsPath;
  /** Set when this name is a hard link to a file listed earlier. */
  linkOf?: string;
  /** A missing operand, or a directory of a tree that could not be read. */
  problem?: 'missing' | 'unreadable';
  /** What went wrong, for 'unreadable'. */
  message?: string;
  /** Found in a walked tree: the inode it must still be when opened (`dev:ino`). */
  inode?: string;
  /** Its size when the walk saw it (the largest files are started first). */
  size?: number;
  /** Further names of this inode in the walk, which get the new bytes too. */
  links?: FsPath[];
}

export type Excluder = (fullPath: string, relative: string) => boolean;

/** The excluder of a run without --exclude: the walk does not even work out relative paths. */
export const NO_EXCLUDE: Excluder = () => false;

export function makeExcluder(globs: readonly string[]): Excluder {
  if (globs.length === 0) return NO_EXCLUDE;
  const picomatch = requireLazy('picomatch') as typeof import('picomatch');
  const matchers = globs.map((g) => {
    const m = picomatch(g, { dot: true });
    return g.includes('/') ? (full: string, rel: string) => m(rel) || m(full) : (full: string) => m(path.basename(full));
  });
  return (full, rel) => matchers.some((m) => m(full, rel));
}

const inodeKey = (st: fs.BigIntStats) => `${st.dev}:${st.ino}`;

/** Remove a temporary file a killed run left; true if `name` was one (removed or not). */
function removeLeftover(dir: FsPath, name: Buffer, isFile: boolean): boolean {
  if (!isFile || name.length < 23 || name.toString('latin1', name.length - 8) !== '.snd-tmp' || !LEFTOVER.test(name.toString('latin1'))) return false;
  try {
    fs.unlinkSync(joinPath(dir, name));
  } catch {
    /* gone already, or not ours to remove: it is still not processed */
  }
  return true;
}

interface Found {
  path: FsPath;
  inode: string;
  size: number;
}

/** Every regular file below `dir`, in byte order of names, not following symlinks; unreadable
 *  directories go to `problems`. */
function walk(dir: FsPath, exclude: Excluder, root: string, files: Found[], problems: Target[]): void {
  let entries: fs.Dirent<Buffer>[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (e) {
    const shown = displayPath(dir);
    problems.push({ path: shown, fsPath: dir, problem: 'unreadable', message: `cannot read directory ${shown} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); skipped` });
    return;
  }
  entries.sort((a, b) => Buffer.compare(a.name, b.name));
  for (const e of entries) {
    const p = joinPath(dir, e.name);
    const shown = displayPath(p);
    if (exclude !== NO_EXCLUDE && exclude(shown, path.relative(root, shown))) continue;
    if (removeLeftover(dir, e.name, e.isFile())) continue;
    if (e.isDirectory()) walk(p, exclude, root, files, problems);
    else if (e.isFile()) {
      try {
        const st = fs.lstatSync(p, { bigint: true });
        files.push({ path: p, inode: inodeKey(st), size: Number(st.size) });
      } catch {
        /* vanished since readdir */
      }
    }
  }
}

/** An entry of a tree that is not a directory, by its path relative to the tree. */
export interface TreeEntry {
  readonly rel: string;
  readonly kind: 'file' | 'symlink' | 'other';
}

/** Everything below `dir` but directories (which are walked), symlinks not followed, in byte
 *  order of the relative paths: what --identity, diff and the runner's manifests see of a tree. */
export function treeEntries(dir: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const visit = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) visit(r);
      else out.push({ rel: r, kind: e.isFile() ? 'file' : e.isSymbolicLink() ? 'symlink' : 'other' });
    }
  };
  if (fs.existsSync(dir)) visit('');
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.rel), Buffer.from(b.rel)));
}

/** Every regular file below `dir`, in byte order of paths, not following symlinks. */
export function listFiles(dir: string, exclude: Excluder = NO_EXCLUDE): string[] {
  const files: Found[] = [];
  walk(dir, exclude, dir, files, []);
  return files.map((f) => displayPath(f.path));
}

/** The targets of one tree: each inode once, with its other names as links. */
export function treeTargets(dir: string, exclude: Excluder, seen = new Map<string, Target>()): Target[] {
  const files: Found[] = [];
  const targets: Target[] = [];
  walk(dir, exclude, dir, files, targets);
  for (const f of files) {
    const shown = displayPath(f.path);
    const first = seen.get(f.inode);
    if (first) {
      targets.push({ path: shown, fsPath: f.path, linkOf: first.path });
      (first.links ??= []).push(f.path);
    } else {
      const t: Target = { path: shown, fsPath: f.path, inode: f.inode, size: f.size };
      seen.set(f.inode, t);
      targets.push(t);
    }
  }
  return targets;
}

/** Leftover temporary files of a killed run beside an operand (`.NAME.<hex>.snd-tmp`). `listed`
 *  keeps each directory's names for the run, so many operands in one directory read it once. */
function removeLeftoversBeside(file: string, listed: Map<string, Buffer[]>): void {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let names = listed.get(dir);
  if (!names) {
    try {
      names = fs.readdirSync(dir, { encoding: 'buffer' }).filter((n) => LEFTOVER.test(n.toString('latin1')));
    } catch {
      names = [];
    }
    listed.set(dir, names);
  }
  for (const name of names) {
    if (!name.toString('latin1').startsWith(prefix)) continue;
    try {
      if (fs.lstatSync(joinPath(dir, name)).isFile()) removeLeftover(dir, name, true);
    } catch {
      /* gone */
    }
  }
}

/** Other names of a hard-linked operand's inode in the operand's own directory, which get the
 *  new bytes with it (names elsewhere cannot be found cheaply: the writer warns about them). */
function namesBeside(file: string, st: fs.BigIntStats): FsPath[] | undefined {
  const dir = path.dirname(file);
  const own = path.basename(file);
  const names: FsPath[] = [];
  try {
    for (const name of fs.readdirSync(dir, { encoding: 'buffer' })) {
      if (name.toString('utf8') === own) continue;
      const p = joinPath(dir, name);
      const other = fs.lstatSync(p, { bigint: true });
      if (other.isFile() && other.dev === st.dev && other.ino === st.ino) names.push(p);
    }
  } catch {
    /* an unreadable directory: only the operand itself is replaced */
  }
  return names.length ? names : undefined;
}

/** Expand operands into targets; `isTree` is true if any operand was a directory. */
export function collectTargets(operands: readonly string[], exclude: Excluder): { targets: Target[]; isTree: boolean } {
  const targets: Target[] = [];
  const seen = new Map<string, Target>();
  const listed = new Map<string, Buffer[]>();
  let isTree = false;
  for (const op of operands) {
    let st: fs.BigIntStats;
    try {
      st = fs.statSync(op, { bigint: true });
    } catch {
      targets.push({ path: op, fsPath: op, problem: 'missing' });
      continue;
    }
    if (st.isDirectory()) {
      isTree = true;
      targets.push(...treeTargets(op, exclude, seen));
    } else if (exclude(op, path.basename(op))) {
      continue;
    } else {
      removeLeftoversBeside(op, listed);
      const first = seen.get(inodeKey(st));
      if (first) {
        targets.push({ path: op, fsPath: op, linkOf: first.path });
        if (!first.links?.some((l) => l === op)) (first.links ??= []).push(op);
      } else {
        const t: Target = { path: op, fsPath: op, links: st.nlink > 1n ? namesBeside(op, st) : undefined };
        seen.set(inodeKey(st), t);
        targets.push(t);
      }
    }
  }
  return { targets, isTree };
}
