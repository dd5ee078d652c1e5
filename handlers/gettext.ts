/**
 * GNU gettext catalogs (`*.mo`, `*.gmo`; magic 0x950412de in either byte order).
 *
 * Changes: in each header entry (an original string of length 0), the first
 * `POT-Creation-Date:` or `PO-Revision-Date:` line, whichever comes first (Perl matches once
 * per entry), if its `%Y-%m-%d %H:%M%z` value is later than T (0 when T is unset), becomes
 * T as `YYYY-MM-DD HH:MM+0000`, but only when that keeps the string's length.
 * Keeps: every other byte; catalogs with major revision > 1 are left alone.
 * The catalog is small by nature and is read whole.
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../src/kit/handler.js';
import { readAll, type Sink, type Source } from '../src/kit/io.js';
import { FormatError } from '../src/kit/errors.js';
import { strptimeYmdHMz } from '../src/kit/strptime.js';
import { formatDateHourMinute } from '../src/kit/time.js';

const MAGIC = 0x950412de;

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
    // Copied on the first edit only: most catalogs have nothing to change.
    let buf = original;
    const endian = endianOf(buf);
    if (!endian) return false;
    const u32 = (off: number, what: string) => {
      if (off < 0 || off + 4 > buf.length) throw new FormatError(`Malformed .mo file: ${what} past the end`, off);
      return endian === 'LE' ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
    };
    const revision = u32(4, 'header');
    if (Math.floor(revision / 256) > 1) return false;
    const nstrings = u32(8, 'header');
    const origTable = u32(12, 'header');
    const transTable = u32(16, 'header');
    const normTime = ctx.options.timestamp ?? 0;

    let modified = false;
    for (let i = 0; i < nstrings; i++) {
      if (u32(origTable + i * 8, 'original string table') > 0) continue;
      const transLen = u32(transTable + i * 8, 'translation table');
      const transOff = u32(transTable + i * 8 + 4, 'translation table');
      if (transOff + transLen > buf.length) throw new FormatError('Malformed .mo file: translation past the end', transOff);
      const msg = buf.toString('latin1', transOff, transOff + transLen);
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
      if (buf === original) buf = Buffer.from(original);
      buf.write(replaced, transOff, 'latin1');
      modified = true;
    }
    if (!modified) return false;
    if (Buffer.compare(original, buf) === 0) return false;
    await sink.write(buf);
    return true;
  },
};
