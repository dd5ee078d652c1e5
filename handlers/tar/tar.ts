/**
 * tar archives, plain or compressed (`*.tar`, `*.tar.gz|tgz`, `*.tar.xz|txz`, `*.tar.bz2|tbz2|tbz`,
 * `*.tar.zst|tzst`). Not in the Perl tool; enabled by default (see docs/formats.md).
 *
 * Detection: the name, then the bytes: a tar header with a valid checksum (ustar, GNU, pax or v7),
 * or a gzip/xz/bzip2/zstd stream whose first decompressed block is one.
 *
 * Output: one canonical GNU-format archive (src/tar.ts), so the same content packed by any tool,
 * in any order, at any time, by any user gives the same bytes:
 * - members sorted by path in byte order (`find | LC_ALL=C sort`: a directory before its
 *   contents); a hard link still follows its target: the first name in the new order carries the
 *   data and the other names link to it;
 * - mtime = T (clamped with --clamp-timestamp), 0 when T is unset; owner root:0 / root:0 (or
 *   --tar-owner / --tar-group); modes, link targets, device numbers kept;
 * - pax: atime, ctime, dev/ino/nlink, creation time and charset records dropped; path, linkpath,
 *   size, uid/gid/uname/gname, mtime folded into the header; the rest (xattrs, ACLs, ...) kept,
 *   sorted by key;
 * - members are normalized with their own handlers (a .gz, .jar, .png, .mo or nested tar) and
 *   sizes and checksums rewritten to match.
 * Compressed input is decompressed to an unlinked scratch file, normalized, and recompressed with
 * fixed settings (src/compress.ts); if the tar itself is unchanged the compressed bytes are kept
 * (a gzip header still gets the gzip normalizer's treatment).
 * Left unchanged, with a warning: archives with sparse, multi-volume or incremental members.
 * An archive without the end-of-archive marker (which GNU tar lists without complaint) ends with
 * its last member; the output gets the marker.
 * Errors: bad header checksum, truncation (a partial header, member data or padding cut short,
 * which GNU tar rejects too), corrupt compression.
 */
import * as zlib from 'node:zlib';
import type { Handler, HandlerContext } from '../../src/kit/handler.js';
import { digestRange, readExactSync, type Sink, type Source } from '../../src/kit/io.js';
import { FormatError } from '../../src/kit/errors.js';
import { ScratchFile, normalizeMemberInto } from '../../src/kit/scratch-file.js';
import { compress, compressionOf, decompress, decompressHead } from '../../src/kit/compression.js';
import { BLOCK, RECORD, formatPax, gnuHeader, looksLikeTar, padding, type PaxRecord } from './header.js';
import { indexTar, type TarEntry } from './index.js';
import { listTar } from './listing.js';

export { indexTar, type TarEntry, type TarIndex } from './index.js';

/** A path without trailing slashes: the sort key (`./` is `.`, `/` is empty). */
const stripSlash = (name: string) => name.replace(/\/+$/, '');

/** Sort by path and resolve hard links: the members in output order, each link group
 *  rewritten so that the first of its names in the new order carries the data. */
