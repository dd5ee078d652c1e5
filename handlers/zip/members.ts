/**
 * Reading a zip archive's members the way Archive::Zip 1.68 reads them: the member list with
 * Perl's names and sort keys, local headers on demand (with data descriptors), and member
 * contents for flavors that look inside. Nothing here writes.
 */
import { inflateRawSync } from 'node:zlib';
import type { Source } from '../../src/kit/io.js';
import { FormatError } from '../../src/kit/errors.js';
import { LimitError, type HandlerContext } from '../../src/kit/handler.js';
import { memberLimit } from '../../src/kit/options.js';
import {
  DEFLATED, FLAG_DATA_DESCRIPTOR, FLAG_ENCRYPTED, FLAG_UTF8, STORED, Unwritable,
  perlName, perlSortKey, readDataDescriptor, readLocalHeader,
  type CentralEntry, type LocalHeader, type ZipArchive,
} from './records.js';

/** One archive member on its way out, in Archive::Zip's terms. */
export interface ZipMember {
  /** Its place in the central directory (two views of one member have the same index). */
  readonly index: number;
  readonly entry: CentralEntry;
  /** The name as Archive::Zip holds it (decoded when UTF-8 flagged). */
  name: string;
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

export const squeezeSlashes = (s: string) => s.replace(/[\\/]+/g, '/');

/** Archive::Zip's isDirectory for an entry read from a zip file. */
export const isDirectoryEntry = (name: string, e: CentralEntry) => name.endsWith('/') && e.uncompressedSize === 0;

/** Compressed data region of an entry, as Archive::Zip reads it. */
export function dataLength(m: ZipMember): number {
  return m.entry.method === STORED ? m.entry.uncompressedSize : m.entry.compressedSize;
}

/** A member's local header with its data descriptor applied, read and not kept. */
function readLocal(src: Source, zip: ZipArchive, m: ZipMember): LocalHeader {
  const local = readLocalHeader(src, zip, m.entry);
  // A data descriptor after the data (per the local flags) overrides crc and sizes.
  if (local.bitFlag & FLAG_DATA_DESCRIPTOR) {
    const at = local.dataOffset + m.entry.compressedSize;
    const dd = readDataDescriptor(src, at, zip.zip64, m.entry.crc32);
    if (dd.crc32 !== m.entry.crc32 || dd.uncompressedSize !== m.entry.uncompressedSize) {
      // A member with a zip64 field has a zip64 descriptor (APPNOTE 4.3.9.1) even in an archive
      // without zip64 records; Archive::Zip reads those only in zip64 archives, and fails.
      const wide = !zip.zip64 && (local.zip64 || hasZip64Field(local.extra)) ? readDataDescriptor(src, at, true, m.entry.crc32) : undefined;
      if (wide && wide.crc32 === m.entry.crc32 && wide.uncompressedSize === m.entry.uncompressedSize) {
        throw new Unwritable(`${m.name}: its data descriptor is in zip64 form, which Archive::Zip cannot read outside a zip64 archive; left unchanged`);
      }
      throw new FormatError(`CRC or size mismatch in the data descriptor of ${m.name}`);
    }
    m.entry.compressedSize = dd.compressedSize;
  }
  return local;
}

export function loadLocal(src: Source, zip: ZipArchive, m: ZipMember): LocalHeader {
  if (!m.local) m.local = readLocal(src, zip, m);
  m.localLoaded = true;
  return m.local;
}

const KINDS = ['file', 'dir', 'string'] as const;

/**
 * Every member's state, compact: a few bytes a member in typed arrays; names are read from the
 * central directory when asked for (only the ones Archive::Zip renames, directories named after
 * their local header, are kept); local headers and replaced contents only for the members that
 * have them. A ZipMember is a view of one row, cheap to make: a million members cost a few tens
 * of megabytes beyond the central directory itself.
 */
class MemberTable {
  /** Names that are not the central directory's (directories, renamed members). */
  readonly renamed = new Map<number, string>();
  /** Every name is plain ASCII: byte order is Perl's order, and names need not be made. */
  byteOrder: boolean;
  /** Some name lies beyond the BMP: every sort key is then the name's UTF-8 as latin1. */
  utf8Keys = false;
  readonly kind: Uint8Array;
  readonly localLoaded: Uint8Array;
  readonly lastMod: Uint32Array;
  readonly externalAttrs: Uint32Array;
  readonly locals = new Map<number, LocalHeader>();
  readonly contents = new Map<number, Buffer>();

