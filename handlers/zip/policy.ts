/**
 * What the zip normalization changes, decided member by member before anything is written:
 * Perl's member order (a flavor may change it), dropped members, DOS times T (floored at
 * 1980-01-01 12:01 UTC), Unix modes 0644/0755, extra fields, and each flavor's member
 * normalizer. Beyond Perl, a few members go through the dispatcher (ctx.member) when the user
 * turned on what they need: an EPUB's `*.opf` with xml; Maven metadata with maven; HTML and ELF members with build paths or
 * host names; members a handler registered through the library API claims. Perl's own zip handler looks inside no member, so these stay off in
 * dh_strip_nondeterminism and Perl's bytes are kept there.
 */
import type { HandlerContext, MemberOptions } from '../../src/kit/handler.js';
import { BufferSink, BufferSource } from '../../src/kit/io.js';
import { scrubs } from '../../src/kit/build-paths-and-hostnames.js';
import { memberLimit } from '../../src/kit/options.js';
import { FA_UNIX, SAFE_EPOCH, STORED, dosTime, normalizeExtraField } from './records.js';
import { isDirectoryEntry, type MemberIO, type MemberList, type ZipMember } from './members.js';

export interface ZipFlavor {
  /** A reason to leave the archive alone (Perl's archive_filter), or undefined. */
  archiveFilter?(members: MemberList, ctx: HandlerContext): string | undefined;
  /** Member order: lower ranks first; within the highest rank (2) Perl's `cmp` on names, within
   *  the others the archive's order (jar: META-INF/ then its MANIFEST.MF). Default: all rank 2. */
  rank?(name: string): number;
  /** false drops the member (Perl's filename_filter). */
  keep?(name: string): boolean;
  /** Normalize one member; returns the timestamp it gets (Perl's member_normalizer). A plain
   *  number when no content had to be read. */
  member?(m: ZipMember, time: number, io: MemberIO, ctx: HandlerContext): number | Promise<number>;
}


const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/** The time members get: T, floored at the earliest DOS time Archive::Zip writes safely. */
export function memberTime(T: number | undefined): number {
  return T === undefined || T < SAFE_EPOCH ? SAFE_EPOCH : T;
}

/** Output order, and the members the flavor drops (each named in a warning, as Perl does).
 *  Fix: a first, stored `mimetype` (EPUB, ODF) stays first; the rest sorted. */
export function orderMembers(members: MemberList, flavor: ZipFlavor, ctx: HandlerContext): MemberList {
  const n = members.length;
  const first = n ? members.at(0) : undefined;
  const pinned = first && first.name === 'mimetype' && first.entry.method === STORED ? first.index : -1;
  const rank = new Uint8Array(n).fill(2);
  if (flavor.rank) for (const m of members) rank[m.index] = flavor.rank(m.name);
  if (pinned >= 0) rank[pinned] = 0;
  // Stable: equal ranks below 2 keep the archive's order.
  const order = Uint32Array.from(members.order).sort((i, j) => rank[i] - rank[j] || (rank[i] === 2 ? members.compareIndexes(i, j) : 0));
  if (!flavor.keep) return members.withOrder(order);
  const kept: number[] = [];
  for (const m of members.withOrder(order)) {
    if (flavor.keep(m.name)) kept.push(m.index);
    else ctx.warn(`Removing ${m.name} from ${ctx.name}`);
  }
  return members.withOrder(Uint32Array.from(kept));
}

/** Archive::Zip's unixFileAttributes getter for FA_UNIX members. */
function unixMode(m: ZipMember): number {
  const mode = m.externalAttrs >>> 16;
  const localExtra = m.localLoaded && m.local ? m.local.extra.length > 0 : false;
  if (mode !== 0 || !localExtra) return mode;
  // No mode stored but a local extra field: Archive::Zip falls back to the DOS attributes.
  const attribs = ((m.externalAttrs & 1 ? 0 : 1) << 1) | ((m.externalAttrs & 0x10) >> 4);
  return 0o444 | (attribs << 6) | (attribs << 3) | attribs;
}

