/**
 * Windows PE/COFF images (`pe` normalizer: .exe, .dll, .sys, .efi, .pyd... found by their bytes,
 * `MZ` then `PE\0\0`, whatever the name). Not in the Perl tool; off in dh_strip_nondeterminism.
 *
 * Changes, in place (nothing moves):
 *  - the TimeDateStamps of the COFF header, the export directory, every resource directory and
 *    every debug directory entry: T, or 0 when T is unset (GNU ld's --no-insert-timestamp value:
 *    the field is an identifier, not a time anyone reads; with --clamp-timestamp older stamps stay);
 *  - with --build-path / --hostname: every occurrence in the file, same length as in ELF (the
 *    CodeView PDB path, DWARF from mingw's -g, __FILE__ strings);
 *  - DWARF string tables (mingw's -g) in content order, references rewritten (elf/dwarf.ts);
 *  - the CodeView (RSDS) record's GUID and age: derived from the normalized image, as lld's
 *    /Brepro does (GUID = the first 16 bytes of the SHA-256 of the image with GUID, age and
 *    CheckSum zeroed; age 1), so a debugger still pairs the image with a PDB made the same way;
 *  - the optional header's CheckSum, recomputed when it was not 0 (a kernel driver's must match).
 * Keeps: everything else, byte for byte. Errors: headers or tables past the end of the file.
 * A replacement path longer than the original leaves the file unchanged with a warning.
 */
import type { Handler, HandlerContext } from '../../src/kit/handler.js';
import { readAll, type Sink, type Source } from '../../src/kit/io.js';
import { crypto } from '../../src/kit/builtins.js';
import { scrubInPlace, scrubs } from '../../src/kit/build-paths-and-hostnames.js';
import { canonicalizeStringTables } from '../elf/dwarf.js';
import { DIR_DEBUG, DIR_EXPORT, DIR_RESOURCE, isPe, peChecksum, readPe, type PeImage, type Section } from './image.js';

const DEBUG_ENTRY = 28;
const CODEVIEW = 2;
const RSDS = 0x53445352;

/** Where each TimeDateStamp field of the image is. */
function stampOffsets(data: Buffer, image: PeImage): number[] {
  const at = [image.timeDateStamp];
  const exp = image.directory(DIR_EXPORT);
  const expAt = exp.size >= 40 ? image.offsetOf(exp.rva, 40) : undefined;
  if (expAt !== undefined) at.push(expAt + 4);
  const res = image.directory(DIR_RESOURCE);
  const resAt = res.size >= 16 ? image.offsetOf(res.rva, res.size) : undefined;
  if (resAt !== undefined) resourceStamps(data, resAt, res.size, at);
  for (const entry of debugEntries(data, image)) at.push(entry + 4);
  return at;
}

/** The TimeDateStamp of every directory of the resource tree at `root` (`size` bytes). */
function resourceStamps(data: Buffer, root: number, size: number, out: number[]): void {
  const seen = new Set<number>();
  const walk = (dir: number, depth: number) => {
    if (depth > 8 || seen.has(dir) || dir + 16 > size) return;
    seen.add(dir);
    out.push(root + dir + 4);
    const count = data.readUInt16LE(root + dir + 12) + data.readUInt16LE(root + dir + 14);
    for (let i = 0; i < count; i++) {
      const entry = dir + 16 + 8 * i;
      if (entry + 8 > size) return;
      const target = data.readUInt32LE(root + entry + 4);
      if (target & 0x80000000) walk(target & 0x7fffffff, depth + 1);
    }
  };
  walk(0, 0);
}

/** File offsets of the debug directory's entries. */
function debugEntries(data: Buffer, image: PeImage): number[] {
  const dbg = image.directory(DIR_DEBUG);
  const at = dbg.size >= DEBUG_ENTRY ? image.offsetOf(dbg.rva, dbg.size) : undefined;
  if (at === undefined) return [];
  return Array.from({ length: Math.floor(dbg.size / DEBUG_ENTRY) }, (_, i) => at + DEBUG_ENTRY * i);
}

