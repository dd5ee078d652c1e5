/**
 * ELF files (executables, shared objects, relocatable objects, separate debug files; 32/64-bit,
 * either byte order), found by their magic whatever the name, and the ELF members of ar archives
 * (static libraries, see handlers/ar.ts). Not in the Perl tool; active only when build paths or
 * host names are given (--build-path, --hostname and their environment variables).
 *
 * Changes, in the sections that hold strings only (.debug_str, .debug_line_str, .debug_line,
 * .debug_info inline strings, .debug_macro, .rodata*, .comment, .dynstr with RPATH/RUNPATH,
 * .strtab, .gnu_debuglink): each build path becomes TO padded with `/` to the same length, each
 * host name its replacement padded with `-` (src/scrub.ts), so no string moves. Code, relocations
 * and every other section are never touched.
 * - Compressed sections (SHF_COMPRESSED, zlib: gcc -gz) are inflated, rewritten and deflated again
 *   (node's zlib, default level). Their size changes, so the non-allocated sections after the first
 *   one that changed size are laid out again, each at its alignment, and the section header table
 *   after them; nothing a program loads moves. Where that is not safe (a segment or an allocated
 *   section after them, non-zero bytes between sections) the compressed sections are kept and a
 *   warning says so. zstd-compressed sections are kept, with a warning.
 * - gcc orders .debug_str and .debug_line_str by a hash of the strings, so they are sorted by
 *   content and every reference follows: by walking DWARF in linked files (src/dwarf.ts), through
 *   the relocation addends in relocatable objects (src/elfrel.ts).
 * - When anything changed, the GNU build-id is recomputed from the normalized content (buildId
 *   below), so two builds in different directories get the same id.
 * Left unchanged, with a warning: a file where a replacement is longer than what it replaces.
 * Errors: headers or sections that run past the end of the file, corrupt compressed sections.
 */
import { crypto } from '../../src/kit/builtins.js';
import * as zlib from 'node:zlib';
import type { Handler, HandlerContext } from '../../src/kit/handler.js';
import { forEachChunk, readExactSync, type Sink, type Source } from '../../src/kit/io.js';
import { OutputPlan } from '../../src/kit/output-plan.js';
import { FormatError } from '../../src/kit/errors.js';
import { ELFCOMPRESS_ZLIB, ET_REL, SHF_ALLOC, SHF_COMPRESSED, SHT_NOBITS, SHT_NOTE, isElf, readElf, type ElfFile, type ElfSection } from './reader.js';
import { canonicalizeStringTables } from './dwarf.js';
import { sortObjectStringTables } from './relocations.js';
import { scrubInPlace, scrubs } from '../../src/kit/build-paths-and-hostnames.js';
import { AR_MAGIC, normalizeArchive } from '../ar/archive.js';

const STRING_SECTIONS = /^(?:\.debug_str|\.debug_line_str|\.debug_line|\.debug_info|\.debug_macro|\.rodata(?:\..*)?|\.comment|\.dynstr|\.strtab|\.gnu_debuglink)$/;
const NT_GNU_BUILD_ID = 3;

/**
 * A file's sections: as stored, as plain bytes (inflated when compressed), and the new plain
 * bytes of those that change. Each section is read (and inflated) at most once.
 */
class Sections {
  private readonly raw = new Map<number, Buffer>();
  private readonly plainCache = new Map<number, Buffer | undefined>();
  readonly changed = new Map<number, Buffer>();

  constructor(
    private readonly src: Source,
    readonly file: ElfFile,
    private readonly ctx: HandlerContext,
    /** Treat compressed sections as unreadable (the second pass when they cannot be moved). */
    readonly keepCompressed = false,
  ) {}

  stored(s: ElfSection): Buffer {
    let b = this.raw.get(s.index);
    if (!b) this.raw.set(s.index, (b = s.type === SHT_NOBITS ? Buffer.alloc(0) : readExactSync(this.src, s.offset, s.size, `ELF section ${s.name}`)));
    return b;
  }

  /** Size of the compression header (Elf32/64_Chdr). */
  get chdrSize(): number {
    return this.file.is64 ? 24 : 12;
  }

