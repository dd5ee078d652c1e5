/**
 * The ar codec, shared by the ar and deb handlers, the elf handler's static libraries and the
 * runner's comparer: one reader of member headers, the GNU symbol-table offset mover, and the
 * archive rewrite that keeps everything but the header fields it is asked to change.
 *
 * Two reading dialects: 'perl' takes header numbers as Perl's numeric conversion does (ar.pm's
 * checks and messages); 'dpkg' wants decimal sizes, as dpkg-deb does, and allows a stray final
 * pad byte.
 */
import { readExact, readExactSync, type Sink, type Source } from '../../src/kit/io.js';
import { OutputPlan } from '../../src/kit/output-plan.js';
import { padRight } from '../../src/kit/binary.js';
import { FormatError } from '../../src/kit/errors.js';
import { formatCtime } from '../../src/kit/time.js';
import { ScratchFile, normalizeMemberInto } from '../../src/kit/scratch-file.js';
import type { HandlerContext, MemberOptions } from '../../src/kit/handler.js';

export const AR_MAGIC = '!<arch>\n';
export const AR_HEADER = 60;

export interface ArMember {
  /** Where the member header starts. */
  pos: number;
  header: Buffer;
  /** The raw 16-byte name field. */
  id: string;
  /** The name field without padding or GNU's trailing slash. */
  name: string;
  size: number;
  /** The mtime field as a number (0 when not one). */
  mtime: number;
  /** Where the next header starts (after the pad byte, if there is one). */
  next: number;
  /** The normalized body, in a scratch file, when it changed. */
  body?: { offset: number; size: number };
}

/** Perl's numeric conversion of a header field: leading blanks, then an optional sign and
 *  digits; anything else counts as 0. */
export function perlNumber(field: string): number {
  const m = /^\s*([-+]?\d+)/.exec(field);
  return m ? parseInt(m[1], 10) : 0;
}

const OCT_PREFIX: Record<string, number> = { x: 16, b: 2, o: 8 };
const OCT_DIGITS: Record<number, string> = { 16: '[0-9a-fA-F]', 2: '[01]', 8: '[0-7]' };

/** Perl's oct(): leading blanks skipped; `0x`/`x` hexadecimal, `0b`/`b` binary, `0o`/`o` or
 *  none octal; an underscore before a digit is skipped; it stops at the first other character. */
export function perlOct(field: string): number {
  const text = field.replace(/^\s+/, '');
  const prefix = /^0?([xXbBoO])/.exec(text);
  const radix = prefix ? OCT_PREFIX[prefix[1].toLowerCase()] : 8;
  const body = prefix ? text.slice(prefix[0].length) : text;
  const digits = new RegExp(`^(?:_?${OCT_DIGITS[radix]})*`).exec(body)![0].replace(/_/g, '');
  return digits ? parseInt(digits, radix) : 0;
}

function memberSize(header: Buffer, pos: number, dialect: 'perl' | 'dpkg'): number {
  const field = header.toString('latin1', 48, 58);
  if (dialect === 'dpkg') {
    if (!/^\d+ *$/.test(field)) throw new FormatError(`bad ar member size ${JSON.stringify(field)}`, pos);
    return Number(field.trim());
  }
  const size = perlNumber(field);
  if (size < 1) throw new FormatError('Incorrect file size', pos);
  return size;
}

/** Every member header of an ar archive (the magic already checked). */
export function readArMembers(src: Source, dialect: 'perl' | 'dpkg' = 'perl'): ArMember[] {
  const members: ArMember[] = [];
  let pos = AR_MAGIC.length;
  while (pos < src.size) {
    if (dialect === 'dpkg' && src.size - pos === 1 && src.readSync(pos, 1)[0] === 0x0a) break;
    if (src.size - pos < AR_HEADER) throw new FormatError(dialect === 'perl' ? 'Incorrect header length' : 'truncated ar member header', pos);
    const header = readExactSync(src, pos, AR_HEADER, 'ar member header');
    if (header.toString('latin1', 58, 60) !== '`\n') throw new FormatError(dialect === 'perl' ? 'Incorrect file magic' : 'bad ar member header magic', pos);
    const size = memberSize(header, pos, dialect);
    const id = header.toString('latin1', 0, 16);
    const name = id.trimEnd().replace(/\/$/, '');
    const dataEnd = pos + AR_HEADER + size;
    if (dataEnd > src.size) {
      throw new FormatError(dialect === 'perl' ? `member data truncated (${size} bytes declared)` : `truncated .deb: member ${name} ends past the end of the file`, pos);
    }
    // Members are padded to an even offset; a missing final pad byte is tolerated.
    const next = Math.min(dataEnd + (size % 2), src.size);
    members.push({ pos, header, id, name, size, mtime: Number(header.toString('latin1', 16, 28).trim()) || 0, next });
    pos = next;
  }
  return members;
}

/** A header as dpkg-deb writes it: mode 100644, owner 0/0, the given mtime. */
export function dpkgHeader(name: string, mtime: number, size: number): Buffer {
  const header = `${name.padEnd(16)}${String(mtime).padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(size).padEnd(10)}\`\n`;
  return padRight(header, AR_HEADER, 'ar header');
}

const isSymbolTable = (id: string) => id.startsWith('/ ') || id.startsWith('/SYM64/ ');
export const isSpecialMember = (id: string) => id.startsWith('/ ') || id.startsWith('// ') || id.startsWith('/SYM64/ ') || id.startsWith('__.SYMDEF');

/** The members' file names (GNU `name/`, or `/N` into the `//` long-name table), by member. */
export function memberNames(src: Source, members: readonly ArMember[]): (m: ArMember) => string {
  const table = members.find((x) => x.id.startsWith('// '));
  const names = table && readExactSync(src, table.pos + AR_HEADER, table.size, 'ar long-name table').toString('latin1');
  return (m) => memberName(m, names);
}

