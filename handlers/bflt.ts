/**
 * bFLT executables (`*.bflt`, uClinux flat format, all fields big-endian).
 *
 * Detection is Perl's heuristic on the 64-byte header: magic `bFLT`, revision 4, offsets and
 * sizes below sane limits, no reserved flag bits, zero filler. Changes: `build_date` follows
 * the header-time rule. Keeps every other byte.
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../src/kit/handler.js';
import type { Sink, Source } from '../src/kit/io.js';
import { OutputPlan } from '../src/kit/output-plan.js';
import { headerTime } from '../src/kit/time.js';

const HEADER = 64;
const MAX_OFFSET = 0xfffffff;
const MAX_STACK_SIZE = 0xffffff;
const MAX_COUNT = 0xffffff;
const RESERVED_FLAGS = 0xffffffc0;
const BUILD_DATE = 40;

export function isBfltHeader(hdr: Buffer): boolean {
  if (hdr.length < HEADER) return false;
  const f = (i: number) => hdr.readUInt32BE(i * 4);
  return (
    hdr.toString('latin1', 0, 4) === 'bFLT' &&
    f(1) === 4 &&
    f(2) < MAX_OFFSET && f(3) < MAX_OFFSET && f(4) < MAX_OFFSET && f(5) < MAX_OFFSET &&
    f(6) < MAX_STACK_SIZE &&
    f(7) < MAX_OFFSET && f(8) < MAX_COUNT &&
    (f(9) & RESERVED_FLAGS) >>> 0 === 0 &&
    [11, 12, 13, 14, 15].every((i) => f(i) === 0)
  );
}

export const bflt: Handler = {
  name: 'bflt',
  defaultEnabled: true,
  files: '*.bflt',
  matchName: extensionMatcher(['bflt']),
  detect: (head) => isBfltHeader(head),

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    const hdr = await src.read(0, HEADER);
    if (!isBfltHeader(hdr)) return false; // forced with -t: not bFLT, left alone as in Perl
    const out = Buffer.from(hdr);
    const old = hdr.readUInt32BE(BUILD_DATE);
    out.writeUInt32BE(headerTime(old, ctx.options.timestamp, ctx.options.clamp) >>> 0, BUILD_DATE);
    const plan = new OutputPlan(src);
    plan.replace(0, hdr, out);
    plan.copy(HEADER, src.size - HEADER);
    return plan.commit(sink);
  },
};
