/**
 * cpio archives (`*.cpio`): every entry's mtime becomes T (0 when unset).
 *
 * Byte parity: the Perl tool re-serializes the archive with Archive::Cpio, so this module
 * writes what Archive::Cpio writes, not the input's exact bytes:
 *  - newc (070701): every header field as upper-case `%08X`; name padded to 4 with NULs,
 *    data padded to 4 with NULs; a fresh trailer (nlink 1, all else 0), then NULs up to a
 *    multiple of 512 bytes.
 *  - odc (070707): octal fields; no padding at all, not even after the trailer.
 *  - old binary, little-endian (c7 71): 16-bit fields, 2-byte padding, trailer padded to 512.
 * Anything after the trailer is dropped. Archive::Cpio does not know the crc variant (070702)
 * or big-endian binary archives, so Perl leaves those unchanged; so do we (parity), with an
 * info line in --verbose. Member data is streamed, never held in memory.
 */
import { extensionMatcher, type Handler, type HandlerContext, type ListedMember, type Listing } from '../src/kit/handler.js';
import { readExact, type Sink, type Source } from '../src/kit/io.js';
import { OutputPlan } from '../src/kit/output-plan.js';
import { zeroPad } from '../src/kit/binary.js';
import { FormatError } from '../src/kit/errors.js';
import { NEWC, NEWC_FIELDS, NEWC_HEADER_SIZE, NEWC_MAGIC, cpioType, parseNewcFields } from '../src/kit/cpio-newc.js';

const TRAILER = 'TRAILER!!!';
const BLOCK = 512;

const padding = (align: number, offset: number) => (offset % align ? align - (offset % align) : 0);

interface Entry {
  fields: number[];
  /** Name as Archive::Cpio keeps it: the raw bytes less one trailing NUL. */
  name: Buffer;
  dataSize: number;
}

interface Format {
  readonly magic: string;
  readonly headerSize: number;
  readonly nameAlign: number; // padding rule for the name, given the name size
  readonly dataAlign: number;
  readonly trailerBlock: boolean;
  /** Which of the parsed fields is the mode. */
  readonly modeField: number;
  parse(hdr: Buffer, offset: number): { fields: number[]; nameSize: number; dataSize: number };
  /** Serialize a header with the given mtime and sizes. */
  write(fields: number[], mtime: number, nameSize: number, dataSize: number): Buffer;
  /** Padding after the name, given the name size. */
  namePad(nameSize: number): number;
  trailerFields(): number[];
}

// newc: magic, then 13 fields of 8 hex digits (src/kit/cpio-newc.ts reads them).
const newc: Format = {
  magic: NEWC_MAGIC,
  headerSize: NEWC_HEADER_SIZE,
  modeField: NEWC.MODE,
  nameAlign: 4,
  dataAlign: 4,
  trailerBlock: true,
  parse(hdr, offset) {
    const fields = parseNewcFields(hdr, offset);
    return { fields, nameSize: fields[NEWC.NAMESIZE], dataSize: fields[NEWC.DATASIZE] };
  },
  write(fields, mtime, nameSize, dataSize) {
    const f = [...fields];
    f[NEWC.MTIME] = mtime;
    f[NEWC.DATASIZE] = dataSize;
    f[NEWC.NAMESIZE] = nameSize;
    return Buffer.from(NEWC_MAGIC + f.map((v, i) => zeroPad(v, 16, 8, `cpio ${NEWC_FIELDS[i]}`, true)).join(''), 'latin1');
  },
  namePad: (nameSize) => padding(4, nameSize + 2),
  trailerFields: () => NEWC_FIELDS.map((n) => (n === 'nlink' ? 1 : 0)),
};