/** A member's file name: GNU `name/`, or `/N` into the long-name table `names`. */
function memberName(m: ArMember, names: string | undefined): string {
  const long = /^\/(\d+)/.exec(m.id);
  if (long && names !== undefined) {
    const end = names.indexOf('/\n', Number(long[1]));
    return names.slice(Number(long[1]), end < 0 ? undefined : end);
  }
  return m.name;
}

const ELF_ONLY: MemberOptions = { allow: ['elf'] };

/** Hand each ordinary member to the dispatcher, for elf only (ELF objects: Perl's ar leaves
 *  every member's content alone); returns the scratch file holding the new bodies. */
async function normalizeMembers(src: Source, members: ArMember[], ctx: HandlerContext): Promise<ScratchFile> {
  const nameOf = memberNames(src, members);
  const scratch = new ScratchFile();
  for (const m of members) {
    if (isSpecialMember(m.id)) continue;
    m.body = await normalizeMemberInto(scratch, ctx, nameOf(m), src, m.pos + AR_HEADER, m.size, ELF_ONLY);
  }
  return scratch;
}

/** The symbol table with each member offset moved to where that member's header now is. */
function moveSymbolOffsets(table: Buffer, id: string, moved: Map<number, number>): Buffer {
  const out = Buffer.from(table);
  const wide = id.startsWith('/SYM64/');
  const word = wide ? 8 : 4;
  const count = Number(wide ? out.readBigUInt64BE(0) : out.readUInt32BE(0));
  if ((count + 1) * word > out.length) throw new FormatError(`ar symbol table claims ${count} symbols`, 0);
  for (let i = 1; i <= count; i++) {
    const old = Number(wide ? out.readBigUInt64BE(i * word) : out.readUInt32BE(i * word));
    const now = moved.get(old);
    if (now === undefined) throw new FormatError(`ar symbol table points at ${old}, where no member starts`, 0);
    if (wide) out.writeBigUInt64BE(BigInt(now), i * word);
    else out.writeUInt32BE(now, i * word);
  }
  return out;
}

/** Where each member header lands once the changed bodies are in. */
function newOffsets(members: ArMember[]): Map<number, number> {
  const moved = new Map<number, number>();
  let at = AR_MAGIC.length;
  for (const m of members) {
    moved.set(m.pos, at);
    const size = m.body?.size ?? m.size;
    at += AR_HEADER + size + (m.body ? size % 2 : m.next - m.pos - AR_HEADER - m.size);
  }
  return moved;
}

/** Perl's header normalization: mtime T (0 when unset), owner 0/0, mode 644 or 755; the
 *  symbol table keeps its mode, the long-name table is not touched. */
function normalizedHeader(m: ArMember, ctx: HandlerContext): Buffer {
  const out = Buffer.from(m.header);
  if (m.id.startsWith('// ')) return out;
  const T = ctx.options.timestamp;
  if (m.id.startsWith('/ ') && ctx.options.verbose && T) {
    ctx.info(`Setting symbols table's mtime in ${ctx.name} to: ${formatCtime(T)}. GNU ar cannot do this.`);
  }
  padRight(String(T ?? 0), 12, 'timestamp').copy(out, 16);
  const zeroId = padRight('0', 6, 'id');
  zeroId.copy(out, 28);
  zeroId.copy(out, 34);
  const mode = perlOct(m.header.toString('latin1', 40, 48));
  if (!m.id.startsWith('/ ')) padRight((mode & 0o100 ? 0o755 : 0o644).toString(8), 8, 'mode').copy(out, 40);
  return out;
}

/**
 * Rewrite an ar archive: member headers as Perl does when `headers` is set; ordinary members
 * through the dispatcher (their sizes and the GNU symbol table follow when they change size).
 */
export async function normalizeArchive(src: Source, sink: Sink, ctx: HandlerContext, headers: boolean): Promise<boolean> {
  if (src.size < 8 || (await src.read(0, 8)).toString('latin1') !== AR_MAGIC) return false;
  const members = readArMembers(src);
  const scratch = await normalizeMembers(src, members, ctx);
  try {
    const resized = members.some((m) => m.body && m.body.size !== m.size);
    if (resized && members.some((m) => m.id.startsWith('__.SYMDEF'))) {
      ctx.warn(`${ctx.name}: a BSD symbol table cannot follow members that change size; members left unchanged`);
      for (const m of members) m.body = undefined;
    }
    const moved = newOffsets(members);
    const plan = new OutputPlan(src);
    plan.copy(0, 8);
    const bodies = members.some((m) => m.body) ? scratch.source() : undefined;
    for (const m of members) {
      const out = headers ? normalizedHeader(m, ctx) : Buffer.from(m.header);
      if (m.body) padRight(String(m.body.size), 10, 'size').copy(out, 48);
      plan.replace(m.pos, m.header, out);
      if (m.body) {
        plan.include(bodies!, m.body.offset, m.body.size);
        if (m.body.size % 2) plan.emit(Buffer.from('\n'));
      } else if (resized && isSymbolTable(m.id)) {
        const table = await readExact(src, m.pos + AR_HEADER, m.size, 'ar symbol table');
        plan.replace(m.pos + AR_HEADER, table, moveSymbolOffsets(table, m.id, moved));
        plan.copy(m.pos + AR_HEADER + m.size, m.next - m.pos - AR_HEADER - m.size);
      } else {
        plan.copy(m.pos + AR_HEADER, m.next - m.pos - AR_HEADER);
      }
    }
    return await plan.commit(sink);
  } finally {
    scratch.close();
  }
}
