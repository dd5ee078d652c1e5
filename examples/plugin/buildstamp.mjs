// A third-party handler for a toy format, registered through the library API.
//
// A "build stamp" (`*.buildstamp`) is a text file that starts with the line `BUILDSTAMP 1` and
// holds `key: value` lines. Two of them leak the build: `built:` (seconds since the epoch) and
// `host:`. This handler sets `built:` to the canonical time T (0 when T is unset) and `host:` to
// `build`; every other byte is kept. It reads a Source and writes a Sink, like every handler,
// so the same code runs on files in a tree and on members inside zip, tar, ar and .deb archives.
import { extensionMatcher, readAll } from 'strip-nondeterminism-node';

const MAGIC = 'BUILDSTAMP 1\n';

/** @type {import('strip-nondeterminism-node').Handler} */
export const buildstamp = {
  name: 'buildstamp',
  defaultEnabled: true,
  files: '*.buildstamp starting with BUILDSTAMP 1',
  matchName: extensionMatcher(['buildstamp']),
  detect: (head) => head.toString('latin1', 0, MAGIC.length) === MAGIC,
  async normalize(src, sink, ctx) {
    const text = (await readAll(src)).toString('latin1');
    const T = ctx.options.timestamp ?? 0;
    const out = text.replace(/^built: .*$/m, `built: ${T}`).replace(/^host: .*$/m, 'host: build');
    if (out === text) return false;
    await sink.write(Buffer.from(out, 'latin1'));
    return true;
  },
};