export function canonicalOrder(entries: readonly TarEntry[]): TarEntry[] {
  const lastByName = new Map<string, TarEntry>();
  const roots = new Set<TarEntry>();
  for (const e of entries) {
    if (e.type === '1') {
      const target = lastByName.get(stripSlash(e.linkname));
      if (target) {
        e.root = target.root ?? target;
        roots.add(e.root);
      }
    }
    lastByName.set(stripSlash(e.name), e);
  }
  const keyed = entries.map((e, i) => ({ e, i, key: stripSlash(e.name) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i));
  const carrierName = new Map<TarEntry, string>();
  return keyed.map(({ e }) => {
    const root = e.root ?? (roots.has(e) ? e : undefined);
    if (!root) return e;
    const first = carrierName.get(root);
    if (first === undefined) {
      carrierName.set(root, e.name);
      return e === root ? e : { ...root, name: e.name, root: undefined };
    }
    return { ...root, name: e.name, type: '1', linkname: first, size: 0, pax: [], devmajor: 0, devminor: 0, root: undefined };
  });
}

/** A sink that only decides whether the output equals the input, without holding it: each piece
 *  is compared with the input at the same position, until the first difference. */
class Comparer implements Sink {
  pos = 0;
  same = true;
  constructor(private readonly src: Source) {}
  async write(data: Uint8Array): Promise<void> {
    if (this.same && Buffer.compare(this.src.readSync(this.pos, data.length), data) !== 0) this.same = false;
    this.pos += data.length;
  }
  async copyFrom(src: Source, offset: number, length: number): Promise<void> {
    if (src !== this.src || offset !== this.pos) this.same = false;
    this.pos += length;
  }
  get identical(): boolean {
    return this.same && this.pos === this.src.size;
  }
}

const ZEROS = Buffer.alloc(RECORD);

/** A normalized tar, ready to be compared with its input or written. */
export class TarPlan {
  private scratch: ScratchFile | undefined;

  constructor(
    private readonly src: Source,
    private readonly members: TarEntry[],
    private readonly globals: PaxRecord[],
    private readonly ctx: HandlerContext,
  ) {}

  private privateHeader(name: string, type: string, size: number): Buffer {
    return gnuHeader({ name, type, size, mode: 0o644, uid: 0, gid: 0, mtime: 0, linkname: '', uname: 'root', gname: 'root' });
  }

  /** Normalize member bodies with their own handlers (and .deb's hooks). */
  async normalizeMembers(): Promise<void> {
    const hooks = this.ctx.hooks ?? {};
    const digests = new Map<string, string>();
    for (const m of this.members) {
      if (m.type !== '0') continue;
      const replacement = hooks.content?.(m.name, () => readExactSync(this.src, m.dataOffset, m.size, 'tar member'));
      if (replacement) {
        this.scratch ??= ScratchFile.forRun(this.ctx.options);
        m.body = { offset: this.scratch.append(replacement), size: replacement.length };
      } else if (m.size > 0) {
        this.scratch ??= ScratchFile.forRun(this.ctx.options);
        m.body = await normalizeMemberInto(this.scratch, this.ctx, m.name, this.src, m.dataOffset, m.size);
      }
      if (m.body && hooks.changed) digests.set(m.name, (await digestRange(this.scratch!.source(), m.body.offset, m.body.size, 'md5')).toString('hex'));
    }
    // Every name of a changed file gets its new digest, hard links included.
    if (hooks.changed) {
      for (const m of this.members) {
        const digest = digests.get(m.type === '1' ? m.linkname : m.name);
        if (digest) hooks.changed(m.name, digest);
      }
    }
  }

  private async emit(out: Sink): Promise<void> {
    const { options } = this.ctx;
    const T = options.timestamp;
    const owner = options.tarOwner ?? { name: 'root', id: 0 };
    const group = options.tarGroup ?? { name: 'root', id: 0 };
    const bodies = this.scratch?.source();
    let pos = 0; // bytes written, for the final record padding
    const put = async (data: Buffer) => {
      await out.write(data);
      pos += data.length;
    };
    const copy = async (src: Source, offset: number, length: number) => {
      await out.copyFrom(src, offset, length);
      pos += length;
    };
    const extension = async (name: string, type: string, data: Buffer) => {
      await put(this.privateHeader(name, type, data.length));
      await put(data);
      await put(ZEROS.subarray(0, padding(data.length)));
    };
    if (this.globals.length) await extension('pax_global_header', 'g', formatPax(this.globals));
    for (const m of this.members) {
      const size = m.body ? m.body.size : m.size;
      if (m.pax.length) await extension('././@PaxHeader', 'x', formatPax(m.pax));
      if (m.linkname.length > 100) await extension('././@LongLink', 'K', Buffer.from(m.linkname + '\0', 'latin1'));
      if (m.name.length > 100) await extension('././@LongLink', 'L', Buffer.from(m.name + '\0', 'latin1'));
      const mtime = T === undefined ? 0 : options.clamp ? Math.min(m.mtime, T) : T;
      const header = { name: m.name, type: m.type, mode: m.mode, uid: owner.id, gid: group.id, size, mtime, linkname: m.linkname };
      await put(gnuHeader({ ...header, uname: owner.name, gname: group.name, devmajor: m.devmajor, devminor: m.devminor }));
      if (size > 0) {
        if (m.body) await copy(bodies!, m.body.offset, size);
        else await copy(this.src, m.dataOffset, size);
        await put(ZEROS.subarray(0, padding(size)));
      }
    }
    // End of archive: two zero blocks, then zeros up to a whole record (as GNU tar and python).
    await put(ZEROS.subarray(0, 2 * BLOCK));
    await put(ZEROS.subarray(0, (RECORD - (pos % RECORD)) % RECORD));
  }

  /** Does the normalized archive differ from the input? */
  async changed(): Promise<boolean> {
    const cmp = new Comparer(this.src);
    await this.emit(cmp);
    return !cmp.identical;
  }

  write(sink: Sink): Promise<void> {
    return this.emit(sink);
  }

  dispose(): void {
    this.scratch?.close();
  }
}

/** Index, order and normalize a tar; undefined (after a warning) when it cannot be handled. */
export async function planTar(src: Source, ctx: HandlerContext): Promise<TarPlan | undefined> {
  const index = indexTar(src);
  if (index.unsupported) {
    ctx.keep(`${ctx.name}: tar archive with ${index.unsupported} is not supported; left unchanged`);
    return undefined;
  }
  const plan = new TarPlan(src, canonicalOrder(index.entries), index.globals, ctx);
  try {
    await plan.normalizeMembers();
  } catch (e) {
    plan.dispose();
    throw e;
  }
  return plan;
}

/**
 * Normalize a tar or compressed tar from `src` into `sink`. A .deb reaches its control and data
 * tars through the dispatcher, with hooks (ctx.hooks) for its md5sums.
 */
export async function normalizeTar(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
  const kind = compressionOf(src.readSync(0, 8));
  if (!kind) {
    const plan = await planTar(src, ctx);
    if (!plan) return false;
    try {
      if (!(await plan.changed())) return false;
      await plan.write(sink);
      return true;
    } finally {
      plan.dispose();
    }
  }
  const scratch = ScratchFile.forRun(ctx.options);
  let plan: TarPlan | undefined;
  try {
    await decompress(kind, src, scratch);
    const tar = scratch.source();
    if (!looksLikeTar(tar.readSync(0, BLOCK))) throw new FormatError(`not a tar archive inside the ${kind} stream`);
    plan = await planTar(tar, ctx);
    if (!plan) return false;
    // Compared in memory (--identity, diff): the plain normalized tar, changed or not, says it
    // all, at a fraction of the cost of recompressing.
    if (ctx.options.comparing) {
      await plan.write(sink);
      return true;
    }
    // The tar is unchanged: a gzip header still gets the gzip normalizer's treatment.
    if (!(await plan.changed())) return kind === 'gzip' ? (await ctx.member('', src, sink, { as: 'gzip' })).changed : false;
    if (ctx.options.check) return true; // --check: no need to recompress to know
    const p = plan;
    await compress(kind, (input) => p.write(input), sink, ctx.options.compressThreads ?? 1);
    return true;
  } finally {
    plan?.dispose();
    scratch.close();
  }
}

const TAR_NAME = /\.(?:tar|tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2|tbz|tar\.zst|tzst)$/;

export const tar: Handler = {
  name: 'tar',
  defaultEnabled: true,
  files: '*.tar, *.tar.gz, *.tgz, *.tar.xz, *.txz, *.tar.bz2, *.tbz2, *.tar.zst, *.tzst',
  beyondPerl: true,
  matchName: (path) => TAR_NAME.test(path),
  detect: (head) => compressionOf(head) !== undefined || looksLikeTar(head),

  /** A compressed file is a tar if its first decompressed block is a tar header. A stream too
   *  broken to give one block is claimed too, so that normalizing reports the corruption. */
  async refine(src: Source): Promise<boolean> {
    const kind = compressionOf(src.readSync(0, 8));
    if (!kind) return true;
    let head: { data: Buffer; ok: boolean };
    if (kind === 'gzip') {
      // In-process: inflate the start of the stream, tolerating the cut.
      try {
        head = { data: zlib.gunzipSync(src.readSync(0, 1 << 16), { finishFlush: zlib.constants.Z_SYNC_FLUSH }), ok: true };
      } catch {
        head = { data: Buffer.alloc(0), ok: false };
      }
    } else {
      head = await decompressHead(kind, src, BLOCK);
    }
    return head.data.length >= BLOCK ? looksLikeTar(head.data) : !head.ok;
  },

  normalize: (src, sink, ctx) => normalizeTar(src, sink, ctx),
  list: (src, ctx) => listTar(src, ctx),
};
