/**
 * The zip family's shared core, and the `zip` handler (`*.zip`, `*.pk3`, `*.epub`, `*.whl`,
 * `*.xpi`, `*.htb`, `*.zhfst`, `*.par`, `*.codadef`).
 *
 * The Perl tool re-reads and re-writes the archive with Archive::Zip 1.68; this module writes
 * the bytes Archive::Zip writes, without its cost:
 *  - members in sorted order (Perl's `cmp` on names; flavors such as jar supply their own);
 *  - every member's DOS time = T (floored at 1980-01-01 12:01:00 UTC; 2-second steps; UTC);
 *  - Unix modes 0644, or 0755 when owner-exec was set; directories keep their type;
 *  - extra fields normalized (src/zip.ts normalizeExtraField), local and central;
 *  - unchanged member data copied raw, never recompressed; members whose content a flavor
 *    changes are recompressed with zlib level 6, memLevel 9 (pako, byte-identical to the
 *    zlib behind Perl's Compress::Raw::Zlib);
 *  - headers rebuilt the way Archive::Zip rebuilds them (directory and rewritten members take
 *    their fields from the local header, empty members become stored, data descriptors kept).
 * Deliberate fixes (docs/compat.md): symlink entries stay symlinks; a first, stored `mimetype`
 * member stays first; an archive with an APK Signing Block is left alone with a warning.
 * Skipped with a warning, as in Perl: encrypted members. Memory stays flat in member size:
 * data is streamed from the source to the sink.
 * Beyond Perl, only with build paths or host names (--build-path, --hostname): HTML and ELF
 * members up to 256 MiB get them replaced (handlers/html.ts, handlers/elf.ts) and are recompressed.
 * Beyond Perl, with the xml normalizer on (default in the CLI, off in dh_strip_nondeterminism):
 * an EPUB's `*.opf` package document gets dcterms:modified = T (docs/compat.md).
 */
import { inflateRawSync } from 'node:zlib';
import { extensionMatcher, normalizeMemberOrKeep, type Handler, type HandlerContext } from '../../src/kit/handler.js';
import { BufferSink, BufferSource, CompareSink, forEachChunk, type Sink, type Source } from '../../src/kit/io.js';
import { scrubText, scrubs } from '../../src/kit/build-paths-and-hostnames.js';
import { isElf } from '../elf/reader.js';
import { html, looksLikeHtml } from '../documents/html.js';
import { normalizeElf } from '../elf/elf.js';
import { normalizeXml } from '../documents/xml.js';
import { ByteWriter, crc32 } from '../../src/kit/binary.js';
import { FormatError } from '../../src/kit/errors.js';
import {
  DEFLATED, FA_UNIX, FLAG_DATA_DESCRIPTOR, FLAG_ENCRYPTED, FLAG_UTF8, SAFE_EPOCH, SIG_CENTRAL, SIG_DATA_DESCRIPTOR,
  SIG_EOCD, SIG_LOCAL, SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR, STORED,
  dosTime, normalizeExtraField, perlName, perlNameBytes, perlSortKey, readDataDescriptor, readLocalHeader, readZip, zipKind,
  type CentralEntry, type LocalHeader, type ZipArchive,
} from './records.js';

/** Members up to this size are read in one piece; larger ones are streamed. */
const SMALL_MEMBER = 1 << 20;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/** One archive member on its way out, in Archive::Zip's terms. */
export interface ZipMember {
  readonly entry: CentralEntry;
  /** The name as Archive::Zip holds it (decoded when UTF-8 flagged). */
  name: string;
  /** A string whose JavaScript order is Perl's `cmp` order of `name` (see perlSortKey). */
  sortKey: string;
  /** 'file': data copied as is; 'dir': a directory member (fields from its local header);
   *  'string': content replaced by a flavor (fields from its local header, recompressed). */
  kind: 'file' | 'dir' | 'string';
  local?: LocalHeader;
  /** Archive::Zip has read the local header (affects the mode of entries with mode 0). */
  localLoaded: boolean;
  content?: Buffer;
  /** Output fields. */
  lastMod: number;
  externalAttrs: number;
}

