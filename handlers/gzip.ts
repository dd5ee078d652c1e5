/**
 * gzip (RFC 1952), `*.gz` and `*.dz`.
 *
 * Changes: clears FNAME and FHCRC and drops the file name and header CRC bytes; MTIME follows
 * the header-time rule (0 stays 0, else T or clamped, else 0 when T is unset).
 * Keeps: ID, CM, the other FLG bits, XFL, OS, FEXTRA and FCOMMENT bytes, and the compressed
 * payload and trailer, copied byte for byte. Only the first member of a multi-member file is
 * touched, as in Perl (later members are payload to us).
 */
import * as zlib from 'node:zlib';
import { extensionMatcher, type Handler, type HandlerContext, type Listing } from '../src/kit/handler.js';
import { memberLimit } from '../src/kit/options.js';
import { readAll, readExact, type Sink, type Source } from '../src/kit/io.js';
import { OutputPlan } from '../src/kit/output-plan.js';
import { headerTime } from '../src/kit/time.js';
import { FormatError } from '../src/kit/errors.js';

const FHCRC = 1 << 1;
const FEXTRA = 1 << 2;
const FNAME = 1 << 3;
const FCOMMENT = 1 << 4;

/** Offset just past the zero byte that ends a string starting at `offset`. */
async function skipZeroTerminated(src: Source, offset: number): Promise<number> {
  for (let pos = offset; pos < src.size; ) {
    const chunk = await src.read(pos, 4096);
    const nul = chunk.indexOf(0);
    if (nul >= 0) return pos + nul + 1;
    pos += chunk.length;
  }
  throw new FormatError('Malformed gzip file: unterminated header string', offset);
}

/** For --identity and diff: a gzip stream is its decompressed content (every member of a
 *  multi-member file, as gunzip gives it), bounded by --max-member-size. */
async function listGzip(src: Source, ctx: HandlerContext): Promise<Listing> {
  const data = await readAll(src);
  let inflated: Buffer;
  try {
    inflated = zlib.gunzipSync(data, { maxOutputLength: memberLimit(ctx.options) });
  } catch (e) {
    throw new FormatError(`gzip data cannot be decompressed: ${(e as Error).message}`);
  }
  return { kind: 'stream', members: [{ path: '', type: 'file', mode: '', content: async () => inflated }] };
}

export const gzip: Handler = {
  name: 'gzip',
  defaultEnabled: true,
  files: '*.gz, *.dz',
  matchName: extensionMatcher(['gz', 'dz']),
  detect: (head) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b,

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    if (src.size < 2) return false;
    const magic = await src.read(0, 2);
    if (magic[0] !== 0x1f || magic[1] !== 0x8b) return false; // forced with -t: not gzip
    const hdr = await readExact(src, 0, 10, 'gzip header');
    const flg = hdr[3];
    const mtime = hdr.readInt32LE(4); // Perl unpacks it as signed ('l<')
    const { timestamp, clamp } = ctx.options;

    const out = Buffer.from(hdr);
    out[3] = flg & ~FNAME & ~FHCRC;
    out.writeUInt32LE(headerTime(mtime, timestamp, clamp) >>> 0, 4);

    const plan = new OutputPlan(src);
    plan.replace(0, hdr, out);
    let pos = 10;
    if (flg & FEXTRA) {
      const xlen = (await readExact(src, pos, 2, 'gzip extra field (Malformed gzip file)')).readUInt16LE(0);
      await readExact(src, pos + 2, xlen, 'gzip extra field (Malformed gzip file)');
      plan.copy(pos, 2 + xlen);
      pos += 2 + xlen;
    }
    if (flg & FNAME) {
      const end = await skipZeroTerminated(src, pos);
      plan.replace(pos, await src.read(pos, end - pos), Buffer.alloc(0));
      pos = end;
    }
    if (flg & FCOMMENT) {
      const end = await skipZeroTerminated(src, pos);
      plan.copy(pos, end - pos);
      pos = end;
    }
    if (flg & FHCRC) {
      const crc = await readExact(src, pos, 2, 'gzip header CRC (Malformed gzip file)');
      plan.replace(pos, crc, Buffer.alloc(0));
      pos += 2;
    }
    plan.copy(pos, src.size - pos);
    return plan.commit(sink);
  },
  list: listGzip,
};
