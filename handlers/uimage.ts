/**
 * U-Boot legacy uImage (`*.uimage`, any case; magic 0x27051956, big-endian header).
 *
 * Changes: `ih_time` follows the header-time rule, and the header CRC is recomputed.
 * Keeps: everything else, including the data CRC. A header whose CRC does not verify is
 * rejected with an error (Perl silently skips it); the file is left untouched.
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../src/kit/handler.js';
import type { Sink, Source } from '../src/kit/io.js';
import { OutputPlan } from '../src/kit/output-plan.js';
import { crc32 } from '../src/kit/binary.js';
import { headerTime } from '../src/kit/time.js';
import { FormatError } from '../src/kit/errors.js';

const IH_MAGIC = 0x27051956;
const HEADER = 64;
const HCRC = 4;
const TIME = 8;

function headerCrc(hdr: Buffer): number {
  const copy = Buffer.from(hdr);
  copy.writeUInt32BE(0, HCRC);
  return crc32(copy);
}

export const uimage: Handler = {
  name: 'uimage',
  defaultEnabled: true,
  files: '*.uimage (any case)',
  matchName: extensionMatcher(['uimage'], true),
  detect: (head) => head.length >= HEADER && head.readUInt32BE(0) === IH_MAGIC,

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    const hdr = await src.read(0, HEADER);
    if (hdr.length < HEADER || hdr.readUInt32BE(0) !== IH_MAGIC) return false;
    if (headerCrc(hdr) !== hdr.readUInt32BE(HCRC)) {
      throw new FormatError('uImage header CRC does not match the header (corrupt header)', HCRC);
    }
    const out = Buffer.from(hdr);
    out.writeUInt32BE(headerTime(hdr.readUInt32BE(TIME), ctx.options.timestamp, ctx.options.clamp) >>> 0, TIME);
    out.writeUInt32BE(headerCrc(out), HCRC);
    const plan = new OutputPlan(src);
    plan.replace(0, hdr, out);
    plan.copy(HEADER, src.size - HEADER);
    return plan.commit(sink);
  },
};