  /** A compressed section's Chdr: compression type, plain size, plain alignment. */
  readChdr(s: ElfSection): { type: number; size: number; align: number } {
    const data = this.stored(s);
    const { le, is64 } = this.file;
    if (data.length < this.chdrSize) throw new FormatError(`ELF section ${s.name}: compression header truncated`, s.offset);
    const u32 = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
    const u64 = (o: number) => Number(le ? data.readBigUInt64LE(o) : data.readBigUInt64BE(o));
    return is64 ? { type: u32(0), size: u64(8), align: u64(16) } : { type: u32(0), size: u32(4), align: u32(8) };
  }

  /** The section's plain bytes (read-only), or undefined for a compression we do not handle. */
  plain(s: ElfSection): Buffer | undefined {
    if (this.changed.has(s.index)) return this.changed.get(s.index);
    if (this.plainCache.has(s.index)) return this.plainCache.get(s.index);
    let data: Buffer | undefined = this.stored(s);
    if (s.flags & SHF_COMPRESSED && this.keepCompressed) {
      data = undefined;
    } else if (s.flags & SHF_COMPRESSED) {
      const { type, size } = this.readChdr(s);
      if (type !== ELFCOMPRESS_ZLIB) {
        this.ctx.warn(`${this.ctx.name}: section ${s.name} is compressed with type ${type} (not zlib); left unchanged`);
        data = undefined;
      } else {
        try {
          data = zlib.inflateSync(data.subarray(this.chdrSize));
        } catch (e) {
          throw new FormatError(`ELF section ${s.name}: bad zlib data (${(e as Error).message})`, s.offset);
        }
        if (data.length !== size) throw new FormatError(`ELF section ${s.name}: inflates to ${data.length} bytes, header says ${size}`, s.offset);
      }
    }
    this.plainCache.set(s.index, data);
    return data;
  }

  /** A private copy of the plain bytes, to edit. */
  copy(s: ElfSection): Buffer | undefined {
    const p = this.plain(s);
    return p && Buffer.from(p);
  }

  set(s: ElfSection, data: Buffer): void {
    const before = this.plain(s);
    if (before && before.equals(data)) return;
    this.changed.set(s.index, data);
  }

  /** A compression header for `plain` (as ld writes it: zlib, the section's own alignment). */
  chdr(s: ElfSection, plain: Buffer): Buffer {
    const { le, is64 } = this.file;
    if (s.flags & SHF_COMPRESSED) return this.stored(s).subarray(0, this.chdrSize);
    const h = Buffer.alloc(this.chdrSize);
    const u32 = (v: number, at: number) => (le ? h.writeUInt32LE(v, at) : h.writeUInt32BE(v, at));
    const u64 = (v: number, at: number) => (le ? h.writeBigUInt64LE(BigInt(v), at) : h.writeBigUInt64BE(BigInt(v), at));
    u32(ELFCOMPRESS_ZLIB, 0);
    if (is64) {
      u64(plain.length, 8);
      u64(s.addralign, 16);
    } else {
      u32(plain.length, 4);
      u32(s.addralign, 8);
    }
    return h;
  }
}

/** How a section is to be stored: its bytes, and whether they are compressed. */
interface Stored {
  data: Buffer;
  compressed: boolean;
}

const isDebug = (s: ElfSection) => s.name.startsWith('.debug_') && !(s.flags & SHF_ALLOC) && s.type !== SHT_NOBITS && s.size > 0;

/**
 * The stored form of each section that changes. ld and gas compress a debug section only when
 * that makes it smaller, so the same content can end up compressed in one build and not in the
 * other (the build path decides); in a file built with -gz every debug section is therefore
 * decided again by the same rule over its normalized content (header + deflate < plain), with
 * node's zlib. Sections whose decision and content stay keep their bytes.
 */