/** Access to member contents for flavors (jar reads MANIFEST.MF, javadoc pages, nested jars). */
export interface MemberIO {
  /** The member's uncompressed content. */
  contents(m: ZipMember): Promise<Buffer>;
  /** Replace the member's content (Archive::Zip's `contents($new)`). */
  replace(m: ZipMember, data: Buffer): Promise<void>;
}

export interface ZipFlavor {
  /** A reason to leave the archive alone (Perl's archive_filter), or undefined. */
  archiveFilter?(members: ZipMember[], ctx: HandlerContext): string | undefined;
  /** Member order; Perl's `cmp` on names by default. */
  compare?(a: ZipMember, b: ZipMember): number;
  /** false drops the member (Perl's filename_filter). */
  keep?(name: string): boolean;
  /** Normalize one member; returns the timestamp it gets (Perl's member_normalizer). A plain
   *  number when no content had to be read. */
  member?(m: ZipMember, time: number, io: MemberIO, ctx: HandlerContext): number | Promise<number>;
}

export type ZipOutcome = 'written' | 'skipped';

/** Perl's `cmp` on member names. */
export const compareNames = (a: ZipMember, b: ZipMember): number => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0);

const squeezeSlashes = (s: string) => s.replace(/[\\/]+/g, '/');

/** Archive::Zip's isDirectory for an entry read from a zip file. */
const isDirectoryEntry = (name: string, e: CentralEntry) => name.endsWith('/') && e.uncompressedSize === 0;

/** Compressed data region of an entry, as Archive::Zip reads it. */
function dataLength(m: ZipMember): number {
  return m.entry.method === STORED ? m.entry.uncompressedSize : m.entry.compressedSize;
}

function loadLocal(src: Source, zip: ZipArchive, m: ZipMember): LocalHeader {
  if (!m.local) {
    m.local = readLocalHeader(src, zip, m.entry);
    // A data descriptor after the data (per the local flags) overrides crc and sizes.
    if (m.local.bitFlag & FLAG_DATA_DESCRIPTOR) {
      const dd = readDataDescriptor(src, m.local.dataOffset + m.entry.compressedSize, zip.zip64, m.entry.crc32);
      if (dd.crc32 !== m.entry.crc32 || dd.uncompressedSize !== m.entry.uncompressedSize) {
        throw new FormatError(`CRC or size mismatch in the data descriptor of ${m.name}`);
      }
      m.entry.compressedSize = dd.compressedSize;
    }
  }
  m.localLoaded = true;
  return m.local;
}

/** Archive::Zip's unixFileAttributes getter for FA_UNIX members. */
function unixMode(m: ZipMember): number {
  const mode = m.externalAttrs >>> 16;
  const localExtra = m.localLoaded && m.local ? m.local.extra.length > 0 : false;
  if (mode !== 0 || !localExtra) return mode;
  // No mode stored but a local extra field: Archive::Zip falls back to the DOS attributes.
  const attribs = ((m.externalAttrs & 1 ? 0 : 1) << 1) | ((m.externalAttrs & 0x10) >> 4);
  return 0o444 | (attribs << 6) | (attribs << 3) | attribs;
}

function normalizedAttrs(m: ZipMember): number {
  const old = unixMode(m);
  if ((old & S_IFMT) === S_IFLNK) return (S_IFLNK | 0o777) * 0x10000; // fix: symlinks stay symlinks
  let perms = old & 0o100 ? 0o755 : 0o644;
  const dir = m.kind === 'dir' || isDirectoryEntry(m.name, m.entry);
  perms = dir ? (perms & ~S_IFREG) | S_IFDIR : (perms & ~S_IFDIR) | S_IFREG;
  return perms * 0x10000 + (perms & S_IFDIR ? 16 : 0);
}

/** An APK Signature Scheme v2+ block sits right before the central directory. */
function hasApkSigningBlock(src: Source, zip: ZipArchive): boolean {
  if (zip.centralStart < 16) return false;
  return src.readSync(zip.centralStart - 16, 16).toString('latin1') === 'APK Sig Block 42';
}


/**
 * Normalize a zip archive from `src` into `sink` the way Perl's zip handler (with `flavor`)
 * does. Returns 'skipped' where Perl returns 0 (nothing written), 'written' otherwise.
 */
