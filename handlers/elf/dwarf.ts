/**
 * DWARF string tables in a fixed order. gcc writes .debug_str and .debug_line_str in the order of
 * a hash of the strings, so a build path (even once rewritten to the same canonical bytes) leaves
 * two builds with differently ordered tables. This module reorders each table's NUL-terminated
 * strings by content (same strings, same total size, so nothing else in the file moves) and
 * rewrites every reference to them: DW_FORM_strp / line_strp in .debug_info (DWARF 2-5, 32- and
 * 64-bit units, DW_FORM_indirect, implicit_const), strp / line_strp in DWARF 5 .debug_line headers,
 * .debug_str_offsets entries, and the strp opcodes of .debug_macro (gcc -g3).
 *
 * It works on linked files; in relocatable objects the references are relocation addends, which
 * src/elfrel.ts rewrites with sortStrings() from here. Anything it cannot walk with certainty (an
 * unknown form or macro opcode, .debug_names, .debug_types) makes it give up, and the caller keeps
 * the file as the path rewrite left it.
 */

export interface DwarfSections {
  le: boolean;
  get(name: string): Buffer | undefined;
}

interface Site {
  buf: Buffer;
  pos: number;
  size: 4 | 8;
  table: '.debug_str' | '.debug_line_str';
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    private readonly le: boolean,
  ) {}
  u8(): number {
    if (this.pos >= this.buf.length) throw new RangeError('past end');
    return this.buf[this.pos++];
  }
  u16(): number {
    const v = this.le ? this.buf.readUInt16LE(this.pos) : this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.le ? this.buf.readUInt32LE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): number {
    const v = Number(this.le ? this.buf.readBigUInt64LE(this.pos) : this.buf.readBigUInt64BE(this.pos));
    this.pos += 8;
    return v;
  }
  offset(size: 4 | 8): number {
    return size === 4 ? this.u32() : this.u64();
  }
  uleb(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return result;
      mul *= 128;
    }
  }
  sleb(): void {
    while (this.u8() & 0x80);
  }
  skip(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('past end');
    this.pos += n;
  }
  cstring(): void {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new RangeError('unterminated string');
    this.pos = end + 1;
  }
  /** Unit length; returns [offsetSize, end]. */
  unit(): [4 | 8, number] {
    let len = this.u32();
    let size: 4 | 8 = 4;
    if (len === 0xffffffff) {
      len = this.u64();
      size = 8;
    }
    return [size, this.pos + len];
  }
}

class Unsupported extends Error {}

/** Skip (or record) one attribute value of `form`. */
function readForm(r: Reader, form: number, offsetSize: 4 | 8, addrSize: number, version: number, sites: Site[]): void {
  const site = (table: Site['table']) => {
    sites.push({ buf: r.buf, pos: r.pos, size: offsetSize, table });
    r.skip(offsetSize);
  };
  switch (form) {
    case 0x01: return r.skip(addrSize); // addr
    case 0x03: return r.skip(r.u16()); // block2
    case 0x04: return r.skip(r.u32()); // block4
    case 0x05: return r.skip(2);
    case 0x06: return r.skip(4);
    case 0x07: return r.skip(8);
    case 0x08: return r.cstring(); // string
    case 0x09: case 0x18: return r.skip(r.uleb()); // block, exprloc
    case 0x0a: return r.skip(r.u8()); // block1
    case 0x0b: case 0x0c: case 0x11: case 0x25: case 0x29: return r.skip(1);
    case 0x0d: return r.sleb();
    case 0x0e: return site('.debug_str'); // strp
    case 0x1f: return site('.debug_line_str'); // line_strp
    case 0x0f: case 0x15: case 0x1a: case 0x1b: case 0x22: case 0x23: case 0x1f01: case 0x1f02: return void r.uleb();
    case 0x10: return r.skip(version <= 2 ? addrSize : offsetSize); // ref_addr
    case 0x12: case 0x26: case 0x2a: return r.skip(2);
    case 0x27: case 0x2b: return r.skip(3);
    case 0x13: case 0x1c: case 0x28: case 0x2c: return r.skip(4);
    case 0x14: case 0x20: case 0x24: return r.skip(8);
    case 0x17: case 0x1d: case 0x1f20: case 0x1f21: return r.skip(offsetSize); // sec_offset, strp_sup, GNU alt refs
    case 0x19: case 0x21: return; // flag_present, implicit_const
    case 0x1e: return r.skip(16);
    case 0x16: return readForm(r, r.uleb(), offsetSize, addrSize, version, sites); // indirect
    default:
      throw new Unsupported(`DWARF form 0x${form.toString(16)}`);
  }
}

type Abbrev = { children: boolean; attrs: number[] };

