/**
 * rpm packages (`*.rpm`, lead magic ed ab ee db; rpm v4 as rpm 4.x writes them). Not in the Perl
 * tool: on by default in strip-nondeterminism, off in dh_strip_nondeterminism. docs/formats.md.
 *
 * Changes, in the main header: BUILDTIME to T (clamped with --clamp-timestamp; with T unset, the
 * newest changelog entry's time, rpm's own %source_date_epoch_from_changelog rule), BUILDHOST to
 * its --hostname replacement or `build`, COOKIE (host and time) to the same, FILEMTIMES as
 * BUILDTIME; with --build-path or --hostname, the header's text (not its file names). In the payload (cpio, compressed as PAYLOADCOMPRESSOR says): each entry's mtime as
 * FILEMTIMES, each file normalized through the member dispatcher (jars, .gz, png, .mo, ELF build
 * paths when asked; not in source packages, whose tarballs are upstream's), FILEDIGESTS and
 * FILESIZES (of every name of a hard-link set) and SIZE following a changed file. Then every
 * digest and size: PAYLOADDIGEST and PAYLOADDIGESTALT, SHA1 and SHA256 of the header, the MD5
 * of header and payload, the sizes; RESERVEDSPACE grows or shrinks so the signature header keeps
 * its size.
 * Keeps: the lead, every other tag byte for byte, the payload's bytes when no entry changes, its
 * compressor and level (recompressed with fixed settings, src/kit/compression.ts).
 * Left unchanged, with a warning: signed packages (unless --rpm-strip-signatures, which drops the
 * signatures), payloads of an unknown compressor or format. Large-file payloads (stripped cpio,
 * 07070X) get the header's changes only.
 */
import { crypto } from '../../src/kit/builtins.js';
import { extensionMatcher, type Handler, type HandlerContext } from '../../src/kit/handler.js';
import { digestRange, forEachChunk, RangeSource, type Sink, type Source } from '../../src/kit/io.js';
import { FormatError } from '../../src/kit/errors.js';
import { CANONICAL_HOSTNAME, type NormalizeOptions } from '../../src/kit/options.js';
import { formatCtime, headerTime } from '../../src/kit/time.js';
import { scrubText, scrubs } from '../../src/kit/build-paths-and-hostnames.js';
import { ScratchFile, normalizeMemberInto } from '../../src/kit/scratch-file.js';
import { compress, decompress, type Compression } from '../../src/kit/compression.js';
import { readInts, readStrings, regionTrailer, serializeHeader, writeInts, writeStrings, REGION_TAGS, Type, type Entry, type Header } from './header.js';
import { LEAD_MAGIC, LEAD_SIZE, findEntry, filePaths, pad8, payloadCompression, payloadKey, payloadLevel, readPackage, stringOf, type Package } from './package.js';
import { dataPadding, entryHead, entryMode, entryMtime, readPayload, type Payload, type PayloadEntry } from './payload.js';
import { DIGEST_ALGORITHMS, MAIN_SIGNATURES, SIG, SIG_SIGNATURES, TAG } from './tags.js';
import { listRpm } from './listing.js';

const REGULAR = 0o100000;
const isRegular = (mode: number) => (mode & 0o170000) === REGULAR;

function digestName(h: Header, tag: number, fallback: number): string {
  const e = findEntry(h, tag);
  const algo = e ? readInts(e)[0] : fallback;
  const name = DIGEST_ALGORITHMS[algo];
  if (!name) throw new FormatError(`rpm main header: unknown digest algorithm ${algo} (tag ${tag})`);
  return name;
}

/** The time the package's times become: T, or with T unset the newest changelog entry's. */
function canonicalTime(main: Header, options: NormalizeOptions): number {
  if (options.timestamp !== undefined) return options.timestamp;
  const log = findEntry(main, TAG.CHANGELOGTIME);
  return log ? readInts(log).reduce((a, b) => Math.max(a, b), 0) : 0;
}

const timeFor = (old: number, time: number, clamp: boolean) => (clamp ? Math.min(old, time) : time);

function canonicalHost(old: string, options: NormalizeOptions): string {
  const lower = old.toLowerCase();
  return options.hostnames?.find((h) => h.name.toLowerCase() === lower)?.replacement ?? CANONICAL_HOSTNAME;
}