function storedSections(secs: Sections): Map<number, Stored> {
  const { file } = secs;
  const out = new Map<number, Stored>();
  const gz = !secs.keepCompressed && file.sections.some((s) => isDebug(s) && s.flags & SHF_COMPRESSED);
  for (const s of file.sections) {
    const changed = secs.changed.get(s.index);
    const wasCompressed = (s.flags & SHF_COMPRESSED) !== 0;
    if (gz && isDebug(s)) {
      const plain = secs.plain(s);
      if (!plain) continue;
      const deflated = zlib.deflateSync(plain);
      const compress = secs.chdrSize + deflated.length < plain.length;
      if (compress === wasCompressed && !changed) continue;
      out.set(s.index, compress ? { data: Buffer.concat([secs.chdr(s, plain), deflated]), compressed: true } : { data: plain, compressed: false });
    } else if (changed) {
      out.set(s.index, { data: wasCompressed ? Buffer.concat([secs.chdr(s, changed), zlib.deflateSync(changed)]) : changed, compressed: wasCompressed });
    }
  }
  return out;
}

/** Where the GNU build-id is: section, offset inside it, length. */
interface BuildIdPlace {
  section: ElfSection;
  at: number;
  length: number;
}

function findBuildId(secs: Sections): BuildIdPlace | undefined {
  const { file } = secs;
  const u32 = (b: Buffer, o: number) => (file.le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  for (const s of file.sections) {
    if (s.type !== SHT_NOTE || s.size === 0 || s.flags & SHF_COMPRESSED) continue;
    const notes = secs.stored(s);
    for (let pos = 0; pos + 12 <= notes.length; ) {
      const namesz = u32(notes, pos);
      const descsz = u32(notes, pos + 4);
      const type = u32(notes, pos + 8);
      const name = pos + 12;
      const desc = name + ((namesz + 3) & ~3);
      if (desc + descsz > notes.length) break;
      if (type === NT_GNU_BUILD_ID && notes.toString('latin1', name, name + namesz) === 'GNU\0' && descsz > 0) return { section: s, at: desc, length: descsz };
      pos = desc + ((descsz + 3) & ~3);
    }
  }
  return undefined;
}

/** The output's section placement. */
interface Layout {
  /** Offset of the first byte that moves; the file up to it keeps its place. */
  firstMoved: number;
  offsets: number[];
  shoff: number;
  /** Sections from firstMoved on, in file order. */
  tail: ElfSection[];
}

/**
 * Place sections whose stored size changed (recompressed debug sections): everything from the
 * first of them on is laid out again in file order, each section at its alignment, then the
 * section header table. Returns why not when that could move something a program loads or
 * lose bytes that belong to no section.
 */
async function layout(src: Source, file: ElfFile, sizeOf: (s: ElfSection) => number, alignOf: (s: ElfSection) => number): Promise<Layout | string> {
  const offsets = file.sections.map((s) => s.offset);
  const moved = file.sections.filter((s) => s.index > 0 && s.type !== SHT_NOBITS && sizeOf(s) !== s.size);
  if (moved.length === 0) return { firstMoved: src.size, offsets, shoff: file.shoff, tail: [] };
  const firstMoved = Math.min(...moved.map((s) => s.offset));
  if (file.segments.some((p) => p.filesz > 0 && p.offset + p.filesz > firstMoved)) return 'a segment lies after the compressed sections';
  const tail = file.sections.filter((s) => s.index > 0 && s.offset >= firstMoved).sort((a, b) => a.offset - b.offset || a.index - b.index);
  // In a relocatable object nothing is loaded from a file offset: any section may move.
  if (file.type !== ET_REL && tail.some((s) => s.flags & SHF_ALLOC && s.type !== SHT_NOBITS)) return 'an allocated section lies after the compressed sections';
  const tableSize = file.sections.length * file.shentsize;
  const covered: [number, number][] = tail.filter((s) => s.type !== SHT_NOBITS).map((s) => [s.offset, s.offset + s.size]);
  for (const s of file.sections) if (s.index > 0 && s.type !== SHT_NOBITS && s.offset < firstMoved && s.offset + s.size > firstMoved) return `section ${s.name} overlaps the compressed sections`;
  if (file.shoff >= firstMoved) covered.push([file.shoff, file.shoff + tableSize]);
  else if (file.shoff + tableSize > firstMoved) return 'the section table overlaps the compressed sections';
  covered.sort((a, b) => a[0] - b[0]);
  // Bytes that belong to nothing would be dropped: allow only alignment padding (zeros).
  let pos = firstMoved;
  for (const [start, end] of [...covered, [src.size, src.size] as [number, number]]) {
    if (start > pos) {
      if (start - pos > 65536) return `${start - pos} bytes between sections belong to none`;
      if ((await src.read(pos, start - pos)).some((b) => b !== 0)) return 'non-zero bytes between sections';
    }
    pos = Math.max(pos, end);
  }
  pos = firstMoved;
  for (const s of tail) {
    if (s.type === SHT_NOBITS) {
      offsets[s.index] = pos;
      continue;
    }
    const align = Math.max(1, alignOf(s));
    pos = Math.ceil(pos / align) * align;
    offsets[s.index] = pos;
    pos += sizeOf(s);
  }
  let shoff = file.shoff;
  if (file.shoff >= firstMoved) {
    const align = file.is64 ? 8 : 4;
    shoff = Math.ceil(pos / align) * align;
  }
  return { firstMoved, offsets, shoff, tail };
}

/**
 * The new build-id, as debugedit --build-id computes it: a digest (SHA-1 for 20-byte ids, MD5 for
 * 16, SHA-256 otherwise, cut to the id's size) over the ELF header with e_phoff and e_shoff
 * zeroed, the program headers, and for each section in order its contents as stored (none for
 * NOBITS; the build-id bytes themselves zeroed) and its header with sh_offset zeroed. All fields
 * as they are in the output file (its own byte order and class).
 */
async function buildId(src: Source, secs: Sections, stored: Map<number, Buffer>, ehdr: Buffer, headers: Buffer, id: BuildIdPlace): Promise<Buffer> {
  const { file } = secs;
  const hash = crypto().createHash(id.length === 20 ? 'sha1' : id.length === 16 ? 'md5' : 'sha256');
  const eh = Buffer.from(ehdr);
  eh.fill(0, file.is64 ? 32 : 28, file.is64 ? 48 : 36); // e_phoff, e_shoff
  hash.update(eh);
  if (file.phnum) hash.update(readExactSync(src, file.phoff, file.phnum * file.phentsize, 'ELF program headers'));
  for (const s of file.sections) {
    if (s.type !== SHT_NOBITS && s.size > 0) {
      const own = stored.get(s.index);
      if (own || s === id.section) {
        const data = Buffer.from(own ?? secs.stored(s));
        if (s === id.section) data.fill(0, id.at, id.at + id.length);
        hash.update(data);
      } else {
        await forEachChunk(src, s.offset, s.size, (chunk) => void hash.update(chunk));
      }
    }
    const h = Buffer.from(headers.subarray(s.index * file.shentsize, (s.index + 1) * file.shentsize));
    h.fill(0, file.is64 ? 24 : 16, file.is64 ? 32 : 20); // sh_offset
    hash.update(h);
  }
  const digest = hash.digest();
  return Buffer.concat([digest, Buffer.alloc(Math.max(0, id.length - digest.length))]).subarray(0, id.length);
}

const DWARF_SECTIONS = ['.debug_info', '.debug_abbrev', '.debug_line', '.debug_str', '.debug_line_str', '.debug_str_offsets', '.debug_macro', '.debug_names', '.debug_types'];

/**
 * gcc orders .debug_str and .debug_line_str by a hash of their strings, so the build path changes
 * the order; sort them so two builds in different directories agree.
 */
function sortStringTables(secs: Sections, ctx: HandlerContext): void {
  const { file } = secs;
  const live = file.sections.filter((s) => s.index > 0 && s.type !== SHT_NOBITS && s.size > 0);
  if (file.type === ET_REL) {
    const result = sortObjectStringTables(file, (s) => secs.copy(s));
    if (typeof result === 'string') ctx.warn(`${ctx.name}: DWARF string tables left in their order (${result})`);
    else for (const [index, data] of result) secs.set(file.sections[index], data);
    return;
  }
  const byName = new Map(live.filter((s) => DWARF_SECTIONS.includes(s.name)).map((s) => [s.name, s]));
  if (!byName.has('.debug_str') && !byName.has('.debug_line_str')) return;
  const copies = new Map<ElfSection, Buffer>();
  let unreadable: string | undefined;
  const get = (name: string): Buffer | undefined => {
    const s = byName.get(name);
    if (!s) return undefined;
    if (!copies.has(s)) {
      const c = secs.copy(s);
      if (!c) unreadable = s.name;
      else copies.set(s, c);
    }
    return copies.get(s) ?? Buffer.alloc(0);
  };
  const result = canonicalizeStringTables({ le: file.le, get });
  const reason = unreadable ? `${unreadable} unreadable` : 'unsupported' in result ? result.unsupported : undefined;
  if (reason) {
    ctx.warn(`${ctx.name}: DWARF string tables left in their order (${reason})`);
    return;
  }
  for (const [s, data] of copies) secs.set(s, data);
}

/** Write an address-sized field (sh_offset, sh_size, e_shoff) into a header. */
function putAddr(file: ElfFile, buf: Buffer, at: number, value: number): void {
  if (file.is64) file.le ? buf.writeBigUInt64LE(BigInt(value), at) : buf.writeBigUInt64BE(BigInt(value), at);
  else file.le ? buf.writeUInt32LE(value, at) : buf.writeUInt32BE(value, at);
}

/** Two sections whose file bytes overlap, one of them not loaded (a section this handler may
 *  rewrite or move), if there are such. */
function overlappingSections(file: ElfFile): [ElfSection, ElfSection] | undefined {
  const placed = file.sections.filter((s) => s.index > 0 && s.type !== SHT_NOBITS && s.size > 0).sort((a, b) => a.offset - b.offset);
  let reach = placed[0]; // the section reaching furthest so far
  for (const b of placed.slice(1)) {
    if (b.offset < reach.offset + reach.size && (!(reach.flags & SHF_ALLOC) || !(b.flags & SHF_ALLOC))) return [reach, b];
    if (b.offset + b.size > reach.offset + reach.size) reach = b;
  }
  return undefined;
}

/** Normalize one ELF file from `src` into `sink`; returns whether anything changed. */
export async function normalizeElf(src: Source, sink: Sink, ctx: HandlerContext, keepCompressed = false): Promise<boolean> {
  const file = readElf(src);
  const secs = new Sections(src, file, ctx, keepCompressed);
  const tooLong = new Set<string>();
  for (const s of file.sections) {
    if (s.index === 0 || s.type === SHT_NOBITS || s.size === 0 || !STRING_SECTIONS.test(s.name)) continue;
    const data = secs.copy(s);
    if (data && scrubInPlace(data, ctx.options, tooLong)) secs.set(s, data);
  }
  if (tooLong.size) {
    ctx.keep(`${ctx.name}: the replacement for ${[...tooLong].join(', ')} is longer than what it replaces; file left unchanged`);
    return false;
  }
  if (secs.changed.size === 0) return false;
  const overlap = overlappingSections(file);
  if (overlap) {
    ctx.keep(`${ctx.name}: sections ${overlap[0].name} and ${overlap[1].name} overlap in the file; left unchanged, as rewriting one would damage the other`);
    return false;
  }
  sortStringTables(secs, ctx);

  const forms = storedSections(secs);
  const stored = new Map([...forms].map(([i, f]) => [i, f.data]));
  const sizeOf = (s: ElfSection) => stored.get(s.index)?.length ?? s.size;
  /** Whether a section goes from compressed to plain or back. */
  const toggled = (s: ElfSection) => {
    const form = forms.get(s.index);
    return form !== undefined && form.compressed !== ((s.flags & SHF_COMPRESSED) !== 0);
  };
  // A section that is now compressed aligns its Chdr; one no longer compressed takes the
  // alignment its Chdr recorded.
  const alignOf = (s: ElfSection) => (!toggled(s) ? s.addralign : forms.get(s.index)!.compressed ? (file.is64 ? 8 : 4) : secs.readChdr(s).align);
  const placed = await layout(src, file, sizeOf, alignOf);
  if (typeof placed === 'string') {
    // Start again without them: the string tables cannot be sorted if their references stay.
    ctx.warn(`${ctx.name}: compressed sections left unchanged (${placed})`);
    return normalizeElf(src, sink, ctx, true);
  }
  const { firstMoved, offsets, shoff, tail } = placed;

  // The new section header table and ELF header.
  const headers = Buffer.from(readExactSync(src, file.shoff, file.sections.length * file.shentsize, 'ELF section headers'));
  for (const s of file.sections) {
    if (s.index === 0) continue;
    const at = s.index * file.shentsize;
    putAddr(file, headers, at + (file.is64 ? 24 : 16), offsets[s.index]);
    if (s.type !== SHT_NOBITS) putAddr(file, headers, at + (file.is64 ? 32 : 20), sizeOf(s));
    if (toggled(s)) {
      putAddr(file, headers, at + 8, s.flags ^ SHF_COMPRESSED);
      putAddr(file, headers, at + (file.is64 ? 48 : 32), alignOf(s));
    }
  }
  const ehdr = Buffer.from(readExactSync(src, 0, file.ehsize, 'ELF header'));
  putAddr(file, ehdr, file.is64 ? 40 : 32, shoff);

  const id = findBuildId(secs);
  if (id) {
    const note = Buffer.from(stored.get(id.section.index) ?? secs.stored(id.section));
    (await buildId(src, secs, stored, ehdr, headers, id)).copy(note, id.at);
    stored.set(id.section.index, note);
    // A binary and its split-off debug file are two files: each gets an id from its own content,
    // so a pair split before normalizing no longer matches (debhelper runs dh_strip after us).
    const split = file.sections.some((s) => s.type === SHT_NOBITS && s.flags & SHF_ALLOC && s.name === '.text');
    if (split || file.sections.some((s) => s.name === '.gnu_debuglink')) {
      ctx.warn(`${ctx.name}: ${split ? 'a separate debug file' : 'has a .gnu_debuglink'}: its new build-id no longer matches its ${split ? 'stripped binary' : 'debug file'}; normalize before splitting debug info`);
    }
  }

  // The file up to firstMoved, with same-size patches; then the laid-out tail.
  const plan = new OutputPlan(src);
  const patches: [number, Buffer][] = [[0, ehdr]];
  for (const [i, data] of stored) if (file.sections[i].offset < firstMoved) patches.push([file.sections[i].offset, data]);
  if (file.shoff < firstMoved) patches.push([file.shoff, headers]);
  patches.sort((a, b) => a[0] - b[0]);
  let pos = 0;
  for (const [offset, data] of patches) {
    plan.copy(pos, offset - pos);
    plan.put(data);
    pos = offset + data.length;
  }
  plan.copy(pos, firstMoved - pos);
  let out = firstMoved;
  const pad = (to: number) => {
    if (to > out) plan.emit(Buffer.alloc(to - out));
    out = Math.max(out, to);
  };
  for (const s of tail) {
    if (s.type === SHT_NOBITS) continue;
    pad(offsets[s.index]);
    const data = stored.get(s.index);
    if (data) plan.emit(data);
    else plan.copy(s.offset, s.size);
    out += sizeOf(s);
  }
  if (shoff >= firstMoved && tail.length) {
    pad(shoff);
    plan.emit(headers);
  }
  return plan.commit(sink);
}

export const elf: Handler = {
  name: 'elf',
  defaultEnabled: true,
  files: 'any ELF file, by its bytes; ELF members of *.a',
  beyondPerl: true,
  onlyScrubs: true,
  matchName: () => true,
  // ELF by magic whatever the name; a static library (`.a`) for its ELF members when ar is off.
  detect: (head, _size, path) => isElf(head) || (/\.a$/.test(path) && head.toString('latin1', 0, 8) === AR_MAGIC),

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    if (!scrubs(ctx.options)) return false;
    if (src.readSync(0, 8).toString('latin1') === AR_MAGIC) return normalizeArchive(src, sink, ctx, false);
    return normalizeElf(src, sink, ctx);
  },
};
