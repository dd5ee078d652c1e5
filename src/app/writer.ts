/**
 * The only code that writes the user's files.
 *
 * A normalized file is written to a temporary file beside the target (same directory, so the
 * rename cannot cross file systems; named `.NAME.<12 hex>.snd-tmp`, which later runs recognize
 * and remove if a crash left one), given the target's owner, mode and times, fsynced, then
 * renamed over the target; the directory is fsynced once per batch (syncRenames). If anything
 * fails, the temporary file is removed and the target is untouched; when a signal ends the run,
 * the command removes every temporary file still there before it dies (removeTemporaryFiles).
 *
 * Hard links: the new bytes are a new inode, and every name of the file that was found (the
 * walk's names of that inode, or the operands naming it) is moved to it by a link to a
 * temporary name and a rename over the name. A rename is atomic, so at every instant each name
 * holds its complete old or complete new bytes; a crash in between leaves some names old and
 * some new, each whole, and the next run finishes the job. Names of the inode that were not
 * found (outside the tree) keep the old inode and bytes, with a warning, as the Perl tool does.
 *
 * Never written: a name that is no longer the inode that was read (replaced, or swapped for a
 * symlink, since), and a directory that resolves elsewhere than when the file was opened. The
 * owner and group are kept or the file is not replaced (an error says so). The times are kept to
 * the microsecond (what Node's utimes carries), rounded up, so they never move backwards.
 */
import * as fs from 'node:fs';
import { randomHex12 } from '../kit/builtins.js';
import { copyInChunks, StagedOutput, type Sink, type Source } from '../kit/io.js';
import { clonedPath, displayPath, joinPath, splitPath, tempPathBeside, type FsPath } from './paths.js';

/** Output is written in pieces of this size, through a reused staging buffer (StagedOutput). */
const STAGE_SIZE = 1 << 18;

function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
}

/** Seconds that Node's utimes turns into the first microsecond not before `ns`: libuv keeps
 *  whole microseconds, truncating, so the value is nudged up until it lands there. */
export function secondsNotBefore(ns: bigint): number {
  const wantUs = (ns + 999n) / 1000n;
  let d = Number(wantUs) / 1e6;
  const landsUs = (x: number) => {
    const sec = Math.trunc(x);
    const nsec = Math.trunc((x - sec) * 1e9);
    return BigInt(sec) * 1_000_000n + BigInt(Math.trunc(nsec / 1000));
  };
  for (let i = 0; i < 64 && landsUs(d) < wantUs; i++) d = nextUp(d);
  return d;
}

function nextUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}

const sameInode = (a: fs.BigIntStats, b: fs.BigIntStats) => a.dev === b.dev && a.ino === b.ino;

function lstatOrUndefined(p: FsPath): fs.BigIntStats | undefined {
  try {
    return fs.lstatSync(p, { bigint: true });
  } catch {
    return undefined;
  }
}

/**
 * Temporary files that exist right now: this thread's, and those its workers report on their
 * channels. What an interrupted run removes before it dies (removeTemporaryFiles), so a build
 * killed mid-write ships no hidden `.snd-tmp` file. Keyed by the path's bytes.
 */
const liveTemps = new Map<string, FsPath>();
const tempKey = (p: FsPath) => (typeof p === 'string' ? `s${p}` : `b${p.toString('latin1')}`);

/** A worker's report channel: comings and goings of its temporary files, and a shared
 *  [stop, creating] pair through which the main thread stops new ones and waits for one being
 *  made, so that none escapes the drain. */
export interface TemporaryFileChannel {
  port: import('node:worker_threads').MessagePort;
  state: Int32Array;
}
const STOP = 0;
const CREATING = 1;
/** In a worker: where its temporary files are reported. */
let reportTo: TemporaryFileChannel | undefined;
/** In the main thread: how to drain each worker's channel synchronously. */
const watched = new Map<Int32Array, () => unknown>();

function trackTemporaryFile(path: FsPath, live: boolean): void {
  if (live) liveTemps.set(tempKey(path), path);
  else liveTemps.delete(tempKey(path));
  reportTo?.port.postMessage({ path, live });
}

/** Make a temporary file with `create` (false: it was not made) unless the run is being
 *  stopped, and track it. */
