/**
 * GNU gettext catalogs (`*.mo`, `*.gmo`; magic 0x950412de in either byte order).
 *
 * Changes: in each header entry (an original string of length 0), the first
 * `POT-Creation-Date:` or `PO-Revision-Date:` line, whichever comes first (Perl matches once
 * per entry), if its `%Y-%m-%d %H:%M%z` value is later than T (0 when T is unset), becomes
 * T as `YYYY-MM-DD HH:MM+0000`, but only when that keeps the string's length.
 * Keeps: every other byte; catalogs with major revision > 1 are left alone.
 * The catalog is small by nature and is read whole; it is not copied: the output is its
 * unchanged ranges and the edited strings.
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../src/kit/handler.js';
import { readAll, type Sink, type Source } from '../src/kit/io.js';
import { FormatError } from '../src/kit/errors.js';
import { strptimeYmdHMz } from '../src/kit/strptime.js';
import { formatDateHourMinute } from '../src/kit/time.js';

const MAGIC = 0x950412de;

/** A same-length replacement of the bytes at `at`. */
interface Edit {
  at: number;
  data: Buffer;
}

/** `length` bytes of `original` at `off` with `edits` applied in order: a view when none
 *  touches them. */
function withEdits(original: Buffer, edits: readonly Edit[], off: number, length: number): Buffer {
  const end = off + length;
  const touching = edits.filter((e) => e.at < end && e.at + e.data.length > off);
  if (touching.length === 0) return original.subarray(off, end);
  const out = Buffer.from(original.subarray(off, end));
  for (const e of touching) {
    const from = Math.max(e.at, off);
    e.data.copy(out, from - off, from - e.at, Math.min(e.at + e.data.length, end) - e.at);
  }
  return out;
}

function endianOf(head: Buffer): 'LE' | 'BE' | undefined {
  if (head.length < 4) return undefined;
  if (head.readUInt32LE(0) === MAGIC) return 'LE';
  if (head.readUInt32BE(0) === MAGIC) return 'BE';
  return undefined;
}

export const gettext: Handler = {
  name: 'gettext',
  defaultEnabled: true,
  files: '*.mo, *.gmo',
  matchName: extensionMatcher(['g?mo']),
  detect: (head) => endianOf(head) !== undefined,

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    const original = await readAll(src);
    const endian = endianOf(original);
    if (!endian) return false;
    // Perl edits the catalog in place as it goes; the edits are kept aside instead (most
    // catalogs have none, the rest one or two), and every later read sees them (bytes()).
    const edits: Edit[] = [];
    const bytes = (off: number, length: number) => withEdits(original, edits, off, length);
    const u32 = (off: number, what: string) => {
      if (off < 0 || off + 4 > original.length) throw new FormatError(`Malformed .mo file: ${what} past the end`, off);
      const b = bytes(off, 4);
      return endian === 'LE' ? b.readUInt32LE(0) : b.readUInt32BE(0);
    };
    const revision = u32(4, 'header');
    if (Math.floor(revision / 256) > 1) return false;
    const nstrings = u32(8, 'header');
    const origTable = u32(12, 'header');
    const transTable = u32(16, 'header');
    const normTime = ctx.options.timestamp ?? 0;

    for (let i = 0; i < nstrings; i++) {
      if (u32(origTable + i * 8, 'original string table') > 0) continue;
      const transLen = u32(transTable + i * 8, 'translation table');
      const transOff = u32(transTable + i * 8 + 4, 'translation table');
      if (transOff + transLen > original.length) throw new FormatError('Malformed .mo file: translation past the end', transOff);
      const msg = bytes(transOff, transLen).toString('latin1');
      // Perl: m/^(POT-Creation-Date|PO-Revision-Date): (.*)/m; there ^ follows only \n and
      // . is anything but \n (JS's /m and . also treat \r as a line end, so spell it out).
      const m = /(?:^|\n)(POT-Creation-Date|PO-Revision-Date): ([^\n]*)/.exec(msg);
      if (!m) continue;
      const [, key, value] = m;
      const time = strptimeYmdHMz(value);
      if (time === undefined || time <= normTime) continue;
      const old = `${key}: ${value}`;
      const at = msg.indexOf(old);
      const replaced = msg.slice(0, at) + `${key}: ${formatDateHourMinute(normTime)}+0000` + msg.slice(at + old.length);
      if (replaced.length !== transLen) continue;
      const data = Buffer.from(replaced, 'latin1');
      if (!data.equals(bytes(transOff, transLen))) edits.push({ at: transOff, data });
    }
    if (edits.length === 0) return false;
    const sorted = [...edits].sort((a, b) => a.at - b.at);
    if (sorted.some((e, k) => k > 0 && sorted[k - 1].at + sorted[k - 1].data.length > e.at)) {
      // Edits over edits (a crafted catalog): the bytes as Perl leaves them, in one piece.
      const out = withEdits(original, edits, 0, original.length);
      if (out.equals(original)) return false;
      await sink.write(out);
      return true;
    }
    // Each edit differs from the bytes it replaces: the catalog changes. No copy of it is made.
    let pos = 0;
    for (const e of sorted) {
      await sink.write(original.subarray(pos, e.at));
      await sink.write(e.data);
      pos = e.at + e.data.length;
    }
    await sink.write(original.subarray(pos));
    return true;
  },
};