/** The header's per-file arrays that follow a file's content, indexed as the file list. */
class FileTable {
  readonly index = new Map<string, number>();
  private readonly sizes?: Entry;
  private readonly digests?: Entry;
  private readonly sizeValues: number[];
  private readonly digestValues: string[];
  private readonly linkSet: number[][];
  /** The change in SIZE: each hard-link set counts once, as rpmbuild counts it. */
  sizeDelta = 0;
  changed = false;

  constructor(main: Header) {
    filePaths(main).forEach((p, i) => this.index.set(p, i));
    this.sizes = findEntry(main, TAG.LONGFILESIZES) ?? findEntry(main, TAG.FILESIZES);
    this.digests = findEntry(main, TAG.FILEDIGESTS);
    this.sizeValues = this.sizes ? readInts(this.sizes) : [];
    this.digestValues = this.digests ? readStrings(this.digests) : [];
    const inodes = findEntry(main, TAG.FILEINODES);
    const devices = findEntry(main, TAG.FILEDEVICES);
    const inode = inodes ? readInts(inodes) : [];
    const device = devices ? readInts(devices) : [];
    const sets = new Map<string, number[]>();
    for (let i = 0; i < this.index.size; i++) {
      const key = inode[i] === undefined ? `#${i}` : `${device[i] ?? 0}:${inode[i]}`;
      const set = sets.get(key);
      if (set) set.push(i);
      else sets.set(key, [i]);
    }
    this.linkSet = [];
    for (const set of sets.values()) for (const i of set) this.linkSet[i] = set;
  }

  /** File `i` (and every other name of it) now has `size` bytes with this digest. */
  setContent(i: number, size: number, digest: string): void {
    if (this.sizeValues[i] !== undefined) this.sizeDelta += size - this.sizeValues[i];
    for (const j of this.linkSet[i] ?? [i]) {
      if (this.sizeValues[j] !== undefined) this.sizeValues[j] = size;
      if (this.digestValues[j] !== undefined && this.digestValues[j] !== '') this.digestValues[j] = digest;
    }
    this.changed = true;
  }

  apply(): void {
    if (!this.changed) return;
    if (this.sizes) {
      if (this.sizes.type === Type.Int32 && this.sizeValues.some((s) => s > 0xffffffff)) throw new FormatError('rpm: a file grows past 4 GiB, which FILESIZES cannot hold');
      writeInts(this.sizes, this.sizeValues);
    }
    if (this.digests) writeStrings(this.digests, this.digestValues);
  }
}

function setInt(h: Header, tag: number, value: (old: number) => number): void {
  const e = findEntry(h, tag);
  if (e) writeInts(e, readInts(e).map(value));
}

function setString(h: Header, tag: number, value: string): void {
  const e = findEntry(h, tag);
  if (e) writeStrings(e, [value]);
}

/** libmagic's gzip description carries the stream's name and time (`, was "notes.txt", last
 *  modified: Tue Mar  4 05:06:07 2025`): rpmbuild stores it in CLASSDICT. When the gzip normalizer
 *  runs, the description becomes what libmagic says of its output: no name, the time it gives
 *  the header (T, clamped, or none at all for 0). */
const GZIP_TIME = /(gzip compressed data.*?), last modified: ([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4})/;
const GZIP_NAME = /(gzip compressed data), was "[^"]*"/;

function classDescription(text: string, options: NormalizeOptions): string {
  if (!options.enabled.has('gzip') || !text.includes('gzip compressed data')) return text;
  text = text.replace(GZIP_NAME, '$1');
  const m = GZIP_TIME.exec(text);
  if (!m) return text;
  const old = Date.parse(`${m[2]} UTC`) / 1000;
  const time = headerTime(Number.isFinite(old) ? old : 1, options.timestamp, options.clamp);
  const clause = time === 0 ? '' : `, last modified: ${formatCtime(time)}`;
  return text.replace(m[0], `${m[1]}${clause}`);
}

/** Tags whose strings name the package's files (or their digests): they must stay as the
 *  payload has them, whatever --build-path says. */