function createTemporary(path: FsPath, create: () => boolean | void): void {
  const state = reportTo?.state;
  if (state) {
    Atomics.add(state, CREATING, 1);
    if (Atomics.load(state, STOP)) {
      Atomics.sub(state, CREATING, 1);
      throw new Error('the run is being stopped: the file is left as it was');
    }
  }
  try {
    if (create() !== false) trackTemporaryFile(path, true);
  } finally {
    if (state) Atomics.sub(state, CREATING, 1);
  }
}

/** In a worker: report temporary files on `channel`. */
export function reportTemporaryFiles(channel: TemporaryFileChannel): void {
  reportTo = channel;
}

/** In the main thread: follow a worker's temporary files (`receive` takes one report off its
 *  port synchronously). Returns the function that stops following, once the worker is done. */
export function watchTemporaryFiles(port: TemporaryFileChannel['port'], state: Int32Array, receive: () => unknown): () => void {
  const take = (m: { path: FsPath | Uint8Array; live: boolean }) => trackTemporaryFile(clonedPath(m.path), m.live);
  port.on('message', take);
  port.unref();
  watched.set(state, () => {
    for (let m = receive(); m !== undefined; m = receive()) take(m as Parameters<typeof take>[0]);
  });
  return () => {
    watched.get(state)?.();
    watched.delete(state);
    port.close();
  };
}

/** Remove every temporary file still there (a signal ends the run): workers are stopped from
 *  making more, the one being made is waited for (a second at most), their reports are drained,
 *  then everything is unlinked. Synchronous: it runs in a signal handler before the process dies. */
export function removeTemporaryFiles(): void {
  for (const state of watched.keys()) Atomics.store(state, STOP, 1);
  for (const [state, drain] of watched) {
    const until = Date.now() + 1000;
    while (Atomics.load(state, CREATING) > 0 && Date.now() < until) Atomics.wait(state, CREATING, Atomics.load(state, CREATING), 1);
    drain();
  }
  for (const p of liveTemps.values()) {
    try {
      fs.unlinkSync(p);
    } catch {
      /* already renamed or removed */
    }
  }
  liveTemps.clear();
}

/** For the commands: on SIGINT, SIGTERM or SIGHUP, remove the temporary files, then die of the
 *  signal as before (the exit status a shell or make expects). */
export function removeTemporaryFilesOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      removeTemporaryFiles();
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/** A sink writing to a temporary file that is created on the first write. */
export class TempFileSink implements Sink {
  readonly copiesWrites = true;
  private fd: number | undefined;
  /** Output not yet written. */
  private readonly out = new StagedOutput(STAGE_SIZE, (data) => writeAll(this.fd!, data));
  tempPath: FsPath | undefined;
  /** Where the first name's directory resolved when the output began. */
  private dirAtOpen: Buffer | undefined;