export async function normalizeZip(src: Source, sink: Sink, ctx: HandlerContext, flavor: ZipFlavor = {}): Promise<ZipOutcome> {
  const zip = readZip(src);
  if (hasApkSigningBlock(src, zip)) {
    ctx.warn(`${ctx.name}: has an APK Signing Block (APK signature scheme v2 or later); left unchanged, as rewriting would invalidate the signature`);
    return 'skipped';
  }
  let members: ZipMember[] = [];
  for (const entry of zip.entries) {
    const name = perlName(entry.name, entry.bitFlag);
    const m: ZipMember = { entry, name, sortKey: perlSortKey(name), kind: 'file', localLoaded: false, lastMod: entry.lastMod, externalAttrs: entry.externalAttrs };
    if (isDirectoryEntry(m.name, entry)) {
      // Archive::Zip turns directories into DirectoryMembers while reading, taking the
      // version, flags, method and name from the local header, which must agree on crc/size.
      const local = loadLocal(src, zip, m);
      if (!(local.bitFlag & FLAG_DATA_DESCRIPTOR) && (local.crc32 !== entry.crc32 || local.uncompressedSize !== entry.uncompressedSize)) {
        throw new FormatError(`Reading ZIP archive failed: CRC or size mismatch after reading data descriptor (${m.name})`);
      }
      m.kind = 'dir';
      const localName = squeezeSlashes(local.name.toString('latin1'));
      m.name = local.bitFlag & FLAG_UTF8 ? perlName(Buffer.from(localName, 'latin1'), FLAG_UTF8) : localName;
      m.sortKey = perlSortKey(m.name);
    }
    members.push(m);
  }
  // Names beyond the BMP need UTF-8 keys; then every member uses them, so keys compare alike.
  if (members.some((m) => m.sortKey !== m.name)) for (const m of members) m.sortKey = Buffer.from(m.name, 'utf8').toString('latin1');
  const veto = flavor.archiveFilter?.(members, ctx);
  if (veto) {
    ctx.warn(veto);
    return 'skipped';
  }
  if (members.some((m) => m.entry.bitFlag & FLAG_ENCRYPTED)) {
    ctx.warn(`strip-nondeterminism: ${ctx.name}: ignoring encrypted zip file`);
    return 'skipped';
  }

  // Order: fix: a first, stored `mimetype` (EPUB, ODF) stays first; the rest sorted.
  const compare = flavor.compare ?? compareNames;
  const first = members[0];
  const pinned = first && first.name === 'mimetype' && first.entry.method === STORED ? first : undefined;
  members = [...(pinned ? [pinned] : []), ...members.filter((m) => m !== pinned).sort(compare)];
  if (flavor.keep) {
    for (const m of members.filter((m) => !flavor.keep!(m.name))) ctx.warn(`Removing ${m.name} from ${ctx.name}`);
    members = members.filter((m) => flavor.keep!(m.name));
  }

  const T = ctx.options.timestamp;
  const time = T === undefined || T < SAFE_EPOCH ? SAFE_EPOCH : T;
  const io: MemberIO = {
    contents: (m) => memberContents(src, zip, m),
    replace: (m, data) => replaceContents(src, zip, m, data),
  };
  for (const m of members) {
    let stamp: number | Promise<number> = flavor.member ? flavor.member(m, time, io, ctx) : time;
    if (typeof stamp !== 'number') stamp = await stamp;
    m.lastMod = dosTime(stamp);
    if (m.entry.fileAttributeFormat === FA_UNIX) m.externalAttrs = normalizedAttrs(m);
    if (m.kind !== 'dir' && ctx.options.enabled.has('xml') && /\.opf$/i.test(m.name)) await opfMember(m, io, ctx);
    if (scrubs(ctx.options) && m.kind !== 'dir') await scrubMember(m, io, ctx);
  }

  const warned = new Set<string>();
  const extra = (field: Buffer) =>
    field.length === 0
      ? field
      : normalizeExtraField(field, time, T, (msg) => {
          if (!warned.has(msg)) ctx.warn(`strip-nondeterminism: ${ctx.name}: ${msg}`);
          warned.add(msg);
        }) ?? Buffer.alloc(0);

  // Local headers in file order (sequential reads), before the sorted writing pass.
  for (const m of [...members].sort((a, b) => a.entry.localHeaderOffset - b.entry.localHeaderOffset)) loadLocal(src, zip, m);

  const out = new ByteWriter(); // members, handed to the sink in blocks of about 1 MiB
  const cd = new ByteWriter(); // the central directory, written at the end
  let copied = 0; // bytes streamed straight from the source (large members)
  const drain = async () => {
    for (const chunk of out.take()) await sink.write(chunk);
  };
  let membersZip64 = false;
  for (const m of members) {
    const local = m.local!;
    const e = m.entry;
    let versionNeeded: number;
    let bitFlag: number;
    let nameBytes: Buffer;
    let usize: number;
    let crc: number;
    let data: { kind: 'copy'; offset: number; length: number } | { kind: 'bytes'; bytes: Buffer };
    let method: number;
    if (m.kind === 'file') {
      versionNeeded = e.versionNeeded;
      bitFlag = e.bitFlag;
      nameBytes = bitFlag & FLAG_UTF8 ? perlNameBytes(m.name, bitFlag) : e.name;
      usize = e.uncompressedSize;
      if (usize === 0) {
        if (e.method !== STORED && e.method !== DEFLATED) {
          ctx.warn(`strip-nondeterminism: ${ctx.name}: unsupported compression method ${e.method} for an empty member; left unchanged`);
          return 'skipped';
        }
        method = STORED;
        crc = e.method === STORED ? 0 : e.crc32;
        data = { kind: 'bytes', bytes: EMPTY };
      } else {
        method = e.method;
        const length = dataLength(m);
        if (local.dataOffset + length > src.size) throw new FormatError(`member ${m.name}: data runs past the end of the archive`);
        if (length <= SMALL_MEMBER) {
          // Small members are read once: Archive::Zip recomputes a stored member's CRC.
          const bytes = src.readSync(local.dataOffset, length);
          crc = method === STORED ? crc32(bytes) : e.crc32;
          data = { kind: 'bytes', bytes };
        } else {
          crc = method === STORED ? await crcOfRange(src, local.dataOffset, length) : e.crc32;
          data = { kind: 'copy', offset: local.dataOffset, length };
        }
      }
    } else {
      versionNeeded = local.versionNeeded;
      bitFlag = local.bitFlag;
      const localName = squeezeSlashes(local.name.toString('latin1'));
      nameBytes = m.kind === 'dir' ? perlNameBytes(m.name, bitFlag) : bitFlag & FLAG_UTF8 ? Buffer.from(localName, 'utf8') : Buffer.from(localName, 'latin1');
      if (m.kind === 'dir') {
        usize = 0;
        method = STORED;
        crc = local.method === STORED ? 0 : e.crc32;
        data = { kind: 'bytes', bytes: EMPTY };
      } else {
        const content = m.content!;
        usize = content.length;
        crc = crc32(content);
        method = usize === 0 ? STORED : e.method;
        if (method === DEFLATED) data = { kind: 'bytes', bytes: await deflateLikePerl(content) };
        else if (method === STORED) data = { kind: 'bytes', bytes: content };
        else {
          ctx.warn(`strip-nondeterminism: ${ctx.name}: cannot recompress ${m.name} with method ${method}; left unchanged`);
          return 'skipped';
        }
      }
    }
    if (usize === 0) bitFlag &= ~FLAG_DATA_DESCRIPTOR;
    const csize = data.kind === 'copy' ? data.length : data.bytes.length;
    const hasDD = (bitFlag & FLAG_DATA_DESCRIPTOR) !== 0;
    // Archive::Zip writes a zip64 local header when needed, and for a copied member whose
    // local header had zip64 information in a zip64 archive (it re-reads it while copying).
    const zip64 = usize > 0xffffffff || (m.kind === 'file' && local.zip64);
    const headerOffset = out.total + copied;

    // Local header, data, data descriptor.
    const localExtra = extra(local.extra);
    out.u32(SIG_LOCAL).u16(zip64 ? Math.max(versionNeeded, 45) : versionNeeded).u16(bitFlag).u16(method).u32(m.lastMod);
    out.u32(hasDD ? 0 : crc);
    if (zip64) out.u32(0xffffffff).u32(0xffffffff);
    else out.u32(hasDD ? 0 : csize).u32(hasDD ? 0 : usize);
    out.u16(nameBytes.length).u16(localExtra.length + (zip64 ? 20 : 0)).bytes(nameBytes).bytes(localExtra);
    if (zip64) out.u16(1).u16(16).u64(hasDD ? 0 : usize).u64(hasDD ? 0 : csize);
    if (data.kind === 'copy') {
      await drain();
      await sink.copyFrom(src, data.offset, data.length); // streamed in bounded chunks
      copied += data.length;
    } else {
      out.bytes(data.bytes);
    }
    if (hasDD) {
      out.u32(SIG_DATA_DESCRIPTOR).u32(crc);
      if (zip64) out.u64(csize).u64(usize);
      else out.u32(csize).u32(usize);
    }
    if (out.pending >= 1 << 20) await drain();

    // Central directory record.
    const cdExtra = extra(e.extra);
    const cdZip64 = usize > 0xffffffff || csize > 0xffffffff || headerOffset > 0xffffffff;
    // Archive::Zip's zip64 central record: the 64-bit values that need it, and the header
    // offset when it needs it or when nothing else does (no empty zip64 field).
    const z64: number[] = [];
    const bigU = cdZip64 && usize > 0xffffffff;
    const bigC = cdZip64 && csize > 0xffffffff;
    if (bigU) z64.push(usize);
    if (bigC) z64.push(csize);
    const bigO = cdZip64 && (headerOffset > 0xffffffff || z64.length === 0);
    if (bigO) z64.push(headerOffset);
    if (zip64 || cdZip64) membersZip64 = true;
    cd.u32(SIG_CENTRAL).u8(e.versionMadeBy).u8(e.fileAttributeFormat).u16(cdZip64 ? Math.max(versionNeeded, 45) : versionNeeded);
    cd.u16(bitFlag).u16(method).u32(m.lastMod).u32(crc);
    cd.u32(bigC ? 0xffffffff : csize).u32(bigU ? 0xffffffff : usize);
    cd.u16(nameBytes.length).u16(cdExtra.length + (cdZip64 ? 4 + 8 * z64.length : 0)).u16(e.comment.length);
    cd.u16(0).u16(e.internalAttrs).u32(m.externalAttrs);
    cd.u32(bigO ? 0xffffffff : headerOffset);
    cd.bytes(nameBytes).bytes(cdExtra);
    if (cdZip64) {
      cd.u16(1).u16(8 * z64.length);
      for (const v of z64) cd.u64(v);
    }
    cd.bytes(e.comment);
  }

  // Central directory and its end records.
  const cdOffset = out.total + copied;
  await drain();
  for (const chunk of cd.take()) await sink.write(chunk);
  const cdSize = cd.total;
  const end = new ByteWriter(4096);
  const count = members.length;
  if (membersZip64 || count > 0xffff || cdSize > 0xffffffff || cdOffset > 0xffffffff) {
    const eocd64At = cdOffset + cdSize;
    end.u32(SIG_ZIP64_EOCD).u64(44).u16(zip.zip64VersionMadeBy || 45).u16(Math.max(zip.zip64VersionNeeded, 45)).u32(0).u32(0);
    end.u64(count).u64(count).u64(cdSize).u64(cdOffset);
    end.u32(SIG_ZIP64_LOCATOR).u32(0).u64(eocd64At).u32(1);
  }
  end.u32(SIG_EOCD).u16(0).u16(0).u16(Math.min(count, 0xffff)).u16(Math.min(count, 0xffff));
  end.u32(Math.min(cdSize, 0xffffffff)).u32(Math.min(cdOffset, 0xffffffff)).u16(zip.comment.length).bytes(zip.comment);
  for (const chunk of end.take()) await sink.write(chunk);
  return 'written';
}

