/**
 * The contract every format module in handlers/ implements. A handler is a pure
 * transformation: it reads a Source, writes its result to a Sink, and returns whether the
 * output differs from the input. It never opens, writes or renames files itself.
 */
import type { NormalizeOptions } from './options.js';
import type { Sink, Source } from './io.js';
import { FormatError } from './errors.js';

export interface HandlerContext {
  readonly options: NormalizeOptions;
  /** The file (or archive member) being normalized, for messages. */
  readonly name: string;
  /** A problem that does not stop the file from being processed. */
  warn(message: string): void;
  /** Diagnostics shown only with --verbose. */
  info(message: string): void;
}

export interface Handler {
  /** Normalizer name as used by -t and --normalizers. */
  readonly name: string;
  /** Enabled unless --normalizers says otherwise (Perl: every handler but ar). */
  readonly defaultEnabled: boolean;
  /** A format the Perl tool does not handle (tar, deb): dh_strip_nondeterminism, a drop-in for
   *  the Perl helper, leaves these off so packages come out as the Perl tool makes them. */
  readonly beyondPerl?: boolean;
  /** Has work only when build paths or host names are given (elf, html): the CLI leaves it off
   *  otherwise, so those files are not even claimed. */
  readonly onlyScrubs?: boolean;
  /** Does the path look like this format? (Perl's file-name regex.) */
  matchName(path: string): boolean;
  /** Do the first bytes look like this format? (What Perl asks file(1).) `head` holds up to
   *  HEAD_SIZE bytes, `size` is the whole input's size, `path` the name it matched with. */
  detect(head: Buffer, size: number, path: string): boolean;
  /** Optional second look for formats whose verdict needs more than the head (pyzip reads the
   *  end of central directory); runs only when detect() said yes. */
  refine?(src: Source): Promise<boolean>;
  /** Normalize `src` into `sink`. Returns true if (and only if) the output differs from the
   *  input; when it returns false the sink may have received nothing and is discarded. */
  normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean>;
}

/** A name test from a list of extensions, as Perl's `m/\.(a|b)$/`. */
export function extensionMatcher(exts: readonly string[], caseInsensitive = false): (path: string) => boolean {
  const re = new RegExp(`\\.(?:${exts.join('|')})$`, caseInsensitive ? 'i' : '');
  return (path: string) => re.test(path);
}

/**
 * Normalize an archive member with `run`; a FormatError becomes a warning naming the member
 * (ctx.name), which the caller then keeps as it was (returns false).
 */
export async function normalizeMemberOrKeep(run: (src: Source, sink: Sink, ctx: HandlerContext) => Promise<boolean>, src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
  try {
    return await run(src, sink, ctx);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    ctx.warn(`${ctx.name}: ${e.message}; member left unchanged`);
    return false;
  }
}
