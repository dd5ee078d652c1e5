/**
 * ar archives (`*.a`, `!<arch>\n`): off by default, as in Perl.
 *
 * Changes, in every member header but the GNU long-name table `// `: mtime becomes T (0 when
 * unset, never clamped), uid and gid 0, and the mode 755 if the owner-exec bit was set, else
 * 644. The symbol table `/ ` keeps its mode. Keeps: names, sizes, member data, padding.
 * Errors: a short header, bad header magic, a size below 1, member data past the end.
 *
 * Beyond Perl, with build paths or host names (--build-path, --hostname) and the elf normalizer
 * on: ELF members (the `.o` files of a static library) go through handlers/elf.ts. Their size may
 * change (recompressed debug sections), so the size field follows and the member offsets in the
 * GNU symbol table (`/ ` 32-bit, `/SYM64/` 64-bit) are moved to match; an archive with a BSD
 * `__.SYMDEF` table keeps its members as they were, with a warning. The elf normalizer also
 * claims `.a` files when ar is off: then only the ELF members change, headers stay as they are.
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../../src/kit/handler.js';
import { readExact, readExactSync, type Sink, type Source } from '../../src/kit/io.js';
import { OutputPlan } from '../../src/kit/output-plan.js';
import { padRight } from '../../src/kit/binary.js';
import { FormatError } from '../../src/kit/errors.js';
import { formatCtime } from '../../src/kit/time.js';
import { ScratchFile, normalizeMember } from '../../src/kit/scratch-file.js';
import { isElf } from '../elf/reader.js';
import { scrubs } from '../../src/kit/build-paths-and-hostnames.js';

export const AR_MAGIC = '!<arch>\n';
const HEADER = 60;

/** Perl's numeric conversion of a header field: leading blanks, then an optional sign and
 *  digits; anything else counts as 0. */
function perlNumber(field: string, radix: 8 | 10): number {
  const m = (radix === 10 ? /^\s*([-+]?\d+)/ : /^\s*([0-7]+)/).exec(field);
  return m ? parseInt(m[1], radix) : 0;
}

interface Member {
  pos: number;
  header: Buffer;
  id: string;
  size: number;
  /** Where the next header starts (after the pad byte, if there is one). */
  next: number;
  /** The normalized body, in the scratch file, when it changed. */
  body?: { offset: number; size: number };
}

function parseMembers(src: Source): Member[] {
  const members: Member[] = [];
  let pos = 8;
  while (pos < src.size) {
    if (src.size - pos < HEADER) throw new FormatError('Incorrect header length', pos);
    const header = readExactSync(src, pos, HEADER, 'ar member header');
    if (header.toString('latin1', 58, 60) !== '`\n') throw new FormatError('Incorrect file magic', pos);
    const size = perlNumber(header.toString('latin1', 48, 58), 10);
    if (size < 1) throw new FormatError('Incorrect file size', pos);
    const dataEnd = pos + HEADER + size;
    if (dataEnd > src.size) throw new FormatError(`member data truncated (${size} bytes declared)`, pos);
    // Members are padded to an even offset; a missing final pad byte is tolerated.
    const next = Math.min(dataEnd + (size % 2), src.size);
    members.push({ pos, header, id: header.toString('latin1', 0, 16), size, next });
    pos = next;
  }
  return members;
}

const isSymbolTable = (id: string) => id.startsWith('/ ') || id.startsWith('/SYM64/ ');
const isSpecial = (id: string) => id.startsWith('/ ') || id.startsWith('// ') || id.startsWith('/SYM64/ ') || id.startsWith('__.SYMDEF');

/** A member's file name for messages: GNU `name/`, or `/N` into the long-name table `names`. */
function memberName(m: Member, names: string | undefined): string {
  const long = /^\/(\d+)/.exec(m.id);
  if (long && names !== undefined) {
    const end = names.indexOf('/\n', Number(long[1]));
    return names.slice(Number(long[1]), end < 0 ? undefined : end);
  }
  return m.id.trimEnd().replace(/\/$/, '');
}

