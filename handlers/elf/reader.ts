/**
 * A small ELF reader: the file header, the section header table and section names, for 32- and
 * 64-bit files in either byte order, with every offset checked against the file size. It reads no
 * more than the handler needs to rewrite strings in place, from a Source (so a 1 GB debug file is
 * not loaded whole). Why not elfy: docs/dependencies.md.
 */
import { FormatError } from '../../src/kit/errors.js';
import type { Source } from '../../src/kit/io.js';
import { readExactSync } from '../../src/kit/io.js';

export const ELF_MAGIC = '\x7fELF';
export const SHT_NOBITS = 8;
export const SHT_NOTE = 7;
export const SHT_SYMTAB = 2;
export const SHT_RELA = 4;
export const SHT_REL = 9;
export const SHF_ALLOC = 0x2;
export const SHF_COMPRESSED = 0x800;
export const ELFCOMPRESS_ZLIB = 1;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  /** sh_link, sh_info, sh_addralign, sh_entsize. */
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** Where this section's header sits in the file, and its length (for hashing). */
  headerOffset: number;
}

export const ET_REL = 1;

export interface ElfFile {
  is64: boolean;
  /** e_type: 1 relocatable, 2 executable, 3 shared object, 4 core. */
  type: number;
  le: boolean;
  /** e_machine (3 i386, 40 ARM, 62 x86-64, ...). */
  machine: number;
  ehsize: number;
  phoff: number;
  phentsize: number;
  phnum: number;
  shoff: number;
  shentsize: number;
  sections: ElfSection[];
  /** The file range of each program header (p_offset, p_filesz). */
  segments: { offset: number; filesz: number }[];
}

export function isElf(head: Buffer): boolean {
  return head.length >= 20 && head.toString('latin1', 0, 4) === ELF_MAGIC && (head[4] === 1 || head[4] === 2) && (head[5] === 1 || head[5] === 2);
}

export function readElf(src: Source): ElfFile {
  const id = readExactSync(src, 0, 16, 'ELF identification');
  if (!isElf(Buffer.concat([id, Buffer.alloc(4)]))) throw new FormatError('not an ELF file (bad identification bytes)', 0);
  const is64 = id[4] === 2;
  const le = id[5] === 1;
  const ehsize = is64 ? 64 : 52;
  const eh = readExactSync(src, 0, ehsize, 'ELF header');
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const addr = (b: Buffer, o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
  const phoff = addr(eh, is64 ? 32 : 28);
  const shoff = addr(eh, is64 ? 40 : 32);
  const phentsize = u16(eh, is64 ? 54 : 42);
  const phnum = u16(eh, is64 ? 56 : 44);
  const shentsize = u16(eh, is64 ? 58 : 46);
  let shnum = u16(eh, is64 ? 60 : 48);
  let shstrndx = u16(eh, is64 ? 62 : 50);
  if (phnum && phoff + phnum * phentsize > src.size) throw new FormatError('ELF program headers run past the end of the file', phoff);
  const elf: ElfFile = { is64, le, type: u16(eh, 16), machine: u16(eh, 18), ehsize, phoff, phentsize, phnum, shoff, shentsize, sections: [], segments: [] };
  if (phnum && phentsize < (is64 ? 56 : 32)) throw new FormatError(`ELF program header size ${phentsize} is too small`, is64 ? 54 : 42);
  for (let i = 0; i < phnum; i++) {
    const ph = readExactSync(src, phoff + i * phentsize, is64 ? 56 : 32, 'ELF program header');
    elf.segments.push({ offset: addr(ph, is64 ? 8 : 4), filesz: addr(ph, is64 ? 32 : 16) });
  }
  if (shoff === 0) return elf; // no section table: nothing we rewrite
  if (shentsize !== (is64 ? 64 : 40)) throw new FormatError(`ELF section header size ${shentsize} is wrong`, is64 ? 58 : 46);
  if (shoff + shentsize > src.size) throw new FormatError('ELF section table starts past the end of the file', shoff);
  const first = readExactSync(src, shoff, shentsize, 'ELF section header');
  // Extended numbering: counts too large for the header live in section 0.
  if (shnum === 0) shnum = Number(is64 ? (le ? first.readBigUInt64LE(32) : first.readBigUInt64BE(32)) : u32(first, 20));
  if (shstrndx === 0xffff) shstrndx = u32(first, is64 ? 40 : 24);
  if (shoff + shnum * shentsize > src.size) throw new FormatError(`ELF section table (${shnum} entries) runs past the end of the file`, shoff);
  const raw: (Omit<ElfSection, 'name'> & { nameOffset: number })[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    const h = readExactSync(src, at, shentsize, 'ELF section header');
    const s = {
      index: i,
      nameOffset: u32(h, 0),
      type: u32(h, 4),
      flags: is64 ? Number(le ? h.readBigUInt64LE(8) : h.readBigUInt64BE(8)) : u32(h, 8),
      offset: addr(h, is64 ? 24 : 16),
      size: addr(h, is64 ? 32 : 20),
      link: u32(h, is64 ? 40 : 24),
      info: u32(h, is64 ? 44 : 28),
      addralign: addr(h, is64 ? 48 : 32),
      entsize: addr(h, is64 ? 56 : 36),
      headerOffset: at,
    };
    if (i > 0 && s.type !== SHT_NOBITS && s.offset + s.size > src.size) {
      throw new FormatError(`ELF section ${i} (${s.size} bytes at ${s.offset}) runs past the end of the file`, at);
    }
    raw.push(s);
  }
  if (shstrndx >= raw.length) throw new FormatError(`ELF section-name table index ${shstrndx} is out of range`, is64 ? 62 : 50);
  const names = raw[shstrndx];
  const table = names.type === SHT_NOBITS ? Buffer.alloc(0) : readExactSync(src, names.offset, names.size, 'ELF section names');
  elf.sections = raw.map(({ nameOffset, ...s }) => {
    if (nameOffset >= table.length && !(s.index === 0 && nameOffset === 0)) throw new FormatError(`ELF section ${s.index} name is out of range`, s.headerOffset);
    const end = table.indexOf(0, nameOffset);
    return { ...s, name: table.toString('latin1', nameOffset, end < 0 ? table.length : end) };
  });
  return elf;
}
