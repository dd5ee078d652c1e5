/**
 * ar archives (`*.a`, `!<arch>\n`): off by default, as in Perl.
 *
 * Changes, in every member header but the GNU long-name table `// `: mtime becomes T (0 when
 * unset, never clamped), uid and gid 0, and the mode 755 if the owner-exec bit was set, else
 * 644. The symbol table `/ ` keeps its mode. Keeps: names, sizes, member data, padding.
 * Errors: a short header, bad header magic, a size below 1, member data past the end.
 *
 * Beyond Perl, members go through the dispatcher: with build paths or host names (--build-path,
 * --hostname) and the elf normalizer on, ELF members (the `.o` files of a static library) are
 * normalized by elf. Their size may change (recompressed debug sections), so the size field
 * follows and the member offsets in the GNU symbol table (`/ ` 32-bit, `/SYM64/` 64-bit) are
 * moved to match; an archive with a BSD `__.SYMDEF` table keeps its members as they were, with a
 * warning. The elf normalizer also claims `.a` files when ar is off: then only the ELF members
 * change, headers stay as they are (handlers/ar/archive.ts).
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../../src/kit/handler.js';
import type { Sink, Source } from '../../src/kit/io.js';
import { AR_MAGIC, normalizeArchive } from './archive.js';
import { listAr } from './listing.js';

export const ar: Handler = {
  name: 'ar',
  defaultEnabled: false,
  files: '*.a with !<arch>',
  matchName: extensionMatcher(['a']),
  // file(1) calls anything starting `!<arch>\ndebian` a Debian package, not an ar archive.
  detect: (head) => head.toString('latin1', 0, 8) === AR_MAGIC && head.toString('latin1', 8, 14) !== 'debian',
  normalize: (src: Source, sink: Sink, ctx: HandlerContext) => normalizeArchive(src, sink, ctx, true),
  list: (src) => listAr(src),
};
