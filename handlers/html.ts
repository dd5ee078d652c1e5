/**
 * HTML pages (`*.html`, `*.htm`, `*.xhtml`, any case, that start with `<` after an optional BOM
 * and blanks). Not in the Perl tool. javadoc pages are taken first by handlers/javadoc.ts.
 *
 * Changes: build paths and host names (--build-path, --hostname; matching rules in
 * src/scrub.ts) are replaced by their canonical forms, at any length. Nothing else.
 * Keeps: every other byte.
 */
import type { Handler, HandlerContext } from '../src/handler.js';
import { readAll, type Sink, type Source } from '../src/io.js';
import { scrubText, scrubs } from '../src/scrub.js';

const NAME = /\.(?:html?|xhtml)$/i;

export function looksLikeHtml(head: Buffer): boolean {
  const text = head.toString('latin1', 0, Math.min(head.length, 1024)).replace(/^\xef\xbb\xbf/, '');
  return /^\s*</.test(text);
}

export const html: Handler = {
  name: 'html',
  defaultEnabled: true,
  beyondPerl: true,
  onlyScrubs: true,
  matchName: (path) => NAME.test(path),
  detect: (head) => looksLikeHtml(head),

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    if (!scrubs(ctx.options)) return false;
    const out = scrubText(await readAll(src), ctx.options);
    if (!out) return false;
    await sink.write(out);
    return true;
  },
};
