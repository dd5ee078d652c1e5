/**
 * ar archives (`*.a`, `!<arch>\n`): off by default, as in Perl.
 *
 * Changes, in every member header but the GNU long-name table `// `: mtime becomes T (0 when
 * unset, never clamped), uid and gid 0, and the mode 755 if the owner-exec bit was set, else
 * 644. The symbol table `/ ` keeps its mode. Keeps: names, sizes, member data, padding.
 * Errors: a short header, bad header magic, a size below 1, member data past the end.
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../src/handler.js';
import { readExact, type Sink, type Source } from '../src/io.js';
import { OutputPlan } from '../src/plan.js';
import { padRight } from '../src/binary.js';
import { FormatError } from '../src/errors.js';
import { formatCtime } from '../src/time.js';

export const AR_MAGIC = '!<arch>\n';
const HEADER = 60;

/** Perl's numeric conversion of a header field: leading blanks, then an optional sign and
 *  digits; anything else counts as 0. */
function perlNumber(field: string, radix: 8 | 10): number {
  const m = (radix === 10 ? /^\s*([-+]?\d+)/ : /^\s*([0-7]+)/).exec(field);
  return m ? parseInt(m[1], radix) : 0;
}

export const ar: Handler = {
  name: 'ar',
  defaultEnabled: false,
  matchName: extensionMatcher(['a']),
  detect: (head) => head.toString('latin1', 0, 8) === AR_MAGIC,

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    if (src.size < 8 || (await src.read(0, 8)).toString('latin1') !== AR_MAGIC) return false;
    const T = ctx.options.timestamp;
    const mtimeField = padRight(String(T ?? 0), 12, 'timestamp');
    const zeroId = padRight('0', 6, 'id');
    const plan = new OutputPlan(src);
    plan.copy(0, 8);
    let pos = 8;
    while (pos < src.size) {
      if (src.size - pos < HEADER) throw new FormatError('Incorrect header length', pos);
      const hdr = await readExact(src, pos, HEADER, 'ar member header');
      if (hdr.toString('latin1', 58, 60) !== '`\n') throw new FormatError('Incorrect file magic', pos);
      const id = hdr.toString('latin1', 0, 16);
      const mode = perlNumber(hdr.toString('latin1', 40, 48), 8);
      const size = perlNumber(hdr.toString('latin1', 48, 58), 10);
      if (size < 1) throw new FormatError('Incorrect file size', pos);
      const dataEnd = pos + HEADER + size;
      if (dataEnd > src.size) throw new FormatError(`member data truncated (${size} bytes declared)`, pos);

      const isLongNames = id.startsWith('// ');
      const isSymbolTable = id.startsWith('/ ');
      const out = Buffer.from(hdr);
      if (!isLongNames) {
        if (isSymbolTable && ctx.options.verbose && T) {
          ctx.info(`Setting symbols table's mtime in ${ctx.name} to: ${formatCtime(T)}. GNU ar cannot do this.`);
        }
        mtimeField.copy(out, 16);
        zeroId.copy(out, 28);
        zeroId.copy(out, 34);
        if (!isSymbolTable) padRight((mode & 0o100 ? 0o755 : 0o644).toString(8), 8, 'mode').copy(out, 40);
      }
      plan.replace(pos, hdr, out);
      // Members are padded to an even offset; a missing final pad byte is tolerated.
      const next = Math.min(dataEnd + (size % 2), src.size);
      plan.copy(pos + HEADER, next - pos - HEADER);
      pos = next;
    }
    return plan.commit(sink);
  },
};