/** The RSDS records' GUID offsets (age follows the 16-byte GUID). */
function codeViewGuids(data: Buffer, image: PeImage): number[] {
  const guids: number[] = [];
  for (const entry of debugEntries(data, image)) {
    if (data.readUInt32LE(entry + 12) !== CODEVIEW) continue;
    const raw = data.readUInt32LE(entry + 24);
    if (data.readUInt32LE(entry + 16) >= 24 && raw + 24 <= data.length && data.readUInt32LE(raw) === RSDS) guids.push(raw + 4);
  }
  return guids;
}

/** DWARF from mingw's -g: the string tables in content order, as for ELF (elf/dwarf.ts), so the
 *  linker's hash order of the (rewritten) paths does not show. Worked on copies, written back
 *  only when every reference could be followed; otherwise returns why not. */
function sortDwarfStrings(data: Buffer, image: PeImage): string | undefined {
  const debug = new Map(image.sections.filter((s) => s.name.startsWith('.debug_')).map((s) => [s.name, s]));
  if (!debug.has('.debug_str') && !debug.has('.debug_line_str')) return undefined;
  const copies = new Map<string, Buffer>();
  const extent = (s: Section) => [s.rawOffset, s.rawOffset + Math.min(s.rawSize, s.virtualSize || s.rawSize)];
  const get = (name: string) => {
    const s = debug.get(name);
    if (!s) return undefined;
    if (!copies.has(name)) {
      const [from, to] = extent(s);
      copies.set(name, Buffer.from(data.subarray(from, Math.min(to, data.length))));
    }
    return copies.get(name);
  };
  const result = canonicalizeStringTables({ le: true, get });
  if ('unsupported' in result) return `DWARF string tables left in their order (${result.unsupported})`;
  for (const [name, copy] of copies) copy.copy(data, extent(debug.get(name)!)[0]);
  return undefined;
}

function stampValue(old: number, ctx: HandlerContext): number {
  const T = ctx.options.timestamp;
  if (T !== undefined && ctx.options.clamp && old <= T) return old;
  return T === undefined ? 0 : T >>> 0;
}

/** One pass over a copy of `original`, with what it could not do (`notes`); a string when the
 *  file must stay as it is (and why). */
function transform(original: Buffer, ctx: HandlerContext, notes: string[] = []): Buffer | string {
  const data = Buffer.from(original);
  const image = readPe(data);
  for (const at of stampOffsets(data, image)) data.writeUInt32LE(stampValue(data.readUInt32LE(at), ctx), at);
  if (scrubs(ctx.options)) {
    const tooLong = new Set<string>();
    scrubInPlace(data, ctx.options, tooLong);
    if (tooLong.size) return `the replacement for ${[...tooLong].join(', ')} is longer than what it replaces`;
  }
  const unsorted = sortDwarfStrings(data, image);
  if (unsorted) notes.push(unsorted);
  const hadChecksum = data.readUInt32LE(image.checkSum) !== 0;
  data.writeUInt32LE(0, image.checkSum);
  const guids = codeViewGuids(data, image);
  if (guids.length) {
    for (const g of guids) data.fill(0, g, g + 20);
    const digest = crypto().createHash('sha256').update(data).digest();
    for (const g of guids) {
      digest.copy(data, g, 0, 16);
      data.writeUInt32LE(1, g + 16);
    }
  }
  if (hadChecksum) data.writeUInt32LE(peChecksum(data), image.checkSum);
  return data;
}

async function normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
  const original = await readAll(src);
  const notes: string[] = [];
  const once = transform(original, ctx, notes);
  // Headers, tables and records that overlap (a damaged image) could make each pass change
  // what the last one wrote: only a fixed point is written.
  const twice = typeof once === 'string' ? once : transform(once, ctx);
  const why = typeof once === 'string' ? once : typeof twice === 'string' || !twice.equals(once) ? 'its headers, tables or records overlap, so it has no normalized form' : undefined;
  if (why) {
    ctx.keep(`${ctx.name}: ${why}; file left unchanged`);
    return false;
  }
  for (const note of notes) ctx.warn(`${ctx.name}: ${note}`);
  const out = once as Buffer;
  if (out.equals(original)) return false;
  await sink.write(out);
  return true;
}

export const pe: Handler = {
  name: 'pe',
  defaultEnabled: true,
  beyondPerl: true,
  files: 'PE/COFF images by their bytes (.exe, .dll, .sys, .efi, .pyd...)',
  matchName: () => true,
  detect: (head) => isPe(head),
  normalize,
};