const EMPTY = Buffer.alloc(0);

/** Raw deflate exactly as Perl's Compress::Raw::Zlib does it for Archive::Zip (zlib level 6,
 *  memLevel 9). Node's bundled zlib is a fork whose output differs, so this uses pako, a port
 *  of zlib that matches byte for byte (docs/dependencies.md). Loaded on first use. */
let pakoModule: typeof import('pako') | undefined;
async function deflateLikePerl(data: Buffer): Promise<Buffer> {
  if (!pakoModule) {
    const mod = (await import('pako')) as typeof import('pako') & { default?: typeof import('pako') };
    pakoModule = mod.default ?? mod;
  }
  return Buffer.from(pakoModule.deflateRaw(data, { level: 6, memLevel: 9 }));
}

async function crcOfRange(src: Source, offset: number, length: number): Promise<number> {
  let crc = 0;
  await forEachChunk(src, offset, length, (chunk) => {
    crc = crc32(chunk, crc);
  });
  return crc;
}

async function memberContents(src: Source, zip: ZipArchive, m: ZipMember): Promise<Buffer> {
  if (m.content) return m.content;
  const local = loadLocal(src, zip, m);
  if (m.entry.uncompressedSize === 0) return Buffer.alloc(0);
  const raw = src.readSync(local.dataOffset, dataLength(m));
  if (m.entry.method === STORED) return raw;
  if (m.entry.method === DEFLATED) {
    try {
      return inflateRawSync(raw);
    } catch (e) {
      throw new FormatError(`member ${m.name}: ${(e as Error).message}`);
    }
  }
  throw new FormatError(`member ${m.name}: unsupported compression method ${m.entry.method}`);
}