/** Run the ELF members through handlers/elf.ts; returns the scratch file holding new bodies. */
async function normalizeElfMembers(src: Source, members: Member[], ctx: HandlerContext): Promise<ScratchFile | undefined> {
  const { normalizeElf } = await import('../elf/elf.js'); // elf imports this module
  const table = members.find((x) => x.id.startsWith('// '));
  const names = table && readExactSync(src, table.pos + HEADER, table.size, 'ar long-name table').toString('latin1');
  let scratch: ScratchFile | undefined;
  for (const m of members) {
    if (isSpecial(m.id) || !isElf(src.readSync(m.pos + HEADER, 20))) continue;
    scratch ??= new ScratchFile();
    m.body = await normalizeMember(scratch, src, m.pos + HEADER, m.size, { ...ctx, name: `${ctx.name}:${memberName(m, names)}` }, normalizeElf);
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

/**
 * Normalize an ar archive: member headers as Perl does when `headers` is set, ELF members when
 * build paths or host names are given and the elf normalizer is on.
 */
export async function normalizeArchive(src: Source, sink: Sink, ctx: HandlerContext, headers: boolean): Promise<boolean> {
  if (src.size < 8 || (await src.read(0, 8)).toString('latin1') !== AR_MAGIC) return false;
  const members = parseMembers(src);
  const { options } = ctx;
  const scratch = scrubs(options) && options.enabled.has('elf') ? await normalizeElfMembers(src, members, ctx) : undefined;
  try {
    const resized = members.some((m) => m.body && m.body.size !== m.size);
    if (resized && members.some((m) => m.id.startsWith('__.SYMDEF'))) {
      ctx.warn(`${ctx.name}: a BSD symbol table cannot follow members that change size; members left unchanged`);
      for (const m of members) m.body = undefined;
    }
    // Where each member header lands, for the symbol table.
    const moved = new Map<number, number>();
    let at = 8;
    for (const m of members) {
      moved.set(m.pos, at);
      const size = m.body?.size ?? m.size;
      at += HEADER + size + (m.body ? size % 2 : m.next - m.pos - HEADER - m.size);
    }

    const T = options.timestamp;
    const mtimeField = padRight(String(T ?? 0), 12, 'timestamp');
    const zeroId = padRight('0', 6, 'id');
    const plan = new OutputPlan(src);
    plan.copy(0, 8);
    const bodies = scratch?.source();
    for (const m of members) {
      const out = Buffer.from(m.header);
      if (headers && !m.id.startsWith('// ')) {
        if (m.id.startsWith('/ ') && options.verbose && T) {
          ctx.info(`Setting symbols table's mtime in ${ctx.name} to: ${formatCtime(T)}. GNU ar cannot do this.`);
        }
        mtimeField.copy(out, 16);
        zeroId.copy(out, 28);
        zeroId.copy(out, 34);
        const mode = perlNumber(m.header.toString('latin1', 40, 48), 8);
        if (!m.id.startsWith('/ ')) padRight((mode & 0o100 ? 0o755 : 0o644).toString(8), 8, 'mode').copy(out, 40);
      }
      if (m.body) padRight(String(m.body.size), 10, 'size').copy(out, 48);
      plan.replace(m.pos, m.header, out);
      if (m.body) {
        plan.include(bodies!, m.body.offset, m.body.size);
        if (m.body.size % 2) plan.emit(Buffer.from('\n'));
      } else if (resized && isSymbolTable(m.id)) {
        const table = await readExact(src, m.pos + HEADER, m.size, 'ar symbol table');
        plan.replace(m.pos + HEADER, table, moveSymbolOffsets(table, m.id, moved));
        plan.copy(m.pos + HEADER + m.size, m.next - m.pos - HEADER - m.size);
      } else {
        plan.copy(m.pos + HEADER, m.next - m.pos - HEADER);
      }
    }
    return await plan.commit(sink);
  } finally {
    scratch?.close();
  }
}

export const ar: Handler = {
  name: 'ar',
  defaultEnabled: false,
  matchName: extensionMatcher(['a']),
  detect: (head) => head.toString('latin1', 0, 8) === AR_MAGIC,
  normalize: (src: Source, sink: Sink, ctx: HandlerContext) => normalizeArchive(src, sink, ctx, true),
};