function readAbbrevs(abbrev: Buffer, offset: number, le: boolean): Map<number, Abbrev> {
  const r = new Reader(abbrev, offset, le);
  const table = new Map<number, Abbrev>();
  for (;;) {
    const code = r.uleb();
    if (code === 0) return table;
    r.uleb(); // tag
    const children = r.u8() === 1;
    const attrs: number[] = [];
    for (;;) {
      const name = r.uleb();
      const form = r.uleb();
      if (name === 0 && form === 0) break;
      if (form === 0x21) r.sleb(); // implicit_const value lives here
      attrs.push(form);
    }
    table.set(code, { children, attrs });
  }
}

function infoSites(info: Buffer, abbrev: Buffer, le: boolean, sites: Site[]): void {
  const r = new Reader(info, 0, le);
  const cache = new Map<number, Map<number, Abbrev>>();
  while (r.pos < info.length) {
    const [offsetSize, end] = r.unit();
    const version = r.u16();
    let abbrevOffset: number;
    let addrSize: number;
    if (version >= 5) {
      const unitType = r.u8();
      addrSize = r.u8();
      abbrevOffset = r.offset(offsetSize);
      if (unitType === 0x04 || unitType === 0x05) r.skip(8); // skeleton / split_compile: dwo_id
      else if (unitType === 0x02 || unitType === 0x06) r.skip(8 + offsetSize); // type units
    } else if (version >= 2) {
      abbrevOffset = r.offset(offsetSize);
      addrSize = r.u8();
    } else {
      throw new Unsupported(`DWARF version ${version}`);
    }
    let abbrevs = cache.get(abbrevOffset);
    if (!abbrevs) cache.set(abbrevOffset, (abbrevs = readAbbrevs(abbrev, abbrevOffset, le)));
    while (r.pos < end) {
      const code = r.uleb();
      if (code === 0) continue;
      const a = abbrevs.get(code);
      if (!a) throw new Unsupported(`DWARF abbreviation ${code} missing`);
      for (const form of a.attrs) readForm(r, form, offsetSize, addrSize, version, sites);
    }
    r.pos = end;
  }
}

function lineSites(line: Buffer, le: boolean, sites: Site[]): void {
  const r = new Reader(line, 0, le);
  while (r.pos < line.length) {
    const [offsetSize, end] = r.unit();
    const version = r.u16();
    if (version >= 5) {
      const addrSize = r.u8();
      r.skip(1); // segment selector size
      r.offset(offsetSize); // header_length
      r.skip(5); // min_inst_length, max_ops, default_is_stmt, line_base, line_range
      const opcodeBase = r.u8();
      r.skip(opcodeBase - 1);
      for (let table = 0; table < 2; table++) {
        const formats: number[] = [];
        const count = r.u8();
        for (let i = 0; i < count; i++) {
          r.uleb(); // content type
          formats.push(r.uleb());
        }
        const n = r.uleb();
        for (let i = 0; i < n; i++) for (const form of formats) readForm(r, form, offsetSize, addrSize, version, sites);
      }
    }
    r.pos = end; // v2-4 headers hold their strings inline
  }
}

/**
 * .debug_macro (gcc -g3; DWARF 5 and the GNU version 4 extension): units one after another, each a
 * header then opcodes up to a 0. The strp opcodes point into .debug_str.
 */
function macroSites(macro: Buffer, le: boolean, sites: Site[]): void {
  const r = new Reader(macro, 0, le);
  while (r.pos < macro.length) {
    const version = r.u16();
    if (version !== 4 && version !== 5) throw new Unsupported(`.debug_macro version ${version}`);
    const flags = r.u8();
    const offsetSize: 4 | 8 = flags & 1 ? 8 : 4;
    if (flags & 2) r.skip(offsetSize); // debug_line_offset
    const operands = new Map<number, number[]>();
    if (flags & 4) {
      for (let n = r.u8(); n > 0; n--) {
        const op = r.u8();
        const forms: number[] = [];
        for (let k = r.uleb(); k > 0; k--) forms.push(r.u8());
        operands.set(op, forms);
      }
    }
    for (let op = r.u8(); op !== 0; op = r.u8()) {
      const forms = operands.get(op);
      if (forms) {
        for (const form of forms) readForm(r, form, offsetSize, 8, version, sites);
        continue;
      }
      switch (op) {
        case 0x01: case 0x02: r.uleb(); r.cstring(); break; // define, undef
        case 0x03: case 0x0b: case 0x0c: r.uleb(); r.uleb(); break; // start_file, define_strx, undef_strx
        case 0x04: break; // end_file
        case 0x05: case 0x06: // define_strp, undef_strp
          r.uleb();
          sites.push({ buf: macro, pos: r.pos, size: offsetSize, table: '.debug_str' });
          r.skip(offsetSize);
          break;
        case 0x07: case 0x0a: r.skip(offsetSize); break; // import, import_sup
        case 0x08: case 0x09: r.uleb(); r.skip(offsetSize); break; // define_sup, undef_sup
        default:
          throw new Unsupported(`.debug_macro opcode 0x${op.toString(16)}`);
      }
    }
  }
}