/** Archive::Zip's `contents($new)`: the member becomes a string member, whose fields come
 *  from its local header (which must agree with the central directory, or nothing changes). */
async function replaceContents(src: Source, zip: ZipArchive, m: ZipMember, data: Buffer): Promise<void> {
  const local = loadLocal(src, zip, m);
  if (m.kind === 'file' && !(local.bitFlag & FLAG_DATA_DESCRIPTOR) && (local.crc32 !== m.entry.crc32 || local.uncompressedSize !== m.entry.uncompressedSize)) {
    return;
  }
  m.kind = 'string';
  m.content = data;
}

/**
 * Beyond Perl, with the xml normalizer on (the CLI's default; not in dh_strip_nondeterminism):
 * an EPUB's package document (`*.opf`) gets its dcterms:modified date (handlers/xml.ts).
 */
async function opfMember(m: ZipMember, io: MemberIO, ctx: HandlerContext): Promise<void> {
  if (m.entry.uncompressedSize > SCRUB_LIMIT) return;
  const out = normalizeXml(await io.contents(m), { ...ctx, name: `${ctx.name}:${m.name}` });
  if (out) await io.replace(m, out);
}

/** Members up to this size are scrubbed; larger ones are left as they are. */
const SCRUB_LIMIT = 256 << 20;