const FILE_NAME_TAGS: ReadonlySet<number> = new Set([TAG.BASENAMES, TAG.DIRNAMES, TAG.OLDFILENAMES, TAG.FILELINKTOS, TAG.FILEDIGESTS]);

/** With --build-path or --hostname: the build paths and host names in the header's text (a
 *  source package's SPEC holds the expanded spec, %{buildroot} included; OPTFLAGS may hold a
 *  -ffile-prefix-map). The strings may change length: the header is laid out again. */
function scrubHeaderText(main: Header, options: NormalizeOptions): void {
  if (!scrubs(options)) return;
  for (const e of main.entries) {
    if (FILE_NAME_TAGS.has(e.tag) || (e.type !== Type.String && e.type !== Type.StringArray && e.type !== Type.I18nString)) continue;
    const scrubbed = scrubText(e.data, options);
    if (scrubbed) e.data = scrubbed;
  }
}

/** BUILDTIME, BUILDHOST, COOKIE, FILEMTIMES, and the times in CLASSDICT. */
function normalizeMainFields(main: Header, options: NormalizeOptions): void {
  const time = canonicalTime(main, options);
  const hostEntry = findEntry(main, TAG.BUILDHOST);
  const host = canonicalHost(hostEntry ? readStrings(hostEntry)[0] : '', options);
  setInt(main, TAG.BUILDTIME, (old) => timeFor(old, time, options.clamp));
  setString(main, TAG.BUILDHOST, host);
  const buildTime = findEntry(main, TAG.BUILDTIME);
  setString(main, TAG.COOKIE, `${host} ${buildTime ? readInts(buildTime)[0] : time}`);
  setInt(main, TAG.FILEMTIMES, (old) => timeFor(old, time, options.clamp));
  const classes = findEntry(main, TAG.CLASSDICT);
  if (classes) writeStrings(classes, readStrings(classes).map((c) => classDescription(c, options)));
}

/** The signatures a package carries (either header), by name. */
const signaturesOf = (pkg: Package) => [
  ...new Set([...pkg.sig.entries.map((e) => SIG_SIGNATURES.get(e.tag)), ...pkg.main.entries.map((e) => MAIN_SIGNATURES.get(e.tag))].filter((n): n is string => !!n)),
];

/** Drop the signature tags from a header, keeping its region trailer's count right. */
function withoutSignatures(h: Header, signatures: ReadonlyMap<number, string>): Header {
  const region = h.entries[0];
  const inRegion = REGION_TAGS.has(region.tag) ? -region.data.readInt32BE(8) / 16 : 0;
  const kept = h.entries.filter((e) => !signatures.has(e.tag));
  if (kept.length === h.entries.length) return h;
  if (inRegion) {
    const dropped = h.entries.slice(0, inRegion).filter((e) => signatures.has(e.tag)).length;
    region.data = regionTrailer(region.tag, inRegion - dropped);
  }
  return { entries: kept, size: h.size };
}

interface NewPayload {
  /** The payload's new bytes, in `data`. */
  readonly data: Source;
  readonly uncompressedSize: number;
  readonly digest: string;
  readonly digestAlt: string;
}

/** A sink that hashes what passes through it and counts the bytes. */
class HashingSink implements Sink {
  readonly hash;
  bytes = 0;
  constructor(
    private readonly inner: Sink,
    algorithm: string,
  ) {
    this.hash = crypto().createHash(algorithm);
  }
  async write(data: Uint8Array): Promise<void> {
    this.hash.update(data);
    this.bytes += data.length;
    await this.inner.write(data);
  }
  copyFrom(src: Source, offset: number, length: number): Promise<void> {
    return forEachChunk(src, offset, length, (chunk) => this.write(chunk));
  }
}

const digestOf = async (src: Source, offset: number, length: number, algorithm: string) => (await digestRange(src, offset, length, algorithm)).toString('hex');

/** The payload's entries, normalized: new heads and, for changed files, new bodies. */
interface PayloadPlan {
  readonly plain: Source;
  readonly payload: Payload;
  readonly heads: Buffer[];
  readonly bodies: ({ offset: number; size: number } | undefined)[];
  readonly changed: boolean;
}

