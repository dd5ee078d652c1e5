/**
 * OpenDocument files (`*.odt`, `*.ods`, `*.odp`, `*.odg` and their templates): zip archives
 * whose first member is a stored `mimetype` of `application/vnd.oasis.opendocument.*`. Not in
 * the Perl tool.
 *
 * Changes: the zip normalization of handlers/zip.ts (member order, times T, attributes, extra
 * fields; `mimetype` stays first and stored, as ODF requires), and `meta.xml` through
 * the xml normalizer, through the dispatcher (meta:creation-date, dc:date, meta:print-date become T).
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../../src/kit/handler.js';
import { BufferSink, BufferSource, type Sink, type Source } from '../../src/kit/io.js';
import { normalizeZipFile, type ZipFlavor } from './zip.js';
import { listZip } from './listing.js';

const MIMETYPE = 'application/vnd.oasis.opendocument.';

export function isOdf(head: Buffer): boolean {
  if (head.length < 30 || head.readUInt32LE(0) !== 0x04034b50) return false;
  const nameLen = head.readUInt16LE(26);
  const extraLen = head.readUInt16LE(28);
  if (head.toString('latin1', 30, 30 + nameLen) !== 'mimetype') return false;
  return head.toString('latin1', 30 + nameLen + extraLen, 30 + nameLen + extraLen + MIMETYPE.length) === MIMETYPE;
}

const odfFlavor: ZipFlavor = {
  async member(m, time, io, ctx: HandlerContext) {
    if (m.kind !== 'dir' && m.name === 'meta.xml') {
      // meta.xml is XML by definition: the xml normalizer, whether or not it is enabled.
      const sink = new BufferSink();
      if ((await ctx.member(m.name, new BufferSource(await io.contents(m)), sink, { as: 'xml', errors: 'throw' })).changed) await io.replace(m, sink.toBuffer());
    }
    return time;
  },
};

export const odf: Handler = {
  name: 'odf',
  defaultEnabled: true,
  beyondPerl: true,
  files: '*.odt, *.ods, *.odp, *.odg and templates',
  matchName: extensionMatcher(['odt', 'ods', 'odp', 'odg', 'ott', 'ots', 'otp', 'otg']),
  detect: (head) => isOdf(head),
  normalize: (src: Source, sink: Sink, ctx: HandlerContext) => normalizeZipFile(src, src, Buffer.alloc(0), sink, ctx, odfFlavor),
  list: listZip,
};