  /** Sort keys, made once for archives whose names are not all ASCII (renaming drops them). */
  keys: string[] | undefined;

  /** Perl's `cmp` of members `i` and `j` by name. */
  compare(i: number, j: number): number {
    if (this.byteOrder && !this.renamed.has(i) && !this.renamed.has(j)) return this.zip.directory.compareNames(i, j);
    this.keys ??= Array.from({ length: this.zip.directory.count }, (_, k) => new MemberView(this, k).sortKey);
    const [a, b] = [this.keys[i], this.keys[j]];
    return a < b ? -1 : a > b ? 1 : 0;
  }

  constructor(readonly zip: ZipArchive) {
    const n = zip.directory.count;
    this.byteOrder = zip.directory.asciiNames();
    this.kind = new Uint8Array(n);
    this.localLoaded = new Uint8Array(n);
    this.lastMod = new Uint32Array(n);
    this.externalAttrs = new Uint32Array(n);
  }
}

const isAscii = (s: string) => !/[^\x00-\x7f]/.test(s);

class MemberView implements ZipMember {
  constructor(
    private readonly t: MemberTable,
    private readonly i: number,
  ) {}
  get index() { return this.i; }
  get entry(): CentralEntry { return this.t.zip.directory.entry(this.i); }
  get name() {
    const renamed = this.t.renamed.get(this.i);
    return renamed ?? this.t.zip.directory.nameString(this.i);
  }
  set name(v: string) {
    this.t.renamed.set(this.i, v);
    this.t.keys = undefined;
    if (!isAscii(v)) this.t.byteOrder = false;
  }
  /** A string whose JavaScript order is Perl's `cmp` order of the name (see perlSortKey). */
  get sortKey() {
    const name = this.name;
    return this.t.utf8Keys ? Buffer.from(name, 'utf8').toString('latin1') : name;
  }
  get kind() { return KINDS[this.t.kind[this.i]]; }
  set kind(v: ZipMember['kind']) { this.t.kind[this.i] = KINDS.indexOf(v); }
  get local() { return this.t.locals.get(this.i); }
  set local(v: LocalHeader | undefined) { v ? this.t.locals.set(this.i, v) : this.t.locals.delete(this.i); }
  get localLoaded() { return this.t.localLoaded[this.i] === 1; }
  set localLoaded(v: boolean) { this.t.localLoaded[this.i] = v ? 1 : 0; }
  get content() { return this.t.contents.get(this.i); }
  set content(v: Buffer | undefined) { v ? this.t.contents.set(this.i, v) : this.t.contents.delete(this.i); }
  get lastMod() { return this.t.lastMod[this.i]; }
  set lastMod(v: number) { this.t.lastMod[this.i] = v; }
  get externalAttrs() { return this.t.externalAttrs[this.i]; }
  set externalAttrs(v: number) { this.t.externalAttrs[this.i] = v; }
}

/** A member as Archive::Zip makes it while reading: directories become DirectoryMembers, which
 *  take their version, flags, method and name from the local header. */
function readMember(src: Source, zip: ZipArchive, m: ZipMember): void {
  const entry = m.entry;
  const name = m.name;
  m.lastMod = entry.lastMod;
  m.externalAttrs = entry.externalAttrs;
  if (!isDirectoryEntry(name, entry)) return;
  const local = loadLocal(src, zip, m);
  // The local header must agree on crc and size.
  if (!(local.bitFlag & FLAG_DATA_DESCRIPTOR) && (local.crc32 !== entry.crc32 || local.uncompressedSize !== entry.uncompressedSize)) {
    throw new FormatError(`Reading ZIP archive failed: CRC or size mismatch after reading data descriptor (${m.name})`);
  }
  m.kind = 'dir';
  const localName = squeezeSlashes(local.name.toString('latin1'));
  const dirName = local.bitFlag & FLAG_UTF8 ? perlName(Buffer.from(localName, 'latin1'), FLAG_UTF8) : localName;
  if (dirName !== name) m.name = dirName;
}

/**
 * Members in some order, each made when it is reached: a view of its table row, so a list of a
 * million members is a Uint32Array of their indexes, not a million objects that live as long as
 * the archive (V8 lets its heap grow to a few times what lives: fewer long-lived objects, less
 * memory).
 */
export class MemberList implements Iterable<ZipMember> {
  constructor(
    private readonly table: MemberTable,
    readonly order: Uint32Array,
  ) {}
  get length(): number {
    return this.order.length;
  }
  at(k: number): ZipMember {
    return new MemberView(this.table, this.order[k]);
  }
  *[Symbol.iterator](): Iterator<ZipMember> {
    for (let k = 0; k < this.order.length; k++) yield this.at(k);
  }
  some(test: (m: ZipMember) => boolean): boolean {
    for (const m of this) if (test(m)) return true;
    return false;
  }
  /** The same members in another order (indexes into the central directory). */
  withOrder(order: Uint32Array): MemberList {
    return new MemberList(this.table, order);
  }
  /** Perl's `cmp` of two members' names, by central-directory index. */
  compareIndexes(i: number, j: number): number {
    return this.table.compare(i, j);
  }
}

/** Every member, in central-directory order. */
export function readMemberList(src: Source, zip: ZipArchive): MemberList {
  const table = new MemberTable(zip);
  const list = new MemberList(table, Uint32Array.from({ length: zip.directory.count }, (_, i) => i));
  for (const m of list) readMember(src, zip, m);
  // Names beyond the BMP need UTF-8 keys; then every member uses them, so keys compare alike.
  if (!table.byteOrder) table.utf8Keys = list.some((m) => perlSortKey(m.name) !== m.name);
  return list;
}


/** The local header of a member, read without keeping it (the writer's pass: memory stays
 *  flat in the number of members). A kept one is returned as it is. */
export function peekLocal(src: Source, zip: ZipArchive, m: ZipMember): LocalHeader {
  return m.local ?? readLocal(src, zip, m);
}

/** An APK Signature Scheme v2+ block sits right before the central directory. */
export function hasApkSigningBlock(src: Source, zip: ZipArchive): boolean {
  if (zip.centralStart < 16) return false;
  return src.readSync(zip.centralStart - 16, 16).toString('latin1') === 'APK Sig Block 42';
}

/**
 * The member's uncompressed content (the flavor's replacement, once there is one), held in
 * memory: its declared size must be within `limit` (a LimitError otherwise), and inflating
 * stops at the declared size (more is a corrupt member, not a bigger buffer).
 */
export async function memberContents(src: Source, zip: ZipArchive, m: ZipMember, limit: number, ctx: HandlerContext): Promise<Buffer> {
  if (m.content) return m.content;
  const local = loadLocal(src, zip, m);
  const size = m.entry.uncompressedSize;
  if (size === 0) return Buffer.alloc(0);
  if (size > limit || dataLength(m) > limit) {
    throw new LimitError(`member ${m.name}: ${size} bytes to hold in memory, over the limit of ${limit} (--max-member-size raises it)`);
  }
  ctx.reserve(size, m.name);
  const raw = src.readSync(local.dataOffset, dataLength(m));
  if (m.entry.method === STORED) return raw;
  if (m.entry.method !== DEFLATED) throw new FormatError(`member ${m.name}: unsupported compression method ${m.entry.method}`);
  let out: Buffer;
  try {
    out = inflateRawSync(raw, { maxOutputLength: size + 1 });
  } catch (e) {
    const tooBig = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new FormatError(`member ${m.name}: ${tooBig ? `inflates to more than its declared ${size} bytes` : (e as Error).message}`);
  }
  if (out.length !== size) throw new FormatError(`member ${m.name}: inflates to ${out.length} bytes, not its declared ${size}`);
  return out;
}

/** Does an extra field hold a zip64 extended-information record (header id 1)? */
function hasZip64Field(extra: Buffer): boolean {
  for (let at = 0; at + 4 <= extra.length; at += 4 + extra.readUInt16LE(at + 2)) if (extra.readUInt16LE(at) === 1) return true;
  return false;
}

/**
 * Where a copied member's local header contradicts its central directory record on what the
 * data is (method, encryption, sizes and CRC when the local header carries them), copying the
 * data under the central record's description would make an archive readers reject: such an
 * archive is kept as it is (Perl leaves one with a local-only encryption flag alone).
 */
export function localDisagreement(m: ZipMember, local: LocalHeader): string | undefined {
  const e = m.entry;
  // Archive::Zip names a directory after its local header, a file after the central record.
  if (!local.name.equals(e.name) && squeezeSlashes(local.name.toString('latin1')) !== squeezeSlashes(e.name.toString('latin1'))) return 'its name differs between its local header and the central directory';
  // A rebuilt member takes its version from the local header: one that the central record does
  // not ask for, and past what stored, deflated and zip64 members need (4.5; unzip reads 4.6),
  // would make readers skip it.
  const version = local.versionNeeded & 0xff;
  if (version > 46 && local.versionNeeded !== e.versionNeeded) return `its local header needs zip version ${version / 10}, the central directory ${(e.versionNeeded & 0xff) / 10}`;
  // A directory too: Archive::Zip takes its flags from the local header (Perl then ignores the
  // archive as encrypted).
  if ((local.bitFlag & FLAG_ENCRYPTED) !== (e.bitFlag & FLAG_ENCRYPTED)) return 'the encryption flag differs between its local header and the central directory';
  // A directory is rewritten stored, from its local method: Archive::Zip converts only from
  // deflated (Perl then leaves the archive alone, "Unsupported compression combination").
  if (m.kind === 'dir') return local.method === STORED || local.method === DEFLATED ? undefined : `compression method ${local.method} in its local header, which Archive::Zip cannot rewrite as stored`;
  if (local.method !== e.method) return `compression method ${local.method} in its local header, ${e.method} in the central directory`;
  if (local.bitFlag & FLAG_DATA_DESCRIPTOR) return undefined;
  const known = (v: number) => v !== 0xffffffff;
  // The zip64 sentinel with no zip64 field to resolve it, where the central record has a real
  // size: the local header is damaged (rewriting it from the central record would hide that, and
  // a second run would then find the member readable and change it again).
  const sentinel = (v: number, real: number) => !known(v) && known(real) && !local.zip64 && !hasZip64Field(local.extra);
  if (sentinel(local.compressedSize, e.compressedSize) || sentinel(local.uncompressedSize, e.uncompressedSize)) return 'its local header gives the zip64 size marker 0xffffffff without a zip64 field';
  if (known(local.compressedSize) && local.compressedSize !== e.compressedSize) return `compressed size ${local.compressedSize} in its local header, ${e.compressedSize} in the central directory`;
  if (known(local.uncompressedSize) && local.uncompressedSize !== e.uncompressedSize) return `size ${local.uncompressedSize} in its local header, ${e.uncompressedSize} in the central directory`;
  if (local.crc32 !== e.crc32) return 'the CRC differs between its local header and the central directory';
  return undefined;
}

/** Archive::Zip's `contents($new)`: the member becomes a string member, whose fields come
 *  from its local header (which must agree with the central directory, or nothing changes). */
export async function replaceContents(src: Source, zip: ZipArchive, m: ZipMember, data: Buffer): Promise<void> {
  const local = loadLocal(src, zip, m);
  if (m.kind === 'file' && !(local.bitFlag & FLAG_DATA_DESCRIPTOR) && (local.crc32 !== m.entry.crc32 || local.uncompressedSize !== m.entry.uncompressedSize)) {
    return;
  }
  m.kind = 'string';
  m.content = data;
}

export function memberIO(src: Source, zip: ZipArchive, ctx: HandlerContext): MemberIO {
  const limit = memberLimit(ctx.options);
  return {
    contents: (m) => memberContents(src, zip, m, limit, ctx),
    replace: (m, data) => replaceContents(src, zip, m, data),
  };
}
