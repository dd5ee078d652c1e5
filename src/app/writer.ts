/**
 * The only code that writes the user's files.
 *
 * A normalized file is written to a temporary file beside the target (same directory, so
 * the rename cannot cross file systems), given the target's mode, owner and times, fsynced,
 * then renamed over the target; the directory is fsynced once per batch (syncRenames). If
 * anything fails, the temporary file is removed and the target is untouched.
 *
 * Hard links: renaming would detach this name from its other links, so for a file with
 * more than one link the fsynced temporary file is copied back into the original inode
 * (every name then sees the new bytes), after which it is removed. The temporary file is
 * only removed once the copy has been fsynced, so a crash leaves the full new content on disk.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { copyInChunks, type Sink, type Source } from '../kit/io.js';

const BUFFER_SIZE = 1 << 18;

/** A sink writing to a temporary file that is created on the first write. */
export class TempFileSink implements Sink {
  private fd: number | undefined;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  tempPath: string | undefined;

  /** `stat` is the target's stat taken before reading it: its mode, owner and times are kept. */
  constructor(
    private readonly target: string,
    private readonly stat?: fs.Stats,
  ) {}

  private open(): number {
    if (this.fd === undefined) {
      const dir = path.dirname(this.target);
      const base = path.basename(this.target);
      for (;;) {
        const candidate = path.join(dir, `.${base}.${randomBytes(6).toString('hex')}.snd-tmp`);
        try {
          this.fd = fs.openSync(candidate, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
          this.tempPath = candidate;
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'EEXIST') throw new Error(`cannot create a temporary file in ${dir} (${code}): the file is left as it was`);
        }
      }
    }
    return this.fd;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.open();
    this.buffered.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.bufferedBytes += bytes.length;
    if (this.bufferedBytes >= BUFFER_SIZE) this.flush();
  }

  copyFrom(src: Source, offset: number, length: number): Promise<void> {
    return copyInChunks(this, src, offset, length);
  }

  private flush(): void {
    if (this.fd === undefined || this.bufferedBytes === 0) return;
    const data = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    let off = 0;
    while (off < data.length) off += fs.writeSync(this.fd, data, off, data.length - off);
    this.buffered = [];
    this.bufferedBytes = 0;
  }

  /** Finish the temporary file and put it in place of the target. The fsync runs on libuv's
   *  thread pool, so other files can be worked on meanwhile. */
  async commit(): Promise<void> {
    const fd = this.open(); // an empty output still replaces the target
    const st = this.stat ?? fs.statSync(this.target);
    try {
      this.flush();
      try {
        fs.fchownSync(fd, st.uid, st.gid);
      } catch (e) {
        // Only root (or the owner, for the group) may chown; keeping ours is the best we can do.
        if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      }
      // After chown, which clears set-uid/set-gid bits.
      fs.fchmodSync(fd, st.mode & 0o7777);
      await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
    } finally {
      fs.closeSync(fd);
      this.fd = undefined;
    }
    const temp = this.tempPath!;
    if (st.nlink > 1) {
      copyIntoInode(temp, this.target);
      fs.utimesSync(this.target, st.atime, st.mtime);
      fs.unlinkSync(temp);
    } else {
      // On the thread pool too: a rename can wait for the journal behind other files' fsyncs.
      await fs.promises.utimes(temp, st.atime, st.mtime);
      await fs.promises.rename(temp, this.target);
      renamedIn.add(path.dirname(this.target));
    }
    this.tempPath = undefined;
  }

  /** Remove the temporary file, if one was made. Safe to call more than once. */
  abort(): void {
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
      this.tempPath = undefined;
    }
  }
}

/** Overwrite `target`'s contents in place (keeping its inode) with the file at `from`. */
function copyIntoInode(from: string, target: string): void {
  const input = fs.openSync(from, 'r');
  const output = fs.openSync(target, 'r+');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    for (;;) {
      const n = fs.readSync(input, buf, 0, buf.length, pos);
      if (n === 0) break;
      let off = 0;
      while (off < n) off += fs.writeSync(output, buf, off, n - off, pos + off);
      pos += n;
    }
    fs.ftruncateSync(output, pos);
    fs.fsyncSync(output);
  } finally {
    fs.closeSync(input);
    fs.closeSync(output);
  }
}

/** Directories where a rename happened since the last syncRenames(). */
const renamedIn = new Set<string>();

/**
 * Make the renames durable: fsync each directory that had one, once. Callers run it after a
 * file or a batch of files (a crash before it can lose a rename, never a file's content: the
 * temporary file was fsynced before the rename).
 */
export function syncRenames(): void {
  for (const dir of renamedIn) syncDirectory(dir);
  renamedIn.clear();
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename itself has happened.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