// odc: magic, then dev ino mode uid gid nlink rdev (6 octal digits each), mtime (11),
// namesize (6), filesize (11).
const ODC_WIDTHS = [6, 6, 6, 6, 6, 6, 6, 11, 6, 11];
const ODC_NAMES = ['dev', 'inode', 'mode', 'uid', 'gid', 'nlink', 'rdev', 'mtime', 'namesize', 'filesize'];
const odc: Format = {
  magic: '070707',
  headerSize: 76,
  modeField: 2,
  nameAlign: 1,
  dataAlign: 1,
  trailerBlock: false,
  parse(hdr, offset) {
    let pos = 6;
    const fields = ODC_WIDTHS.map((w, i) => {
      const text = hdr.toString('latin1', pos, pos + w);
      if (!/^[0-9]*$/.test(text)) throw new FormatError(`bad cpio header value "${text}" for ${ODC_NAMES[i]}`, offset + pos);
      pos += w;
      const octal = /^[0-7]*/.exec(text)![0]; // Perl's oct() stops at the first 8 or 9
      return octal ? parseInt(octal, 8) : 0;
    });
    return { fields, nameSize: fields[8], dataSize: fields[9] };
  },
  write(fields, mtime, nameSize, dataSize) {
    const f = [...fields];
    f[7] = mtime;
    f[8] = nameSize;
    f[9] = dataSize;
    return Buffer.from('070707' + f.map((v, i) => zeroPad(v, 8, ODC_WIDTHS[i], `cpio ${ODC_NAMES[i]}`)).join(''), 'latin1');
  },
  namePad: () => 0,
  trailerFields: () => ODC_NAMES.map((n) => (n === 'nlink' ? 1 : 0)),
};