async function planPayload(plain: Source, pkg: Package, files: FileTable, mtimes: number[] | undefined, scratch: ScratchFile, ctx: HandlerContext): Promise<PayloadPlan> {
  const payload = readPayload(plain);
  if (payload.format === 'stripped') {
    ctx.warn(`${ctx.name}: large-file payload (stripped cpio); its files are not normalized, the header is`);
    return { plain, payload, heads: [], bodies: [], changed: false };
  }
  const fileDigest = digestName(pkg.main, TAG.FILEDIGESTALGO, 1);
  const heads: Buffer[] = [];
  const bodies: PayloadPlan['bodies'] = [];
  let changed = false;
  for (const e of payload.entries) {
    const i = files.index.get(payloadKey(e.name));
    if (i === undefined) throw new FormatError(`rpm payload: ${e.name} is not in the header's file list`);
    const body = await normalizeEntry(e, plain, pkg, scratch, ctx);
    if (body) files.setContent(i, body.size, await digestOf(scratch.source(), body.offset, body.size, fileDigest));
    const head = entryHead(e, mtimes?.[i] ?? entryMtime(e), body ? body.size : e.dataSize);
    changed ||= !!body || head !== e.head;
    heads.push(head);
    bodies.push(body);
  }
  warnStaleBuildIds(payload, bodies, plain, ctx);
  return { plain, payload, heads, bodies, changed };
}

/** rpmbuild names /usr/lib/.build-id/ links after each ELF file's build-id; the ELF normalizer
 *  (with --build-path) gives a changed binary a new one, and the links are not renamed (that
 *  would add file entries to the header): say so. */
function warnStaleBuildIds(payload: Payload, bodies: PayloadPlan['bodies'], plain: Source, ctx: HandlerContext): void {
  if (!payload.entries.some((e) => e.name.startsWith('./usr/lib/.build-id/'))) return;
  const elf = payload.entries.find((e, n) => bodies[n] && plain.readSync(e.dataAt, 4).toString('latin1') === '\x7fELF');
  if (elf) ctx.warn(`${ctx.name}: ${elf.name.slice(2)} and maybe other ELF files got new build-ids; the package's /usr/lib/.build-id links keep the old ones (build with -ffile-prefix-map so the build-id carries no build path)`);
}

