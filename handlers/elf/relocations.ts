/**
 * String tables in relocatable objects (`.o`, and the members of `.a` archives). gcc writes
 * .debug_str and .debug_line_str in the order of a hash of their strings, and in an object every
 * reference to them is a relocation against the table's section symbol whose addend is the
 * string's offset (the linker needs them all, so none is missed). Sorting a table by content
 * (src/dwarf.ts sortStrings) and moving each addend with it gives two builds in different
 * directories the same bytes, without walking any DWARF.
 *
 * RELA addends are in the relocation entries; REL addends are in the relocated section, read for
 * the 32-bit absolute types of i386 and ARM. Anything else pointing into a table (a named symbol
 * defined in it, another REL type, MIPS64's odd r_info) makes it give up.
 */
import { sortStrings } from './dwarf.js';
import { SHT_REL, SHT_RELA, SHT_SYMTAB, type ElfFile, type ElfSection } from './reader.js';

const STT_SECTION = 3;
const EM_MIPS = 8;
/** REL types whose addend is a 32-bit word at r_offset, by e_machine. */
const REL_ABS32: Record<number, number> = { 3: 1 /* R_386_32 */, 40: 2 /* R_ARM_ABS32 */ };
const TABLES = new Set(['.debug_str', '.debug_line_str']);

/**
 * Sort the object's string tables. `content` gives a private, writable copy of a section's
 * plain (decompressed) bytes, or undefined when it cannot. Returns the sections it changed, by
 * index, or why it could not.
 */
export function sortObjectStringTables(file: ElfFile, content: (s: ElfSection) => Buffer | undefined): Map<number, Buffer> | string {
  const tables = file.sections.filter((s) => TABLES.has(s.name) && s.size > 0);
  if (tables.length === 0) return new Map();
  const symtab = file.sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return 'no symbol table';
  if (file.is64 && file.machine === EM_MIPS) return 'MIPS64 relocations';
  const syms = content(symtab);
  if (!syms) return 'unreadable symbol table';
  const { le, is64 } = file;
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number) => (le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const symSize = is64 ? 24 : 16;

  // Which symbols stand for a table: its section symbol; any other symbol inside it is a stop.
  const tableOf = new Map<number, number>(); // symbol index -> table section index
  const tableIndexes = new Set(tables.map((t) => t.index));
  for (let i = 0; (i + 1) * symSize <= syms.length; i++) {
    const at = i * symSize;
    const info = syms[at + (is64 ? 4 : 12)];
    const shndx = le ? syms.readUInt16LE(at + (is64 ? 6 : 14)) : syms.readUInt16BE(at + (is64 ? 6 : 14));
    if (!tableIndexes.has(shndx)) continue;
    if ((info & 0xf) !== STT_SECTION) return `a symbol is defined inside ${file.sections[shndx].name}`;
    tableOf.set(i, shndx);
  }

  const orders = new Map(tables.map((t) => [t.index, { plain: content(t), order: undefined as ReturnType<typeof sortStrings> | undefined }]));
  const changed = new Map<number, Buffer>();
  const edits: (() => void)[] = [];
  for (const rel of file.sections) {
    if ((rel.type !== SHT_RELA && rel.type !== SHT_REL) || rel.link !== symtab.index) continue;
    const rela = rel.type === SHT_RELA;
    const entry = (is64 ? 8 : 4) * (rela ? 3 : 2);
    const target = file.sections[rel.info];
    let entries: Buffer | undefined;
    let targetData: Buffer | undefined;
    const count = Math.floor(rel.size / entry);
    for (let i = 0; i < count; i++) {
      entries ??= content(rel);
      if (!entries) return `unreadable ${rel.name}`;
      const at = i * entry;
      const rInfo = is64 ? u64(entries, at + 8) : BigInt(u32(entries, at + 4));
      const sym = Number(is64 ? rInfo >> 32n : rInfo >> 8n);
      const type = Number(is64 ? rInfo & 0xffffffffn : rInfo & 0xffn);
      const table = tableOf.get(sym);
      if (table === undefined) continue;
      const t = orders.get(table)!;
      if (!t.plain) return `unreadable ${file.sections[table].name}`;
      t.order ??= sortStrings(t.plain);
      const order = t.order;
      const size = t.plain.length;
      const where = `${rel.name} entry ${i}`;
      if (rela) {
        const pos = at + (is64 ? 16 : 8);
        const addend = is64 ? Number(le ? entries.readBigInt64LE(pos) : entries.readBigInt64BE(pos)) : le ? entries.readInt32LE(pos) : entries.readInt32BE(pos);
        if (addend < 0 || addend >= size) return `${where}: addend ${addend} outside the table`;
        const buf = entries;
        edits.push(() => (is64 ? (le ? buf.writeBigInt64LE(BigInt(order.locate(addend)), pos) : buf.writeBigInt64BE(BigInt(order.locate(addend)), pos)) : le ? buf.writeInt32LE(order.locate(addend), pos) : buf.writeInt32BE(order.locate(addend), pos)));
        changed.set(rel.index, entries);
      } else {
        if (REL_ABS32[file.machine] !== type) return `${where}: REL type ${type}`;
        if (!target || rel.info === 0) return `${rel.name} relocates no section`;
        targetData ??= content(target);
        if (!targetData) return `unreadable ${target.name}`;
        const pos = Number(is64 ? u64(entries, at) : u32(entries, at));
        if (pos + 4 > targetData.length) return `${where}: offset past ${target.name}`;
        const addend = u32(targetData, pos);
        if (addend >= size) return `${where}: addend ${addend} outside the table`;
        const buf = targetData;
        edits.push(() => (le ? buf.writeUInt32LE(order.locate(addend), pos) : buf.writeUInt32BE(order.locate(addend), pos)));
        changed.set(target.index, targetData);
      }
    }
  }
  for (const edit of edits) edit();
  for (const [index, t] of orders) {
    if (!t.plain) continue;
    t.order ??= sortStrings(t.plain);
    t.order.out.copy(t.plain);
    changed.set(index, t.plain);
  }
  return changed;
}
