/**
 * ELF files (executables, shared objects, relocatable objects, separate debug files; 32/64-bit,
 * either byte order), found by their magic whatever the name. Not in the Perl tool; active only
 * when build paths are given (--build-path, BUILD_PATH_PREFIX_MAP).
 *
 * Changes: every occurrence of a build path FROM, as a whole directory prefix (followed by `/`,
 * NUL or the end), in the sections that hold strings (.debug_str, .debug_line_str, .debug_line,
 * .debug_info inline strings, .rodata*, .comment, .dynstr with RPATH/RUNPATH, .strtab,
 * .gnu_debuglink) becomes TO padded with `/` to the same length (`/build` + `//////...`: an
 * equivalent path), so no offset or size in the file changes. Code, relocations and every other
 * section are never touched. When anything changed, the GNU build-id is recomputed from the
 * normalized content (see buildId below), so two builds in different directories get the same id.
 * Left unchanged, with a warning: a file where TO is longer than the FROM it replaces; compressed
 * debug sections (SHF_COMPRESSED) holding a build path are left as they are, with a warning.
 * Errors: headers or sections that run past the end of the file.
 */
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { Handler, HandlerContext } from '../src/handler.js';
import { forEachChunk, readExactSync, type Sink, type Source } from '../src/io.js';
import { OutputPlan } from '../src/plan.js';
import { ET_REL, SHF_COMPRESSED, SHT_NOBITS, SHT_NOTE, isElf, readElf, type ElfFile, type ElfSection } from '../src/elf.js';
import { canonicalizeStringTables } from '../src/dwarf.js';
import type { BuildPath } from '../src/options.js';

const STRING_SECTIONS = /^(?:\.debug_str|\.debug_line_str|\.debug_line|\.debug_info|\.rodata(?:\..*)?|\.comment|\.dynstr|\.strtab|\.gnu_debuglink)$/;
const NT_GNU_BUILD_ID = 3;

/** TO, padded with slashes to FROM's length: an equivalent directory path of the same size. */
export function paddedPath(p: BuildPath): Buffer | undefined {
  const from = Buffer.from(p.from);
  const to = Buffer.from(p.to);
  if (to.length > from.length) return undefined;
  return Buffer.concat([to, Buffer.alloc(from.length - to.length, '/')]);
}

/** Replace whole-directory occurrences of each build path in `data` (in place). */
function rewriteStrings(data: Buffer, paths: readonly BuildPath[], tooLong: Set<string>): boolean {
  let changed = false;
  for (const p of paths) {
    const from = Buffer.from(p.from);
    for (let at = data.indexOf(from); at >= 0; at = data.indexOf(from, at + 1)) {
      const next = data[at + from.length];
      if (!(next === undefined || next === 0x2f || next === 0)) continue;
      const to = paddedPath(p);
      if (!to) {
        tooLong.add(p.from);
        continue;
      }
      to.copy(data, at);
      changed = true;
    }
  }
  return changed;
}

