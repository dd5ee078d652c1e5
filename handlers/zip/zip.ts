/**
 * The zip family's shared core, and the `zip` handler (`*.zip`, `*.pk3`, `*.epub`, `*.whl`,
 * `*.xpi`, `*.htb`, `*.zhfst`, `*.par`, `*.codadef`).
 *
 * The Perl tool re-reads and re-writes the archive with Archive::Zip 1.68; this module writes
 * the bytes Archive::Zip writes, without its cost:
 *  - members in sorted order (Perl's `cmp` on names; flavors such as jar supply their own);
 *  - every member's DOS time = T (floored at 1980-01-01 12:01:00 UTC; 2-second steps; UTC);
 *  - Unix modes 0644, or 0755 when owner-exec was set; directories keep their type;
 *  - extra fields normalized (records.ts normalizeExtraField), local and central;
 *  - unchanged member data copied raw, never recompressed; members whose content a flavor
 *    changes are recompressed with zlib level 6, memLevel 9 (pako, byte-identical to the
 *    zlib behind Perl's Compress::Raw::Zlib);
 *  - headers rebuilt the way Archive::Zip rebuilds them (directory and rewritten members take
 *    their fields from the local header, empty members become stored, data descriptors kept).
 * Deliberate fixes (docs/compat.md): symlink entries stay symlinks; a first, stored `mimetype`
 * member stays first; an archive with an APK Signing Block, or with a name flagged UTF-8 that is
 * not valid UTF-8, is left alone with a warning.
 * Skipped with a warning, as in Perl: encrypted members, an empty member name, a directory whose
 * local method Archive::Zip cannot store, a zip64 data descriptor outside a zip64 archive. Memory stays flat in member size:
 * data is streamed from the source to the sink.
 * Beyond Perl, only with build paths or host names (--build-path, --hostname): HTML and ELF
 * members up to 256 MiB go through the dispatcher (the html and elf normalizers) and are
 * recompressed. Beyond Perl, with the xml normalizer on (default in the CLI, off in
 * dh_strip_nondeterminism): an EPUB's `*.opf` package document gets dcterms:modified = T
 * (docs/compat.md). A wheel whose members changed gets its RECORD lines updated (wheel.ts).
 *
 * The work is in three modules: members.ts reads, policy.ts decides, writer.ts writes.
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../../src/kit/handler.js';
import { CompareSink, type Sink, type Source } from '../../src/kit/io.js';
import { FormatError } from '../../src/kit/errors.js';
import { FLAG_ENCRYPTED, readZip, Unwritable, zipKind, type ZipArchive } from './records.js';
import { dataLength, hasApkSigningBlock, localDisagreement, memberIO, peekLocal, readMemberList, type MemberList } from './members.js';
import { applyPolicy, extraFieldNormalizer, orderMembers, type ZipFlavor } from './policy.js';
import { writeArchive } from './writer.js';
import { updateWheelRecord } from './wheel.js';
import { listZip } from './listing.js';

export type { ZipFlavor } from './policy.js';
export type { MemberIO, ZipMember } from './members.js';

export type ZipOutcome = 'written' | 'skipped';

/** The members in file order (by local header offset). */
function byOffset(members: MemberList, zip: ZipArchive): MemberList {
  const offsets = zip.directory.offset;
  return members.withOrder(Uint32Array.from(members.order).sort((a, b) => offsets[a] - offsets[b]));
}

/** Leave the archive as it is, saying why (Perl's `return 0`). */
function keep(ctx: HandlerContext, reason: string): ZipOutcome {
  ctx.keep(reason);
  return 'skipped';
}

/**
 * Normalize a zip archive from `src` into `sink` the way Perl's zip handler (with `flavor`)
 * does. Returns 'skipped' where Perl returns 0 (nothing written; ctx.keep said why), 'written'
 * otherwise.
 */
export async function normalizeZip(src: Source, sink: Sink, ctx: HandlerContext, flavor: ZipFlavor = {}): Promise<ZipOutcome> {
  try {
    return await rewriteZip(src, sink, ctx, flavor);
  } catch (e) {
    if (!(e instanceof Unwritable)) throw e;
    return keep(ctx, `strip-nondeterminism: ${ctx.name}: ${e.message}`);
  }
}

async function rewriteZip(src: Source, sink: Sink, ctx: HandlerContext, flavor: ZipFlavor): Promise<ZipOutcome> {
  const zip = readZip(src);
  if (hasApkSigningBlock(src, zip)) return keep(ctx, `${ctx.name}: has an APK Signing Block (APK signature scheme v2 or later); left unchanged, as rewriting would invalidate the signature`);
  const read = readMemberList(src, zip);
  const veto = flavor.archiveFilter?.(read, ctx);
  if (veto) return keep(ctx, veto);
  if (read.some((m) => (m.entry.bitFlag & FLAG_ENCRYPTED) !== 0)) return keep(ctx, `strip-nondeterminism: ${ctx.name}: ignoring encrypted zip file`);
  // An empty name: Perl's "no member name given". Fix: a name flagged UTF-8 that is not (Perl
  // writes it back with replacement characters).
  const badName = zip.directory.unwritableName();
  if (badName) return keep(ctx, `${ctx.name}: member ${JSON.stringify(zip.directory.nameString(badName.index))} ${badName.problem}; left unchanged`);
  // Before any member is read or replaced: a local header that contradicts its central record.
  // (Read in file order, and not kept: reading it here is not Archive::Zip reading it, see
  // unixMode, and a million local headers need not stay in memory.)
  for (const m of byOffset(read, zip)) {
    const local = peekLocal(src, zip, m);
    if (m.kind === 'file' && m.entry.uncompressedSize > 0 && local.dataOffset + dataLength(m) > src.size) throw new FormatError(`member ${m.name}: data runs past the end of the archive`);
    const disagreement = localDisagreement(m, local);
    if (disagreement) return keep(ctx, `${ctx.name}: member ${m.name}: ${disagreement}; left unchanged, as a copy would not read back`);
  }
  const members = orderMembers(read, flavor, ctx);
  const io = memberIO(src, zip, ctx);
  await applyPolicy(members, flavor, io, ctx);
  if (/\.whl$/i.test(ctx.name)) await updateWheelRecord(members, io, ctx);
  await writeArchive(src, zip, members, sink, extraFieldNormalizer(ctx));
  return 'written';
}

/** Run a zip-family normalization and report whether the bytes changed. `prefix` bytes
 *  (a jmod header, a shebang line) are kept in front of the archive. */
export async function normalizeZipFile(src: Source, zipSrc: Source, prefix: Buffer, sink: Sink, ctx: HandlerContext, flavor?: ZipFlavor): Promise<boolean> {
  const compare = new CompareSink(sink, src);
  if (prefix.length) await compare.write(prefix);
  const outcome = await normalizeZip(zipSrc, compare, ctx, flavor);
  return outcome === 'written' && !compare.identical;
}

export const zip: Handler = {
  name: 'zip',
  defaultEnabled: true,
  files: '*.zip, *.pk3, *.epub, *.whl, *.xpi, *.htb, *.zhfst, *.par, *.codadef',
  matchName: extensionMatcher(['zip', 'pk3', 'epub', 'whl', 'xpi', 'htb', 'zhfst', 'par', 'codadef']),
  // file(1) must say "Zip archive data" or "EPUB document".
  detect: (head) => ['zip', 'epub'].includes(zipKind(head)),
  normalize: (src, sink, ctx) => normalizeZipFile(src, src, Buffer.alloc(0), sink, ctx),
  list: listZip,
};