function normalizedAttrs(m: ZipMember): number {
  const old = unixMode(m);
  if ((old & S_IFMT) === S_IFLNK) return (S_IFLNK | 0o777) * 0x10000; // fix: symlinks stay symlinks
  let perms = old & 0o100 ? 0o755 : 0o644;
  const dir = m.kind === 'dir' || isDirectoryEntry(m.name, m.entry);
  perms = dir ? (perms & ~S_IFREG) | S_IFDIR : (perms & ~S_IFDIR) | S_IFREG;
  return perms * 0x10000 + (perms & S_IFDIR ? 16 : 0);
}

// The dispatcher works out who may take a member once per options object: these are constants.
const THIRD_PARTY_ONLY: MemberOptions = { allow: [] };
const OPF: MemberOptions = { allow: ['xml'], errors: 'throw' };
const SCRUBBED: MemberOptions = { allow: ['html', 'elf'] };
const MAVEN: MemberOptions = { allow: ['maven'] };

/** Run one member through the dispatcher; its new content replaces the old when it changed. */
async function dispatch(m: ZipMember, io: MemberIO, ctx: HandlerContext, how: MemberOptions): Promise<void> {
  const sink = new BufferSink();
  if ((await ctx.member(m.name, new BufferSource(await io.contents(m)), sink, how)).changed) await io.replace(m, sink.toBuffer());
}

/** Beyond Perl: the members the user's options reach (see the header comment). */
async function beyondPerl(m: ZipMember, io: MemberIO, ctx: HandlerContext): Promise<void> {
  const size = m.entry.uncompressedSize;
  // Members over the in-memory limit are left as they are (these are extras, not Perl's).
  if (m.kind === 'dir' || size === 0 || size > memberLimit(ctx.options)) return;
  // Formats registered through the library API (none of Perl's normalizers).
  if (ctx.wants(m.name, THIRD_PARTY_ONLY)) await dispatch(m, io, ctx, THIRD_PARTY_ONLY);
  if (ctx.options.enabled.has('xml') && /\.opf$/i.test(m.name)) await dispatch(m, io, ctx, OPF);
  if (ctx.options.enabled.has('maven') && ctx.wants(m.name, MAVEN)) await dispatch(m, io, ctx, MAVEN);
  if (scrubs(ctx.options) && (size >= 64 || /\.(?:html?|xhtml)$/i.test(m.name))) await dispatch(m, io, ctx, SCRUBBED);
}

/** Times, attributes and contents of every member, as the flavor and the options say. */
export async function applyPolicy(members: MemberList, flavor: ZipFlavor, io: MemberIO, ctx: HandlerContext): Promise<void> {
  const T = ctx.options.timestamp;
  const time = memberTime(T);
  // Said without a file name, so a run prints it once however many archives it touches.
  if (T !== undefined && T < SAFE_EPOCH && members.length) {
    ctx.warn(`strip-nondeterminism: the canonical time ${T} is before 1980-01-01 12:01:00 UTC, the earliest time zip archives hold: their members get that time`);
  }
  for (const m of members) {
    let stamp: number | Promise<number> = flavor.member ? flavor.member(m, time, io, ctx) : time;
    if (typeof stamp !== 'number') stamp = await stamp;
    m.lastMod = dosTime(stamp);
    if (m.entry.fileAttributeFormat === FA_UNIX) m.externalAttrs = normalizedAttrs(m);
    await beyondPerl(m, io, ctx);
  }
}

/** The extra-field normalizer for this archive: each distinct problem warned once. */
export function extraFieldNormalizer(ctx: HandlerContext): (field: Buffer) => Buffer {
  const T = ctx.options.timestamp;
  const time = memberTime(T);
  const warned = new Set<string>();
  return (field) =>
    field.length === 0
      ? field
      : normalizeExtraField(field, time, T, (msg) => {
          if (!warned.has(msg)) ctx.warn(`strip-nondeterminism: ${ctx.name}: ${msg}`);
          warned.add(msg);
        }) ?? Buffer.alloc(0);
}