/**
 * Beyond Perl, only with build paths or host names: HTML members (as handlers/html.ts) and ELF
 * members (handlers/elf.ts, a shared object in a wheel or an APK) get them replaced.
 */
async function scrubMember(m: ZipMember, io: MemberIO, ctx: HandlerContext): Promise<void> {
  if (m.entry.uncompressedSize === 0 || m.entry.uncompressedSize > SCRUB_LIMIT) return;
  const isHtml = html.matchName(m.name);
  if (!isHtml && m.entry.uncompressedSize < 64) return;
  const data = await io.contents(m);
  if (isHtml && looksLikeHtml(data)) {
    const out = scrubText(data, ctx.options);
    if (out) await io.replace(m, out);
  } else if (isElf(data)) {
    const sink = new BufferSink();
    if (await normalizeMemberOrKeep(normalizeElf, new BufferSource(data), sink, { ...ctx, name: `${ctx.name}:${m.name}` })) await io.replace(m, sink.toBuffer());
  }
}

/** Run a zip-family normalization and report whether the bytes changed. `prefix` bytes
 *  (a jmod header, a shebang line) are kept in front of the archive. */
export async function normalizeZipFile(src: Source, zipSrc: Source, prefix: Buffer, sink: Sink, ctx: HandlerContext, flavor?: ZipFlavor): Promise<boolean> {
  const compare = new CompareSink(sink, src);
  if (prefix.length) await compare.write(prefix);
  const outcome = await normalizeZip(zipSrc, compare, ctx, flavor);
  return outcome === 'written' && !compare.identical;
}

export const zip: Handler = {
  name: 'zip',
  defaultEnabled: true,
  matchName: extensionMatcher(['zip', 'pk3', 'epub', 'whl', 'xpi', 'htb', 'zhfst', 'par', 'codadef']),
  // file(1) must say "Zip archive data" or "EPUB document".
  detect: (head) => ['zip', 'epub'].includes(zipKind(head)),
  normalize: (src, sink, ctx) => normalizeZipFile(src, src, Buffer.alloc(0), sink, ctx),
};
