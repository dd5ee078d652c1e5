/**
 * Java modules (`*.jmod`): a 4-byte header (`JM`, major and minor version) followed by a jar.
 * The header is kept; the rest is normalized exactly as a jar.
 */
import { extensionMatcher, type Handler } from '../../src/kit/handler.js';
import { readExact, RangeSource } from '../../src/kit/io.js';
import { normalizeZipFile } from './zip.js';
import { jarFlavor } from './jar.js';
import { listZip } from './listing.js';

/** Perl's /^JM..$/ on the first four bytes ('.' is anything but a newline). */
export const isJmodHeader = (head: Buffer) => head.length >= 4 && head[0] === 0x4a && head[1] === 0x4d && head[2] !== 0x0a && head[3] !== 0x0a;

export const jmod: Handler = {
  name: 'jmod',
  defaultEnabled: true,
  files: '*.jmod with a JM header',
  matchName: extensionMatcher(['jmod']),
  detect: (head) => isJmodHeader(head),
  async normalize(src, sink, ctx) {
    const header = await readExact(src, 0, 4, 'jmod header');
    return normalizeZipFile(src, new RangeSource(src, 4, src.size - 4), header, sink, ctx, jarFlavor);
  },
  list: (src, ctx) => listZip(new RangeSource(src, 4, src.size - 4), ctx),
};