function normalizeEntry(e: PayloadEntry, plain: Source, pkg: Package, scratch: ScratchFile, ctx: HandlerContext) {
  if (pkg.isSource || !isRegular(entryMode(e)) || e.dataSize === 0) return Promise.resolve(undefined);
  return normalizeMemberInto(scratch, ctx, payloadKey(e.name).replace(/^\//, ''), plain, e.dataAt, e.dataSize);
}

async function writePayload(plan: PayloadPlan, bodies: Source | undefined, out: Sink): Promise<void> {
  for (const [n, e] of plan.payload.entries.entries()) {
    await out.write(plan.heads[n]);
    const body = plan.bodies[n];
    if (body) await out.copyFrom(bodies!, body.offset, body.size);
    else if (e.dataSize) await out.copyFrom(plan.plain, e.dataAt, e.dataSize);
    const size = body ? body.size : e.dataSize;
    if (size % 4) await out.write(dataPadding(size));
  }
  await out.copyFrom(plan.plain, plan.payload.trailerAt, plan.plain.size - plan.payload.trailerAt);
}

/** Compress the planned payload as the header asks (left plain when comparing), hashing both. */
async function buildPayload(plan: PayloadPlan, kind: Compression | 'none', main: Header, bodies: Source | undefined, out: ScratchFile, options: NormalizeOptions): Promise<NewPayload> {
  const algorithm = digestName(main, TAG.PAYLOADDIGESTALGO, 8);
  const compressed = new HashingSink(out, algorithm);
  let plainHash: HashingSink;
  if (kind === 'none' || options.comparing) {
    plainHash = compressed;
    await writePayload(plan, bodies, compressed);
  } else {
    let inner!: HashingSink;
    await compress(kind, async (input) => {
      inner = new HashingSink(input, algorithm);
      await writePayload(plan, bodies, inner);
    }, compressed, options.compressThreads ?? 1, payloadLevel(main));
    plainHash = inner;
  }
  const digest = compressed.hash.digest('hex');
  const digestAlt = plainHash === compressed ? digest : plainHash.hash.digest('hex');
  return { data: out.source(), uncompressedSize: plainHash.bytes, digest, digestAlt };
}

/** The signature header for the new main header and payload, at the old size where
 *  RESERVEDSPACE can absorb the difference. */
async function buildSignature(sig: Header, oldSize: number, mainBytes: Buffer, payload: Source, payloadAt: number, newPayload?: NewPayload): Promise<Buffer> {
  const payloadSize = payload.size - payloadAt;
  if (sig.entries.some((e) => e.tag === SIG.SIZE) && mainBytes.length + payloadSize > 0xffffffff) {
    throw new FormatError('rpm: the package grows past 4 GiB, which its signature header\'s SIZE cannot hold');
  }
  setInt(sig, SIG.SIZE, () => mainBytes.length + payloadSize);
  setInt(sig, SIG.LONGSIZE, () => mainBytes.length + payloadSize);
  if (newPayload) {
    setInt(sig, SIG.PAYLOADSIZE, () => newPayload.uncompressedSize);
    setInt(sig, SIG.LONGARCHIVESIZE, () => newPayload.uncompressedSize);
  }
  const hex = (algorithm: string) => crypto().createHash(algorithm).update(mainBytes).digest('hex');
  setString(sig, SIG.SHA1, hex('sha1'));
  setString(sig, SIG.SHA256, hex('sha256'));
  const md5 = findEntry(sig, SIG.MD5);
  if (md5) md5.data = await digestRange(payload, payloadAt, payloadSize, 'md5', mainBytes);
  return keepSize(sig, oldSize);
}

/** Serialize, resizing RESERVEDSPACE (when present) so header and padding keep `size` bytes. */
function keepSize(sig: Header, size: number): Buffer {
  const reserved = findEntry(sig, SIG.RESERVEDSPACE);
  let bytes = serializeHeader(sig.entries);
  for (let tries = 0; reserved && tries < 4; tries++) {
    const delta = size - (bytes.length + pad8(bytes.length));
    if (delta === 0 || reserved.data.length + delta < 1) break;
    reserved.data = Buffer.alloc(reserved.data.length + delta);
    reserved.count = reserved.data.length;
    bytes = serializeHeader(sig.entries);
  }
  return bytes;
}

/** A package whose digests do not match is damaged: normalizing would give it valid ones. */
async function verifyDigests(pkg: Package, src: Source): Promise<void> {
  const sha256 = findEntry(pkg.sig, SIG.SHA256);
  const sha1 = findEntry(pkg.sig, SIG.SHA1);
  const header = sha256 ? { e: sha256, algorithm: 'sha256' } : sha1 ? { e: sha1, algorithm: 'sha1' } : undefined;
  if (header && readStrings(header.e)[0] !== crypto().createHash(header.algorithm).update(pkg.mainBytes).digest('hex')) {
    throw new FormatError(`rpm: the main header does not match its ${header.algorithm.toUpperCase()} digest (the package is damaged)`);
  }
  const payloadSize = src.size - pkg.payloadAt;
  const declared = findEntry(pkg.main, TAG.PAYLOADDIGEST);
  if (declared) {
    const actual = await digestOf(src, pkg.payloadAt, payloadSize, digestName(pkg.main, TAG.PAYLOADDIGESTALGO, 8));
    if (readStrings(declared)[0] !== actual) throw new FormatError('rpm: the payload does not match its PAYLOADDIGEST (the package is damaged or truncated)');
  }
  const size = findEntry(pkg.sig, SIG.LONGSIZE) ?? findEntry(pkg.sig, SIG.SIZE);
  if (size && readInts(size)[0] !== pkg.mainBytes.length + payloadSize) {
    throw new FormatError(`rpm: header and payload are ${pkg.mainBytes.length + payloadSize} bytes, the signature header says ${readInts(size)[0]} (the package is damaged or truncated)`);
  }
}

/** Why the package is left as it is (signed, a compressor or format this tool cannot rewrite),
 *  or undefined. */
function keepReason(pkg: Package, kind: ReturnType<typeof payloadCompression>, signatures: readonly string[], options: NormalizeOptions): string | undefined {
  if (signatures.length && !options.rpmStripSignatures) {
    return `signed package (${signatures.join(', ')}); left unchanged, as normalizing would break the signature (--rpm-strip-signatures drops it)`;
  }
  if (typeof kind === 'object') return `payload compressor "${kind.unknown}" is not supported; left unchanged`;
  const format = stringOf(pkg.main, TAG.PAYLOADFORMAT);
  if (format !== undefined && format !== 'cpio') return `payload format "${format}" is not supported; left unchanged`;
  return undefined;
}

/** The payload normalized into `scratch.out`, or undefined when no entry changed. */
async function normalizePayload(src: Source, pkg: Package, kind: Compression | 'none', files: FileTable, ctx: HandlerContext, scratch: Record<'plain' | 'bodies' | 'out', ScratchFile>): Promise<NewPayload | 'changed' | undefined> {
  const packed = new RangeSource(src, pkg.payloadAt, src.size - pkg.payloadAt);
  let plain: Source = packed;
  if (kind !== 'none') {
    await decompress(kind, packed, scratch.plain);
    plain = scratch.plain.source();
  }
  const mtimes = findEntry(pkg.main, TAG.FILEMTIMES);
  const plan = await planPayload(plain, pkg, files, mtimes && readInts(mtimes), scratch.bodies, ctx);
  if (!plan.changed) return undefined;
  if (ctx.options.check) return 'changed'; // --check: no need to recompress to know
  return buildPayload(plan, kind, pkg.main, scratch.bodies.size ? scratch.bodies.source() : undefined, scratch.out, ctx.options);
}

/** The main header's sizes and payload digests after the payload's changes. */
function updateMainHeader(main: Header, files: FileTable, payload: NewPayload | undefined): void {
  files.apply();
  setInt(main, TAG.SIZE, (old) => old + files.sizeDelta);
  setInt(main, TAG.LONGSIZE, (old) => old + files.sizeDelta);
  if (!payload) return;
  setString(main, TAG.PAYLOADDIGEST, payload.digest);
  setString(main, TAG.PAYLOADDIGESTALT, payload.digestAlt);
}

async function normalizeRpm(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
  const original = readPackage(src);
  const signatures = signaturesOf(original);
  const kind = payloadCompression(original.main, src.readSync(original.payloadAt, 2));
  const reason = keepReason(original, kind, signatures, ctx.options);
  if (reason || typeof kind === 'object') {
    ctx.keep(`${ctx.name}: ${reason}`);
    return false;
  }
  await verifyDigests(original, src);
  const pkg: Package = { ...original, sig: withoutSignatures(original.sig, SIG_SIGNATURES), main: withoutSignatures(original.main, MAIN_SIGNATURES) };
  normalizeMainFields(pkg.main, ctx.options);
  scrubHeaderText(pkg.main, ctx.options);
  const files = new FileTable(pkg.main);
  const scratch = { plain: ScratchFile.forRun(ctx.options), bodies: ScratchFile.forRun(ctx.options), out: ScratchFile.forRun(ctx.options) };
  try {
    const payload = await normalizePayload(src, pkg, kind, files, ctx, scratch);
    if (payload === 'changed') return true;
    updateMainHeader(pkg.main, files, payload);
    const mainBytes = serializeHeader(pkg.main.entries);
    if (!payload && mainBytes.equals(original.mainBytes) && signatures.length === 0) return false;
    if (ctx.options.check) return true;
    const [body, at] = payload ? [payload.data, 0] : [src, pkg.payloadAt];
    const sigBytes = await buildSignature(pkg.sig, original.sig.size + original.sigPadding, mainBytes, body, at, payload);
    for (const part of [pkg.lead, sigBytes, Buffer.alloc(pad8(sigBytes.length)), mainBytes]) await sink.write(part);
    await sink.copyFrom(body, at, body.size - at);
    return true;
  } finally {
    for (const s of Object.values(scratch)) s.close();
  }
}

export const rpm: Handler = {
  name: 'rpm',
  defaultEnabled: true,
  beyondPerl: true,
  files: '*.rpm (rpm v4 binary and source packages)',
  matchName: extensionMatcher(['rpm']),
  detect: (head) => head.length >= LEAD_SIZE && head.subarray(0, 4).equals(LEAD_MAGIC),
  normalize: normalizeRpm,
  list: listRpm,
};