/** A string table's NUL-terminated strings sorted by content, and where each old offset went. */
export interface StringOrder {
  out: Buffer;
  /** The new offset of an old one (possibly pointing into the middle of a string). */
  locate(offset: number): number;
}

export function sortStrings(buf: Buffer): StringOrder {
  // The table's strings, each with its start; sorted by content (ties by position).
  const starts: number[] = [];
  for (let p = 0; p < buf.length; ) {
    starts.push(p);
    const nul = buf.indexOf(0, p);
    p = nul < 0 ? buf.length : nul + 1;
  }
  const strings = starts.map((s, i) => buf.subarray(s, i + 1 < starts.length ? starts[i + 1] : buf.length));
  const order = strings.map((_, i) => i).sort((a, b) => Buffer.compare(strings[a], strings[b]) || a - b);
  const out = Buffer.alloc(buf.length);
  const newStart = new Array<number>(strings.length);
  const firstOf = new Map<string, number>();
  let at = 0;
  for (const i of order) {
    const key = strings[i].toString('latin1');
    newStart[i] = firstOf.get(key) ?? at; // identical strings: every reference goes to the first
    if (!firstOf.has(key)) firstOf.set(key, at);
    strings[i].copy(out, at);
    at += strings[i].length;
  }
  const locate = (off: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= off) lo = mid;
      else hi = mid - 1;
    }
    return newStart[lo] + (off - starts[lo]);
  };
  return { out, locate };
}

/** Reorder `.debug_str` and `.debug_line_str` and rewrite every reference. Returns the names of
 *  the sections it changed, or a reason it could not. */
export function canonicalizeStringTables(dw: DwarfSections): { changed: string[] } | { unsupported: string } {
  for (const name of ['.debug_names', '.debug_types']) if (dw.get(name)) return { unsupported: `${name} present` };
  const sites: Site[] = [];
  try {
    const info = dw.get('.debug_info');
    const abbrev = dw.get('.debug_abbrev');
    if (info && abbrev) infoSites(info, abbrev, dw.le, sites);
    const line = dw.get('.debug_line');
    if (line) lineSites(line, dw.le, sites);
    const macro = dw.get('.debug_macro');
    if (macro) macroSites(macro, dw.le, sites);
  } catch (e) {
    if (e instanceof Unsupported || e instanceof RangeError) return { unsupported: e.message };
    throw e;
  }
  const offsets = dw.get('.debug_str_offsets');
  if (offsets) {
    // DWARF 5 header (length, version, padding) then 4- or 8-byte entries.
    const r = new Reader(offsets, 0, dw.le);
    while (r.pos < offsets.length) {
      const [size, end] = r.unit();
      r.skip(4);
      for (; r.pos + size <= end; r.pos += size) sites.push({ buf: offsets, pos: r.pos, size, table: '.debug_str' });
      r.pos = end;
    }
  }
  const changed: string[] = [];
  for (const table of ['.debug_str', '.debug_line_str'] as const) {
    const buf = dw.get(table);
    if (!buf) continue;
    const { out, locate } = sortStrings(buf);
    let touched = !out.equals(buf);
    const read = (x: Site) => (x.size === 4 ? (dw.le ? x.buf.readUInt32LE(x.pos) : x.buf.readUInt32BE(x.pos)) : Number(dw.le ? x.buf.readBigUInt64LE(x.pos) : x.buf.readBigUInt64BE(x.pos)));
    const mine = sites.filter((x) => x.table === table);
    // Every reference is checked before any is rewritten: a bad one leaves all as they were.
    for (const x of mine) if (read(x) >= buf.length) return { unsupported: `${table} reference ${read(x)} out of range` };
    for (const x of mine) {
      const old = read(x);
      const now = locate(old);
      if (now === old) continue;
      touched = true;
      if (x.size === 4) dw.le ? x.buf.writeUInt32LE(now, x.pos) : x.buf.writeUInt32BE(now, x.pos);
      else dw.le ? x.buf.writeBigUInt64LE(BigInt(now), x.pos) : x.buf.writeBigUInt64BE(BigInt(now), x.pos);
    }
    if (touched) {
      out.copy(buf);
      changed.push(table);
    }
  }
  return { changed };
}