// Old binary, little-endian: magic dev ino mode uid gid nlink rdev mtime_hi mtime_lo
// namesize filesize_hi filesize_lo, 16 bits each.
const binaryLE: Format = {
  magic: '\xc7\x71',
  headerSize: 26,
  modeField: 2,
  nameAlign: 2,
  dataAlign: 2,
  trailerBlock: true,
  parse(hdr) {
    const v = Array.from({ length: 13 }, (_, i) => hdr.readUInt16LE(i * 2));
    return { fields: v, nameSize: v[10], dataSize: v[11] * 0x10000 + v[12] };
  },
  write(fields, mtime, nameSize, dataSize) {
    if (mtime < 0 || mtime > 0xffffffff) throw new RangeError(`cpio mtime ${mtime} is out of range`);
    const v = [...fields];
    v[8] = Math.floor(mtime / 0x10000);
    v[9] = mtime % 0x10000;
    v[10] = nameSize;
    v[11] = Math.floor(dataSize / 0x10000);
    v[12] = dataSize % 0x10000;
    const out = Buffer.alloc(26);
    v.forEach((x, i) => out.writeUInt16LE(x & 0xffff, i * 2));
    return out;
  },
  namePad: (nameSize) => padding(2, nameSize),
  trailerFields: () => [0x71c7, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
};

const FORMATS = [newc, odc, binaryLE];
/** Magics file(1) calls "cpio archive" but Archive::Cpio cannot read. */
const UNSUPPORTED = ['070702', '\x71\xc7'];

function formatOf(head: Buffer): Format | 'unsupported' | undefined {
  const s = head.toString('latin1', 0, 6);
  for (const f of FORMATS) if (s.startsWith(f.magic)) return f;
  if (UNSUPPORTED.some((m) => s.startsWith(m))) return 'unsupported';
  return undefined;
}

/** An entry's header, and where its parts lie: the data at `dataAt`, `dataPad` bytes of padding
 *  after it, the next header at `next`. */
interface Located extends Entry {
  nameSize: number;
  dataAt: number;
  dataPad: number;
  next: number;
}

async function readEntry(src: Source, fmt: Format, pos: number): Promise<Located> {
  const hdr = await readExact(src, pos, fmt.headerSize, 'cpio header (no TRAILER!!! entry)');
  if (hdr.toString('latin1', 0, fmt.magic.length) !== fmt.magic) throw new FormatError('bad cpio header magic', pos);
  const { fields, nameSize, dataSize } = fmt.parse(hdr, pos);
  if (nameSize < 1) throw new FormatError('bad cpio name size 0', pos);
  let name = await readExact(src, pos + fmt.headerSize, nameSize, 'cpio entry name');
  // Perl's s/\0$//: one NUL at the very end, or just before a final newline.
  if (name[name.length - 1] === 0) name = name.subarray(0, -1);
  else if (name.length >= 2 && name[name.length - 1] === 0x0a && name[name.length - 2] === 0) {
    name = Buffer.concat([name.subarray(0, -2), name.subarray(-1)]);
  }
  const dataAt = pos + fmt.headerSize + nameSize + fmt.namePad(nameSize);
  const dataPad = padding(fmt.dataAlign, dataSize);
  return { fields, name, dataSize, nameSize, dataAt, dataPad, next: dataAt + dataSize + dataPad };
}

/** The entries for --identity and diff: path (no leading `./`), type and permission bits from
 *  the mode, a symlink's target (its data), content. */
async function listCpio(src: Source): Promise<Listing> {
  const fmt = formatOf(await src.read(0, 6));
  if (fmt === undefined || fmt === 'unsupported') throw new FormatError('cpio variant that cannot be listed');
  const members: ListedMember[] = [];
  for (let pos = 0; ; ) {
    const e = await readEntry(src, fmt, pos);
    if (e.name.toString('latin1') === TRAILER) break;
    const mode = e.fields[fmt.modeField];
    const type = cpioType(mode);
    const content = () => readExact(src, e.dataAt, e.dataSize, 'cpio entry data');
    const link = type === 'symlink' ? (await content()).toString('utf8') : undefined;
    members.push({ path: e.name.toString('utf8').replace(/^(?:\.\/)+/, '') || '.', type, mode: (mode & 0o7777).toString(8), link, content });
    pos = e.next;
  }
  return { kind: 'cpio', members };
}

export const cpio: Handler = {
  name: 'cpio',
  defaultEnabled: true,
  files: '*.cpio (newc, odc, old binary)',
  matchName: extensionMatcher(['cpio']),
  detect: (head) => formatOf(head) !== undefined,

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    const fmt = formatOf(await src.read(0, 6));
    if (fmt === undefined) return false; // forced with -t: not cpio
    if (fmt === 'unsupported') {
      ctx.info(`${ctx.name}: cpio variant not supported by the reference tool (crc or big-endian binary); left unchanged`);
      return false;
    }
    const mtime = ctx.options.timestamp ?? 0;
    const plan = new OutputPlan(src);
    let pos = 0;
    for (;;) {
      const e = await readEntry(src, fmt, pos);
      if (e.name.toString('latin1') === TRAILER) break;
      const oldHead = await readExact(src, pos, e.dataAt - pos, 'cpio name padding');
      const outNameSize = e.name.length + 1;
      const newHead = Buffer.concat([
        fmt.write(e.fields, mtime, outNameSize, e.dataSize),
        e.name,
        Buffer.alloc(1 + fmt.namePad(outNameSize)),
      ]);
      plan.replace(pos, oldHead, newHead);
      pos += oldHead.length;
      if (pos + e.dataSize > src.size) throw new FormatError(`truncated cpio entry data (${e.dataSize} bytes declared)`, pos);
      plan.copy(pos, e.dataSize);
      pos += e.dataSize;
      if (e.dataPad) {
        plan.replace(pos, await readExact(src, pos, e.dataPad, 'cpio data padding'), Buffer.alloc(e.dataPad));
        pos += e.dataPad;
      }
    }
    // A fresh trailer, as Archive::Cpio writes it; what followed the old one is dropped.
    const trailerName = Buffer.from(TRAILER + '\0', 'latin1');
    const parts = [fmt.write(fmt.trailerFields(), 0, trailerName.length, 0), trailerName, Buffer.alloc(fmt.namePad(trailerName.length))];
    let trailer = Buffer.concat(parts);
    if (fmt.trailerBlock) trailer = Buffer.concat([trailer, Buffer.alloc(padding(BLOCK, plan.size + trailer.length))]);
    plan.replace(pos, await src.read(pos, src.size - pos), trailer);
    return plan.commit(sink);
  },
  list: listCpio,
};
