/**
 * An rpm's content for --identity and diff (Handler.list): the payload's files (paths without the
 * leading `./`, type and permission bits from the cpio mode, a symlink's target, content; every
 * name of a hard-link set with the set's data), and as fields the main header's tags except the
 * volatile ones, after ALT Linux's RPMTAG_IDENTITY proposal (docs/identity.md lists them).
 * Reads only.
 */
import type { HandlerContext, ListedField, ListedMember, Listing } from '../../src/kit/handler.js';
import { RangeSource, readExactSync, type Source } from '../../src/kit/io.js';
import { FormatError } from '../../src/kit/errors.js';
import { compressionOf, decompressed } from '../../src/kit/compression.js';
import { cpioType } from '../../src/kit/cpio-newc.js';
import { readInts, readStrings, Type, type Entry, type Header } from './header.js';
import { payloadCompression, readPackage } from './package.js';
import { entryInode, entryMode, entryNlink, readPayload } from './payload.js';
import { tagName } from './tags.js';

/**
 * Identity v1 of an rpm leaves out these main-header tags. ALT's list (rpm issue #426): ARCH,
 * ARCHIVESIZE, AUTOINSTALLED, BUILDHOST, BUILDTIME, COOKIE, DBINSTANCE, DISTRIBUTION, DISTTAG,
 * DISTURL, FILESTATES, HEADERIMMUTABLE, INSTALLCOLOR, INSTALLTID, INSTALLTIME, LONGARCHIVESIZE,
 * LONGSIGSIZE, LONGSIZE, ORIGBASENAMES, ORIGDIRINDEXES, ORIGDIRNAMES, PAYLOADDIGEST, RELEASE,
 * RSAHEADER, SHA1HEADER, SHA256HEADER, SIGLEMD5_1, SIGLEMD5_2, SIGMD5, SIGPGP, SIGSIZE, SIZE; then
 * what says how the payload was packed or repeats its content (PAYLOADCOMPRESSOR, PAYLOADFLAGS,
 * PAYLOADDIGESTALT, PAYLOADDIGESTALGO, FILESIZES, LONGFILESIZES, FILEDIGESTS, and FILECLASS and
 * CLASSDICT, file(1)'s descriptions of them: the members' identities hold the content), and the remaining signature tags (DSAHEADER, SIGGPG, SIGPGP5,
 * file and verity signatures). The signature header is left out as a whole. The requirement
 * rpmbuild adds for the compressor (`rpmlib(PayloadIsXz)` and the like) is left out of
 * REQUIRENAME, REQUIREVERSION and REQUIREFLAGS.
 */
export const IDENTITY_EXCLUDED_TAGS: ReadonlySet<number> = new Set([
  1022, 1046, 5094, 1007, 1006, 1094, 1195, 1010, 1155, 1123, 1029, 63, 1127, 1128, 1008, 271, 270, 5009, 1120, 1119, 1121, 5092,
  1002, 268, 269, 273, 258, 260, 261, 259, 257, 1009,
  1125, 1126, 5097, 5093, 1028, 5008, 1035, 1141, 1142,
  267, 262, 263, 5090, 5091, 276, 277, 61, 62,
]);

const REQUIRE = { FLAGS: 1048, NAME: 1049, VERSION: 1050 };
/** The requirement rpmbuild adds for the payload's compressor (`rpmlib(PayloadIsXz)`): how the
 *  package was packed, not what it needs. */
const PAYLOAD_REQUIREMENT = /^rpmlib\(PayloadIs\w+\)$/;

function values(e: Entry): (string | number)[] | string {
  if (e.type === Type.Bin) return e.data.toString('hex');
  if (e.type === Type.String || e.type === Type.StringArray || e.type === Type.I18nString) return readStrings(e);
  if (e.type === Type.Char) return e.data.toString('latin1');
  return readInts(e);
}

/** The main header's significant tags, in tag order; the requirement arrays without the
 *  payload compressor's entry. */
export function identityFields(main: Header): ListedField[] {
  const names = main.entries.find((e) => e.tag === REQUIRE.NAME);
  const packing = new Set(names ? readStrings(names).flatMap((n, i) => (PAYLOAD_REQUIREMENT.test(n) ? [i] : [])) : []);
  const isRequire = (tag: number) => tag === REQUIRE.FLAGS || tag === REQUIRE.NAME || tag === REQUIRE.VERSION;
  return main.entries
    .filter((e) => !IDENTITY_EXCLUDED_TAGS.has(e.tag))
    .sort((a, b) => a.tag - b.tag)
    .map((e) => {
      const v = values(e);
      const kept = isRequire(e.tag) && Array.isArray(v) ? v.filter((_, i) => !packing.has(i)) : v;
      return { name: tagName(e.tag), value: JSON.stringify(kept) };
    });
}

/** The payload as plain cpio: from its own magic (a compared rpm's may be left plain), else as
 *  the header says. */
async function plainPayload(src: Source, at: number, main: Header): Promise<Source> {
  const packed = new RangeSource(src, at, src.size - at);
  const head = packed.readSync(0, 8);
  const declared = payloadCompression(main, head);
  const kind = head.toString('latin1', 0, 4) === '0707' ? undefined : (compressionOf(head) ?? (declared === 'lzma' ? 'lzma' : undefined));
  return kind ? decompressed(kind, packed) : packed;
}

export async function listRpm(src: Source, _ctx: HandlerContext): Promise<Listing> {
  const pkg = readPackage(src);
  const plain = await plainPayload(src, pkg.payloadAt, pkg.main);
  const payload = readPayload(plain);
  if (payload.format === 'stripped') throw new FormatError('rpm with a large-file (stripped cpio) payload cannot be listed');
  // A hard-link set's data is on its last entry: every name of it gets that content.
  const dataOf = new Map<number, { at: number; size: number }>();
  for (const e of payload.entries) if (e.dataSize > 0) dataOf.set(entryInode(e), { at: e.dataAt, size: e.dataSize });
  const members = payload.entries.map((e): ListedMember => {
    const mode = entryMode(e);
    const type = cpioType(mode);
    const data = entryNlink(e) > 1 && e.dataSize === 0 ? (dataOf.get(entryInode(e)) ?? { at: e.dataAt, size: 0 }) : { at: e.dataAt, size: e.dataSize };
    const content = async () => readExactSync(plain, data.at, data.size, 'rpm payload member');
    const link = type === 'symlink' ? readExactSync(plain, e.dataAt, e.dataSize, 'rpm symlink target').toString('utf8') : undefined;
    return { path: e.name.replace(/^\.\//, '').replace(/\/+$/, '') || '.', type, mode: (mode & 0o7777).toString(8), link, content };
  });
  return { kind: 'rpm', members, fields: identityFields(pkg.main) };
}
