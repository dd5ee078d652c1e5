/**
 * An rpm payload's cpio archive, as rpm 4.x writes it (lib/cpio.c): `newc` entries (070701: 13
 * fields of 8 hex digits, the name padded with NULs so header and name end on 4, the data padded
 * to 4), names `./usr/bin/x`, a hard-link set's data on its last entry only, then a
 * `TRAILER!!!` entry and padding. The stripped form (07070X, for files of 4 GiB and more) holds
 * only each file's index in the header: its metadata is in the rpm header alone.
 *
 * readPayload walks the entries without reading their data; writeEntry writes one again with a
 * new mtime and size and everything else kept, so a payload whose entries do not change is
 * rewritten byte for byte.
 */
import { FormatError } from '../../src/kit/errors.js';
import { readExactSync, type Source } from '../../src/kit/io.js';
import { NEWC, NEWC_HEADER_SIZE as HEADER, NEWC_MAGIC, parseNewcFields } from '../../src/kit/cpio-newc.js';

const STRIPPED = '07070X';
const TRAILER = 'TRAILER!!!';
const { MTIME, DATASIZE: FILESIZE, NAMESIZE } = NEWC;

const pad4 = (n: number) => (4 - (n % 4)) % 4;

export interface PayloadEntry {
  /** The header's 13 numbers. */
  readonly fields: number[];
  /** The name as stored (`./usr/bin/x`). */
  readonly name: string;
  /** The header and name, with padding, as they are in the payload. */
  readonly head: Buffer;
  readonly dataAt: number;
  readonly dataSize: number;
}

export interface Payload {
  readonly format: 'newc' | 'stripped';
  readonly entries: PayloadEntry[];
  /** Where the trailer entry starts: it and what follows are kept as they are. */
  readonly trailerAt: number;
}

/** Index the payload's entries (newc), or say it is stripped (07070X) and leave it unread. */
export function readPayload(src: Source): Payload {
  const magic = readExactSync(src, 0, 6, 'rpm payload (cpio header)').toString('latin1');
  if (magic === STRIPPED) return { format: 'stripped', entries: [], trailerAt: 0 };
  const entries: PayloadEntry[] = [];
  for (let at = 0; ; ) {
    const hdr = readExactSync(src, at, HEADER, 'rpm payload: cpio header (no TRAILER!!! entry)');
    const m = hdr.toString('latin1', 0, 6);
    if (m !== NEWC_MAGIC) throw new FormatError(`rpm payload: cpio magic "${m.replace(/[^\x20-\x7e]/g, '?')}" where ${NEWC_MAGIC} is expected`, at);
    const fields = parseNewcFields(hdr, at, 'rpm payload: ');
    const nameSize = fields[NAMESIZE];
    if (nameSize < 2) throw new FormatError(`rpm payload: cpio name size ${nameSize}`, at);
    const headSize = HEADER + nameSize + pad4(HEADER + nameSize);
    const head = readExactSync(src, at, headSize, 'rpm payload: cpio entry name');
    const name = head.toString('utf8', HEADER, HEADER + nameSize - 1);
    if (name === TRAILER) return { format: 'newc', entries, trailerAt: at };
    const dataAt = at + headSize;
    const dataSize = fields[FILESIZE];
    if (dataAt + dataSize > src.size) throw new FormatError(`rpm payload: truncated data of ${name} (${dataSize} bytes declared)`, dataAt);
    entries.push({ fields, name, head, dataAt, dataSize });
    at = dataAt + dataSize + pad4(dataSize);
  }
}

const hex8 = (n: number, what: string) => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new FormatError(`rpm payload: ${what} ${n} does not fit a cpio header`);
  return n.toString(16).toUpperCase().padStart(8, '0');
};

/** The entry's header and name with `mtime` and `size`; the same bytes when both are unchanged. */
export function entryHead(e: PayloadEntry, mtime: number, size: number): Buffer {
  if (e.fields[MTIME] === mtime && e.fields[FILESIZE] === size) return e.head;
  const head = Buffer.from(e.head);
  head.write(hex8(mtime, 'mtime'), 6 + MTIME * 8, 'latin1');
  head.write(hex8(size, 'file size'), 6 + FILESIZE * 8, 'latin1');
  return head;
}

export const entryMode = (e: PayloadEntry) => e.fields[NEWC.MODE];
export const entryNlink = (e: PayloadEntry) => e.fields[NEWC.NLINK];
export const entryMtime = (e: PayloadEntry) => e.fields[MTIME];
export const entryInode = (e: PayloadEntry) => e.fields[0];
export const dataPadding = (size: number) => Buffer.alloc(pad4(size));