/** Where the GNU build-id bytes are: [offset, length] in the file, if there is one. */
function findBuildId(src: Source, elf: ElfFile): [number, number] | undefined {
  const u32 = (b: Buffer, o: number) => (elf.le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  for (const s of elf.sections) {
    if (s.type !== SHT_NOTE || s.size === 0) continue;
    const notes = readExactSync(src, s.offset, s.size, 'ELF note section');
    for (let pos = 0; pos + 12 <= notes.length; ) {
      const namesz = u32(notes, pos);
      const descsz = u32(notes, pos + 4);
      const type = u32(notes, pos + 8);
      const name = pos + 12;
      const desc = name + ((namesz + 3) & ~3);
      if (desc + descsz > notes.length) break;
      if (type === NT_GNU_BUILD_ID && notes.toString('latin1', name, name + namesz) === 'GNU\0' && descsz > 0) return [s.offset + desc, descsz];
      pos = desc + ((descsz + 3) & ~3);
    }
  }
  return undefined;
}

/**
 * The new build-id, as debugedit --build-id computes it: a digest (SHA-1 for 20-byte ids, MD5 for
 * 16, SHA-256 otherwise, cut to the id's size) over the ELF header with e_phoff and e_shoff
 * zeroed, the program headers, and for each section in order its contents (none for NOBITS; the
 * build-id bytes themselves zeroed) and its header with sh_offset zeroed. All fields as they are
 * in the file (its own byte order and class).
 */
async function buildId(src: Source, elf: ElfFile, patched: Map<number, Buffer>, read: ReadSection, id: [number, number]): Promise<Buffer> {
  const hash = createHash(id[1] === 20 ? 'sha1' : id[1] === 16 ? 'md5' : 'sha256');
  const eh = Buffer.from(readExactSync(src, 0, elf.ehsize, 'ELF header'));
  eh.fill(0, elf.is64 ? 32 : 28, elf.is64 ? 48 : 36); // e_phoff, e_shoff
  hash.update(eh);
  if (elf.phnum) hash.update(readExactSync(src, elf.phoff, elf.phnum * elf.phentsize, 'ELF program headers'));
  for (const s of elf.sections) {
    if (s.type !== SHT_NOBITS && s.size > 0) {
      const own = patched.get(s.index);
      const inside = id[0] >= s.offset && id[0] + id[1] <= s.offset + s.size;
      if (own || inside) {
        const data = Buffer.from(own ?? read(s));
        if (inside) data.fill(0, id[0] - s.offset, id[0] - s.offset + id[1]);
        hash.update(data);
      } else {
        await forEachChunk(src, s.offset, s.size, (chunk) => void hash.update(chunk));
      }
    }
    const h = Buffer.from(readExactSync(src, s.headerOffset, elf.shentsize, 'ELF section header'));
    h.fill(0, elf.is64 ? 24 : 16, elf.is64 ? 32 : 20); // sh_offset
    hash.update(h);
  }
  const digest = hash.digest();
  return Buffer.concat([digest, Buffer.alloc(Math.max(0, id[1] - digest.length))]).subarray(0, id[1]);
}

/** Does a compressed section (ELF Chdr + zlib) contain one of the paths? */
function compressedHolds(data: Buffer, elf: ElfFile, paths: readonly BuildPath[]): boolean {
  try {
    const plain = zlib.inflateSync(data.subarray(elf.is64 ? 24 : 12));
    return paths.some((p) => plain.includes(Buffer.from(p.from)));
  } catch {
    return false;
  }
}

/** A section's bytes as they are in the input, read once per file. */
type ReadSection = (s: ElfSection) => Buffer;

const DWARF_SECTIONS = ['.debug_info', '.debug_abbrev', '.debug_line', '.debug_str', '.debug_line_str', '.debug_str_offsets'];

/**
 * gcc orders .debug_str and .debug_line_str by a hash of their strings, so the build path changes
 * the order; sort them (src/dwarf.ts) so two builds in different directories agree. Linked files
 * only, and only when none of the DWARF sections involved is compressed.
 */
function sortStringTables(file: ElfFile, patched: Map<number, Buffer>, read: ReadSection, ctx: HandlerContext): void {
  if (file.type === ET_REL) return;
  const byName = new Map(file.sections.filter((s) => s.type !== SHT_NOBITS && s.size > 0).map((s) => [s.name, s]));
  if (DWARF_SECTIONS.some((n) => byName.get(n) && byName.get(n)!.flags & SHF_COMPRESSED)) return;
  const copies = new Map<number, Buffer>();
  const get = (name: string): Buffer | undefined => {
    const s = byName.get(name);
    if (!s) return undefined;
    let b = copies.get(s.index);
    if (!b) copies.set(s.index, (b = Buffer.from(patched.get(s.index) ?? read(s))));
    return b;
  };
  const result = canonicalizeStringTables({ le: file.le, get });
  if ('unsupported' in result) {
    ctx.warn(`${ctx.name}: DWARF string tables left in their order (${result.unsupported})`);
    return;
  }
  for (const [index, data] of copies) {
    const before = patched.get(index) ?? read(file.sections[index]);
    if (!data.equals(before)) patched.set(index, data);
  }
}

export const elf: Handler = {
  name: 'elf',
  defaultEnabled: true,
  beyondPerl: true,
  matchName: () => true,
  detect: (head) => isElf(head),

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    const paths = ctx.options.buildPaths ?? [];
    if (paths.length === 0) return false;
    const file = readElf(src);
    const patched = new Map<number, Buffer>();
    const tooLong = new Set<string>();
    const original = new Map<number, Buffer>();
    const read: ReadSection = (s) => {
      let b = original.get(s.index);
      if (!b) original.set(s.index, (b = readExactSync(src, s.offset, s.size, `ELF section ${s.name}`)));
      return b;
    };
    const sections: ElfSection[] = file.sections.filter((s) => s.index > 0 && s.type !== SHT_NOBITS && s.size > 0 && STRING_SECTIONS.test(s.name));
    for (const s of sections) {
      const data = Buffer.from(read(s));
      if (s.flags & SHF_COMPRESSED) {
        if (compressedHolds(data, file, paths)) ctx.warn(`${ctx.name}: compressed section ${s.name} holds a build path; left unchanged`);
        continue;
      }
      if (rewriteStrings(data, paths, tooLong)) patched.set(s.index, data);
    }
    if (tooLong.size) {
      ctx.warn(`${ctx.name}: the replacement for ${[...tooLong].join(', ')} is longer than the path itself; file left unchanged`);
      return false;
    }
    if (patched.size === 0) return false;
    sortStringTables(file, patched, read, ctx);

    const edits: [number, Buffer][] = [...patched].map(([i, data]) => [file.sections[i].offset, data]);
    const id = findBuildId(src, file);
    if (id) edits.push([id[0], await buildId(src, file, patched, read, id)]);
    edits.sort((a, b) => a[0] - b[0]);
    const plan = new OutputPlan(src);
    let pos = 0;
    for (const [offset, data] of edits) {
      plan.copy(pos, offset - pos);
      plan.put(data);
      pos = offset + data.length;
    }
    plan.copy(pos, src.size - pos);
    return plan.commit(sink);
  },
};
