/**
 * The contract every format module in handlers/ implements, and the one way a container reaches
 * its members (HandlerContext.member). A handler is a pure transformation: it reads a Source,
 * writes its result to a Sink, and returns whether the output differs from the input. It never
 * opens, writes or renames files itself, and it never imports the registry, detection or another
 * family's handler: nested members go through ctx.member, which the application builds from
 * detection and the registry and which enforces the depth and size bounds.
 */
import type { NormalizeOptions } from './options.js';
import type { Sink, Source } from './io.js';
import { FormatError } from './errors.js';

/** What a container may say about how its members are normalized (HandlerContext.member). */
export interface MemberOptions {
  /** This project's normalizers allowed to take the member, among the enabled ones. Default:
   *  every enabled one. Handlers registered through the API are allowed whatever the list says:
   *  they are no format the Perl tool knows, so they cannot change its bytes. */
  readonly allow?: readonly string[];
  /** Normalizers the container's own format applies whether or not --normalizers enabled them
   *  (odf's meta.xml). Detection still decides. */
  readonly implied?: readonly string[];
  /** Use this normalizer, without detection (a .deb's data.tar.xz is a tar by definition). */
  readonly as?: string;
  /** A FormatError inside the member: 'warn' (default) keeps the member as it was and warns;
   *  'throw' fails the container (Perl fails a jar whose nested jar is corrupt). */
  readonly errors?: 'warn' | 'throw';
  /** Requests for the member's own members, seen by the nested handler as ctx.hooks. */
  readonly hooks?: MemberHooks;
}

/** A container's requests to the container nested in it (a .deb to its tars: md5sums). */
export interface MemberHooks {
  /** New content for the nested member `name`, or undefined to normalize it as usual. */
  content?(name: string, original: () => Buffer): Buffer | undefined;
  /** Told the MD5 (hex) of each nested member whose content changed. */
  changed?(name: string, md5: string): void;
}

export interface MemberResult {
  /** The normalizer that took the member; undefined when none did (the sink got nothing). */
  readonly handler?: string;
  /** The sink holds new bytes that differ from the member's. */
  readonly changed: boolean;
  /** The handler left the member alone on purpose and said why (ctx.keep): signed, encrypted. */
  readonly kept: boolean;
}

export interface HandlerContext {
  readonly options: NormalizeOptions;
  /** The file (or `file:member:member`) being normalized, for messages. */
  readonly name: string;
  /** How many containers enclose this input (0 for a file). */
  readonly depth: number;
  /** What the enclosing container asks of this one's members (see MemberHooks). */
  readonly hooks?: MemberHooks;
  /** A problem that does not stop the file from being processed. */
  warn(message: string): void;
  /** Diagnostics shown only with --verbose. */
  info(message: string): void;
  /** The input is deliberately left as it is: warns `reason`; normalize() then returns false. */
  keep(reason: string): void;
  /**
   * Normalize the member `name` of this input from `src` into `sink`, with the handler
   * detection (or `options.as`) picks. `name` is the member's path in the container; '' stands
   * for this input's own bytes seen as another format (a tar.gz whose tar is unchanged still
   * gets the gzip header treatment). When the result is not `changed` the sink may hold a
   * partial output, which the caller discards.
   */
  member(name: string, src: Source, sink: Sink, options?: MemberOptions): Promise<MemberResult>;
  /** Account for `bytes` this handler is about to hold in memory for a member (an inflated zip
   *  member). Every member of a file draws on one budget (4 × --max-member-size, or 64 times the
   *  file's size if that is more): past it, a LimitError, so a nested-archive bomb ends in an
   *  error, quickly. */
  reserve(bytes: number, what: string): void;
  /** Might a handler take a member of this name (by its name alone)? Lets a container skip
   *  reading a member (inflating it, say) that nothing would look at. */
  wants(name: string, options?: MemberOptions): boolean;
  /** Ask that the regular file `name` in the input's own directory get this mtime (seconds) once
   *  the input is written (.pyc: its source). Honoured for a file only: dropped for members,
   *  buffers and --check, and for a name that is a symlink or not a regular file. */
  setMtimeBeside(name: string, mtime: number): void;
}

/** One member of a container, as --identity and diff see it (Handler.list). */
export interface ListedMember {
  /** Its path in the container; '' for the content of a compressed stream. */
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  /** The mode bits that matter in this format, as text (tar and cpio: the permission bits in
   *  octal; zip: `x` or `-` for the owner's execute bit); '' where none do. */
  readonly mode: string;
  /** A link's target; `major,minor` for a device. */
  readonly link?: string;
  /** A regular file's content. */
  content(): Promise<Buffer>;
}

/** A significant value a container holds beside its members (an rpm header's tags). */
export interface ListedField {
  readonly name: string;
  /** The value as text (a JSON array of an rpm tag's values). */
  readonly value: string;
}

export interface Listing {
  /** 'zip', 'tar', 'ar', 'cpio', 'rpm'; 'stream' for a compressed stream, whose one member ('')
   *  is what it decompresses to. */
  readonly kind: string;
  readonly members: readonly ListedMember[];
  /** Values that belong to the identity besides the members, in a fixed order. */
  readonly fields?: readonly ListedField[];
}

export interface Handler {
  /** Normalizer name as used by -t and --normalizers. */
  readonly name: string;
  /** Enabled unless --normalizers says otherwise (Perl: every handler but ar). */
  readonly defaultEnabled: boolean;
  /** A format the Perl tool does not handle (tar, deb): dh_strip_nondeterminism, a drop-in for
   *  the Perl helper, leaves these off so packages come out as the Perl tool makes them. */
  readonly beyondPerl?: boolean;
  /** Has work only when build paths or host names are given (elf): the CLI leaves it off
   *  otherwise, so those files are not even claimed. */
  readonly onlyScrubs?: boolean;
  /** One line for --help and docs: the files it claims. */
  readonly files?: string;
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
  /** Containers: the members of `src` (a normalized input), for --identity and diff. */
  list?(src: Source, ctx: HandlerContext): Promise<Listing>;
}

/** A name test from a list of extensions, as Perl's `m/\.(a|b)$/`. */
export function extensionMatcher(exts: readonly string[], caseInsensitive = false): (path: string) => boolean {
  const re = new RegExp(`\\.(?:${exts.join('|')})$`, caseInsensitive ? 'i' : '');
  return (path: string) => re.test(path);
}

/** Throw this from a member's normalization to stop at a resource bound (depth, size). */
export class LimitError extends FormatError {}
