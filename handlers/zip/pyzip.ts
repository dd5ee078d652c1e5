/**
 * Python zip applications: any file starting with a `#!...python3` line followed by a zip
 * (`python3 -m zipapp`, or `head -1 __main__.py | cat - app.zip`). The shebang line is kept;
 * the rest is normalized as a zip. Detection mirrors what Perl asks of file(1) ("python3
 * script executable" with binary data) and its own check (`\nPK\3\4` within 32 bytes).
 */
import type { Handler } from '../../src/kit/handler.js';
import { RangeSource, type Source } from '../../src/kit/io.js';
import { normalizeZipFile } from './zip.js';
import { listZip } from './listing.js';

export function pyzipShebangLength(head: Buffer): number | undefined {
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const nl = head.indexOf(0x0a);
  if (nl < 0) return undefined;
  // file(1) names the interpreter line; Perl wants it to end in "python3".
  if (!/^#!\s*(?:\S*\/|\S+\s+)?python3\s*$/.test(head.toString('latin1', 0, nl))) return undefined;
  if (!/^#!.*\nPK\x03\x04/s.test(head.toString('latin1', 0, 32))) return undefined;
  return nl + 1;
}

export const pyzip: Handler = {
  name: 'pyzip',
  defaultEnabled: true,
  files: 'any name: a #!...python3 line, then a zip',
  matchName: () => true,
  detect: (head) => pyzipShebangLength(head) !== undefined,
  // A zip whose central directory offset is absolute (python's zipapp writes them so) is
  // "Zip archive data" to file(1), not a "python3 script": Perl leaves those alone.
  async refine(src: Source) {
    if (src.size < 22) return true;
    const eocd = await src.read(src.size - 22, 22);
    if (eocd.readUInt32LE(0) !== 0x06054b50) return true;
    const cd = await src.read(eocd.readUInt32LE(16), 4);
    return !(cd.length === 4 && cd.readUInt32LE(0) === 0x02014b50);
  },
  async normalize(src, sink, ctx) {
    const head = await src.read(0, 4096);
    const nl = head.indexOf(0x0a);
    if (nl < 0) return false;
    const shebang = head.subarray(0, nl + 1);
    return normalizeZipFile(src, new RangeSource(src, nl + 1, src.size - nl - 1), shebang, sink, ctx);
  },
  async list(src, ctx) {
    const nl = (await src.read(0, 4096)).indexOf(0x0a);
    return listZip(new RangeSource(src, nl + 1, src.size - nl - 1), ctx);
  },
};