  /**
   * `names`: the file's names to replace, first the one read; `stat`: the inode read (its owner,
   * mode and times are kept, and each name must still be it at commit); `warn`: for names left.
   */
  constructor(
    private readonly names: readonly FsPath[],
    private readonly stat: fs.BigIntStats,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  private get target(): FsPath {
    return this.names[0];
  }

  private open(): number {
    if (this.fd !== undefined) return this.fd;
    // Taken when the output begins, not for every file read: most files do not change.
    this.dirAtOpen = fs.realpathSync.native(splitPath(this.target).dir, 'buffer');
    for (;;) {
      const candidate = tempPathBeside(this.target, randomHex12());
      let fd: number | undefined;
      createTemporary(candidate, () => {
        try {
          fd = fs.openSync(candidate, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'EEXIST') throw new Error(`cannot create a temporary file in ${displayPath(splitPath(this.target).dir)} (${code}): the file is left as it was`);
          return false;
        }
      });
      if (fd === undefined) continue; // the name was taken: another
      this.tempPath = candidate;
      this.fd = fd;
      return fd;
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.open();
    this.out.write(bytes);
  }

  /** A range of a source that can read into a buffer streams through the staging buffer:
   *  copying a large member allocates nothing. */
  async copyFrom(src: Source, offset: number, length: number): Promise<void> {
    this.open();
    if (!this.out.copyFrom(src, offset, length)) return copyInChunks(this, src, offset, length);
  }

  /** The temporary file, complete: owner, mode, times, fsynced (on libuv's pool, so other
   *  files are worked on meanwhile). */
  private async finishTemp(fd: number): Promise<void> {
    const st = this.stat;
    this.out.flush();
    this.out.release();
    try {
      fs.fchownSync(fd, Number(st.uid), Number(st.gid));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(`cannot keep its owner ${st.uid}:${st.gid} (${code}): the file is left as it was`);
    }
    // After chown, which clears set-uid/set-gid bits.
    fs.fchmodSync(fd, Number(st.mode) & 0o7777);
    fs.futimesSync(fd, secondsNotBefore(st.atimeNs), secondsNotBefore(st.mtimeNs));
    await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
  }

  /** Move `name` to the new inode, if it is still the inode read; false if it is not. */
  private async moveName(name: FsPath, from: FsPath): Promise<boolean> {
    const now = lstatOrUndefined(name);
    if (!now || !sameInode(now, this.stat)) return false;
    await fs.promises.rename(from, name);
    const dir = splitPath(name).dir;
    renamedIn.set(typeof dir === 'string' ? dir : dir.toString('latin1'), dir);
    return true;
  }

  /** Finish the temporary file and put it in place of every name. */
  async commit(): Promise<void> {
    const fd = this.open(); // an empty output still replaces the target
    try {
      await this.finishTemp(fd);
    } finally {
      fs.closeSync(fd);
      this.fd = undefined;
    }
    if (!fs.realpathSync.native(splitPath(this.target).dir, 'buffer').equals(this.dirAtOpen!)) {
      throw new Error(`its directory now resolves elsewhere than when it was read (a symlink swapped in?): the file is left as it was`);
    }
    const temp = this.tempPath!;
    const first = lstatOrUndefined(this.target);
    if (!first || !sameInode(first, this.stat)) throw new Error('replaced by another file while it was normalized: left as it was');
    for (const name of this.names.slice(1)) {
      const link = tempPathBeside(name, randomHex12());
      createTemporary(link, () => fs.linkSync(temp, link));
      if (!(await this.moveName(name, link))) {
        fs.unlinkSync(link);
        this.warn(`${displayPath(name)}: no longer a name of this file; left as it is`);
      }
      trackTemporaryFile(link, false);
    }
    if (!(await this.moveName(this.target, temp))) throw new Error('replaced by another file while it was normalized: left as it was');
    trackTemporaryFile(temp, false);
    this.tempPath = undefined;
    const outside = Number(this.stat.nlink) - this.names.length;
    if (outside > 0) {
      this.warn(`${displayPath(this.target)}: ${outside} other hard link${outside > 1 ? 's' : ''} to it, not among the files given, keep${outside > 1 ? '' : 's'} the old bytes`);
    }
  }

  /** Remove the temporary file, if one was made. Safe to call more than once. */
  abort(): void {
    this.out.release();
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = undefined;
    }
    if (this.tempPath !== undefined) {
      try {
        fs.unlinkSync(this.tempPath);
      } catch {
        /* already gone */
      }
      trackTemporaryFile(this.tempPath, false);
      this.tempPath = undefined;
    }
  }
}

/** Directories where a rename happened since the last syncRenames(). */
const renamedIn = new Map<string, FsPath>();

/**
 * Make the renames durable: fsync each directory that had one, once. Callers run it after a
 * file or a batch of files (a crash before it can lose a rename, never a file's content: the
 * temporary file was fsynced before the rename).
 */
export async function syncRenames(): Promise<void> {
  const dirs = [...renamedIn.values()];
  renamedIn.clear();
  // On libuv's pool, several at a time: one directory's fsync does not wait for another's.
  await Promise.all(dirs.map(syncDirectory));
}

async function syncDirectory(dir: FsPath): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename itself has happened.
  } finally {
    await handle?.close();
  }
}

/**
 * Give the regular file `name` beside `target` (same directory) the mtime `seconds`, its atime
 * kept: what a handler asked with setMtimeBeside. A missing file, a symlink (not followed) or
 * anything but a regular file is left alone; a file already at that mtime is not touched.
 */
export function setMtimeBeside(target: FsPath, name: string, seconds: number, warn: (m: string) => void): void {
  const file = joinPath(splitPath(target).dir, Buffer.from(name, 'utf8'));
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ELOOP') warn(`${displayPath(file)}: cannot open to set its mtime (${code})`);
    return;
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    if (!st.isFile() || st.mtimeNs === BigInt(seconds) * 1_000_000_000n) return;
    fs.futimesSync(fd, secondsNotBefore(st.atimeNs), seconds);
  } catch (e) {
    warn(`${displayPath(file)}: cannot set its mtime (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    fs.closeSync(fd);
  }
}
