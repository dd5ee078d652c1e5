/**
 * PNG images (`*.png`).
 *
 * Changes: `tIME` is set to T (or clamped to it with --clamp-timestamp), or removed when T is
 * unset. A `tEXt` chunk whose keyword is `date:...` or `Creation Time` becomes
 * `keyword\0YYYY-MM-DDTHH:MM:SS-00:00` (T in UTC), or is removed when T is unset. Perl's type
 * test is /[tiz]EXt/, which in practice matches only tEXt, so iTXt and zTXt are kept (parity).
 * Like Perl, only chunks shorter than 4092 bytes are inspected; larger ones are streamed.
 * Keeps: every other chunk byte for byte, and bytes after IEND (with a warning).
 * A chunk whose length runs past the end: warning, file left unchanged.
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../src/kit/handler.js';
import { readExact, type Sink, type Source } from '../src/kit/io.js';
import { OutputPlan } from '../src/kit/output-plan.js';
import { crc32 } from '../src/kit/binary.js';
import { FormatError } from '../src/kit/errors.js';
import { formatIsoSeconds, gmtime, timegm } from '../src/kit/time.js';

const SIGNATURE = Buffer.from('\x89PNG\r\n\x1a\n', 'latin1');
const IHDR = Buffer.from('\0\0\0\x0dIHDR', 'latin1');
const CGBI = Buffer.from('\0\0\0\x04CgBI', 'latin1');
/** Perl reads a chunk into memory only when length + CRC is below this. */
const SMALL_CHUNK = 4096;
const TEXT_DATE = /^(date:[^\0]+|Creation Time)\0/;

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function timeChunk(seconds: number): Buffer {
  const t = gmtime(seconds);
  const data = Buffer.alloc(7);
  data.writeUInt16BE(t.year & 0xffff, 0);
  data.set([t.month, t.day, t.hour, t.minute, t.second], 2);
  return chunk('tIME', data);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Perl's Time::Local::timegm on the tIME fields, with its range checks and year rules. */
export function parseTimeChunk(data: Buffer): number {
  let year = data.readUInt16BE(0);
  const [month, day, hour, minute, second] = data.subarray(2, 7);
  if (year < 100) {
    // Time::Local's rolling century: the year within 50 years of now.
    const now = new Date().getUTCFullYear();
    year += Math.floor(now / 100) * 100;
    if (year > now + 50) year -= 100;
    else if (year <= now - 50) year += 100;
  } else if (year < 1000) year += 1900;
  if (month < 1 || month > 12) throw new FormatError(`invalid tIME chunk: Month '${month - 1}' out of range 0..11`);
  const md = MONTH_DAYS[month - 1] + (month === 2 && isLeap(year) ? 1 : 0);
  if (day < 1 || day > md) throw new FormatError(`invalid tIME chunk: Day '${day}' out of range 1..${md}`);
  if (hour > 23) throw new FormatError(`invalid tIME chunk: Hour '${hour}' out of range 0..23`);
  if (minute > 59) throw new FormatError(`invalid tIME chunk: Minute '${minute}' out of range 0..59`);
  if (second > 59) throw new FormatError(`invalid tIME chunk: Second '${second}' out of range 0..59`);
  return timegm({ year, month, day, hour, minute, second });
}

export const png: Handler = {
  name: 'png',
  defaultEnabled: true,
  files: '*.png',
  matchName: extensionMatcher(['png']),
  // What file(1) calls "PNG image data": the signature, then IHDR (or Apple's CgBI, then IHDR).
  detect: (head) =>
    head.length >= 16 &&
    head.subarray(0, 8).equals(SIGNATURE) &&
    (head.subarray(8, 16).equals(IHDR) || (head.subarray(8, 16).equals(CGBI) && head.length >= 32 && head.subarray(24, 32).equals(IHDR))),

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    const { timestamp, clamp } = ctx.options;
    const sig = await src.read(0, 8);
    if (!sig.equals(SIGNATURE)) throw new FormatError('does not appear to be a PNG');
    const plan = new OutputPlan(src);
    plan.copy(0, 8);
    let pos = 8;
    let sawEnd = false;
    while (pos < src.size) {
      if (src.size - pos < 8) {
        ctx.keep(`${ctx.name}: truncated chunk header at offset ${pos}; file left unchanged`);
        return false;
      }
      const header = await readExact(src, pos, 8, 'chunk header');
      const total = header.readUInt32BE(0) + 4; // data plus CRC
      const type = header.toString('latin1', 4, 8);
      if (pos + 8 + total > src.size) {
        ctx.keep(`${ctx.name}: invalid length in '${type}' header; file left unchanged`);
        return false;
      }
      const whole = 8 + total;
      if (total < SMALL_CHUNK) {
        const data = await readExact(src, pos + 8, total, `'${type}' chunk`);
        const old = Buffer.concat([header, data]);
        if (type === 'tIME') {
          let out: Buffer = Buffer.alloc(0);
          if (timestamp !== undefined) out = timeChunk(clamp ? Math.min(timestamp, parseTimeChunk(data)) : timestamp);
          plan.replace(pos, old, out);
          pos += whole;
          continue;
        }
        const m = /^[tiz]EXt$/.test(type) ? TEXT_DATE.exec(data.toString('latin1')) : null;
        if (m) {
          let out: Buffer = Buffer.alloc(0);
          if (timestamp !== undefined) out = chunk('tEXt', Buffer.from(`${m[1]}\0${formatIsoSeconds(timestamp)}-00:00`, 'latin1'));
          plan.replace(pos, old, out);
          pos += whole;
          continue;
        }
      }
      plan.copy(pos, whole);
      pos += whole;
      if (type === 'IEND') {
        sawEnd = true;
        break;
      }
    }
    if (sawEnd && pos < src.size) {
      ctx.warn(`${ctx.name}: ${src.size - pos} bytes of garbage after IEND chunk`);
      plan.copy(pos, src.size - pos);
    }
    return plan.commit(sink);
  },
};
