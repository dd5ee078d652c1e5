/**
 * Writing a normalized zip archive as Archive::Zip 1.68 writes it: local headers, data and data
 * descriptors in the output order, then the central directory and its end records (zip64 where
 * Archive::Zip writes it). Unchanged members' compressed data is copied raw from the source,
 * range to range; members whose content a flavor replaced are recompressed with zlib
 * level 6, memLevel 9 (pako: byte-identical to the zlib behind Perl's Compress::Raw::Zlib).
 */
import { forEachChunk, type Sink, type Source } from '../../src/kit/io.js';
import { ByteWriter, crc32 } from '../../src/kit/binary.js';
import { ScratchFile } from '../../src/kit/scratch-file.js';
import {
  DEFLATED, FLAG_DATA_DESCRIPTOR, FLAG_UTF8, SIG_CENTRAL, SIG_DATA_DESCRIPTOR, SIG_EOCD, SIG_LOCAL, SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR, STORED,
  perlNameBytes, Unwritable, type LocalHeader, type ZipArchive,
} from './records.js';
import { dataLength, peekLocal, squeezeSlashes, type MemberList, type ZipMember } from './members.js';

const EMPTY = Buffer.alloc(0);
/** A central directory larger than this waits in a scratch file, not in memory. */
const CD_IN_MEMORY = 4 << 20;

/** A member's output fields and where its compressed data comes from. */
interface Planned {
  versionNeeded: number;
  bitFlag: number;
  nameBytes: Buffer;
  method: number;
  usize: number;
  crc: number;
  data: { kind: 'copy'; offset: number; length: number } | { kind: 'bytes'; bytes: Buffer };
}

/** A member whose data is copied as it is (fields from the central directory). */
async function planCopied(src: Source, m: ZipMember, local: LocalHeader): Promise<Planned> {
  const e = m.entry;
  const bitFlag = e.bitFlag;
  const method = e.method;
  const usize = e.uncompressedSize;
  const nameBytes = bitFlag & FLAG_UTF8 ? perlNameBytes(m.name, bitFlag) : e.name;
  const planned = (method: number, crc: number, data: Planned['data']): Planned => ({ versionNeeded: e.versionNeeded, bitFlag, nameBytes, method, usize, crc, data });
  if (usize === 0) {
    if (method !== STORED && method !== DEFLATED) throw new Unwritable(`unsupported compression method ${method} for an empty member; left unchanged`);
    return planned(STORED, method === STORED ? 0 : e.crc32, { kind: 'bytes', bytes: EMPTY });
  }
  const length = dataLength(m); // within the archive: checked before anything was written (zip.ts)
  // Archive::Zip recomputes a stored member's CRC. The data is copied range to range (see
  // ArchiveWriter.local): nothing is allocated for it.
  const crc = method === STORED ? await crcOfRange(src, local.dataOffset, length) : e.crc32;
  return planned(method, crc, { kind: 'copy', offset: local.dataOffset, length });
}

/** Members up to this size are read into the output block with the headers around them;
 *  larger ones are streamed to the sink. */
const SMALL_MEMBER = 1 << 16;

/** A directory or a replaced member: fields from its local header. */
async function planRebuilt(m: ZipMember, local: LocalHeader): Promise<Planned> {
  const bitFlag = local.bitFlag;
  const localName = squeezeSlashes(local.name.toString('latin1'));
  const nameBytes = m.kind === 'dir' ? perlNameBytes(m.name, bitFlag) : bitFlag & FLAG_UTF8 ? Buffer.from(localName, 'utf8') : Buffer.from(localName, 'latin1');
  const planned = (method: number, usize: number, crc: number, bytes: Buffer): Planned => ({ versionNeeded: local.versionNeeded, bitFlag, nameBytes, method, usize, crc, data: { kind: 'bytes', bytes } });
  if (m.kind === 'dir') return planned(STORED, 0, local.method === STORED ? 0 : m.entry.crc32, EMPTY);
  const content = m.content!;
  const method = content.length === 0 ? STORED : m.entry.method;
  if (method === DEFLATED) return planned(method, content.length, crc32(content), await deflateLikePerl(content));
  if (method === STORED) return planned(method, content.length, crc32(content), content);
  throw new Unwritable(`cannot recompress ${m.name} with method ${method}; left unchanged`);
}

/** The archive as it is written: members, then the central directory, streamed to the sink. */
class ArchiveWriter {
  private readonly out = new ByteWriter(); // members, handed to the sink in blocks of about 1 MiB
  private readonly cd = new ByteWriter(); // the central directory, written at the end
  private cdSpill: ScratchFile | undefined; // where a large one waits (a million entries)
  private copied = 0; // bytes streamed straight from the source (large members)
  zip64 = false;

  constructor(
    private readonly src: Source,
    private readonly sink: Sink,
    private readonly extra: (field: Buffer) => Buffer,
  ) {}

  get offset(): number {
    return this.out.total + this.copied;
  }

  async drain(): Promise<void> {
    for (const chunk of this.out.take()) await this.sink.write(chunk);
    if (this.sink.copiesWrites) this.out.recycle();
  }

  async member(m: ZipMember, local: LocalHeader, p: Planned): Promise<void> {
    if (p.usize === 0) p.bitFlag &= ~FLAG_DATA_DESCRIPTOR;
    const csize = p.data.kind === 'copy' ? p.data.length : p.data.bytes.length;
    // Archive::Zip writes a zip64 local header when needed, and for a copied member whose
    // local header had zip64 information in a zip64 archive (it re-reads it while copying).
    const zip64 = p.usize > 0xffffffff || (m.kind === 'file' && local.zip64);
    const headerOffset = this.offset;
    await this.local(m, local, p, csize, zip64);
    this.central(m, p, csize, headerOffset, zip64);
  }

  /** Local header, data, data descriptor. */
  private async local(m: ZipMember, local: LocalHeader, p: Planned, csize: number, zip64: boolean): Promise<void> {
    const out = this.out;
    const hasDD = (p.bitFlag & FLAG_DATA_DESCRIPTOR) !== 0;
    const localExtra = this.extra(local.extra);
    out.u32(SIG_LOCAL).u16(zip64 ? Math.max(p.versionNeeded, 45) : p.versionNeeded).u16(p.bitFlag).u16(p.method).u32(m.lastMod);
    out.u32(hasDD ? 0 : p.crc);
    if (zip64) out.u32(0xffffffff).u32(0xffffffff);
    else out.u32(hasDD ? 0 : csize).u32(hasDD ? 0 : p.usize);
    out.u16(p.nameBytes.length).u16(localExtra.length + (zip64 ? 20 : 0)).bytes(p.nameBytes).bytes(localExtra);
    if (zip64) out.u16(1).u16(16).u64(hasDD ? 0 : p.usize).u64(hasDD ? 0 : csize);
    if (p.data.kind === 'copy' && p.data.length <= SMALL_MEMBER) {
      out.readFrom(this.src, p.data.offset, p.data.length); // into the block, beside its headers
    } else if (p.data.kind === 'copy') {
      await this.drain();
      await this.sink.copyFrom(this.src, p.data.offset, p.data.length); // streamed in bounded chunks
      this.copied += p.data.length;
    } else {
      out.bytes(p.data.bytes);
    }
    if (hasDD) {
      out.u32(SIG_DATA_DESCRIPTOR).u32(p.crc);
      if (zip64) out.u64(csize).u64(p.usize);
      else out.u32(csize).u32(p.usize);
    }
    // Before the block fills, so that a recycled block is never outgrown.
    if (out.pending >= 1 << 19) await this.drain();
  }

  /** The member's central directory record. Archive::Zip's zip64 record holds the 64-bit
   *  values that need it, and the header offset when it needs it or when nothing else does. */
  private central(m: ZipMember, p: Planned, csize: number, headerOffset: number, zip64: boolean): void {
    const e = m.entry;
    const cdExtra = this.extra(e.extra);
    const cdZip64 = p.usize > 0xffffffff || csize > 0xffffffff || headerOffset > 0xffffffff;
    const z64: number[] = [];
    const bigU = cdZip64 && p.usize > 0xffffffff;
    const bigC = cdZip64 && csize > 0xffffffff;
    if (bigU) z64.push(p.usize);
    if (bigC) z64.push(csize);
    const bigO = cdZip64 && (headerOffset > 0xffffffff || z64.length === 0);
    if (bigO) z64.push(headerOffset);
    if (zip64 || cdZip64) this.zip64 = true;
    const cd = this.cd;
    cd.u32(SIG_CENTRAL).u8(e.versionMadeBy).u8(e.fileAttributeFormat).u16(cdZip64 ? Math.max(p.versionNeeded, 45) : p.versionNeeded);
    cd.u16(p.bitFlag).u16(p.method).u32(m.lastMod).u32(p.crc);
    cd.u32(bigC ? 0xffffffff : csize).u32(bigU ? 0xffffffff : p.usize);
    cd.u16(p.nameBytes.length).u16(cdExtra.length + (cdZip64 ? 4 + 8 * z64.length : 0)).u16(e.comment.length);
    cd.u16(0).u16(e.internalAttrs).u32(m.externalAttrs);
    cd.u32(bigO ? 0xffffffff : headerOffset);
    cd.bytes(p.nameBytes).bytes(cdExtra);
    if (cdZip64) {
      cd.u16(1).u16(8 * z64.length);
      for (const v of z64) cd.u64(v);
    }
    cd.bytes(e.comment);
    if (cd.pending >= CD_IN_MEMORY) {
      this.cdSpill ??= new ScratchFile();
      for (const chunk of cd.take()) this.cdSpill.append(chunk);
    }
  }

  /** Central directory and its end records. */
  async finish(zip: ZipArchive, count: number): Promise<void> {
    const cdOffset = this.offset;
    await this.drain();
    if (this.cdSpill) {
      await this.sink.copyFrom(this.cdSpill.source(), 0, this.cdSpill.size);
      this.cdSpill.close();
    }
    for (const chunk of this.cd.take()) await this.sink.write(chunk);
    const cdSize = this.cd.total;
    const end = new ByteWriter(4096);
    if (this.zip64 || count > 0xffff || cdSize > 0xffffffff || cdOffset > 0xffffffff) {
      const eocd64At = cdOffset + cdSize;
      end.u32(SIG_ZIP64_EOCD).u64(44).u16(zip.zip64VersionMadeBy || 45).u16(Math.max(zip.zip64VersionNeeded, 45)).u32(0).u32(0);
      end.u64(count).u64(count).u64(cdSize).u64(cdOffset);
      end.u32(SIG_ZIP64_LOCATOR).u32(0).u64(eocd64At).u32(1);
    }
    end.u32(SIG_EOCD).u16(0).u16(0).u16(Math.min(count, 0xffff)).u16(Math.min(count, 0xffff));
    end.u32(Math.min(cdSize, 0xffffffff)).u32(Math.min(cdOffset, 0xffffffff)).u16(zip.comment.length).bytes(zip.comment);
    for (const chunk of end.take()) await this.sink.write(chunk);
  }
}

/** Write `members` in order. Throws Unwritable for a member
 *  Archive::Zip would not write as this port does. */
export async function writeArchive(src: Source, zip: ZipArchive, members: MemberList, sink: Sink, extra: (field: Buffer) => Buffer): Promise<void> {
  const writer = new ArchiveWriter(src, sink, extra);
  for (const m of members) {
    const local = peekLocal(src, zip, m);
    await writer.member(m, local, m.kind === 'file' ? await planCopied(src, m, local) : await planRebuilt(m, local));
  }
  await writer.finish(zip, members.length);
}

/** Raw deflate exactly as Perl's Compress::Raw::Zlib does it for Archive::Zip (zlib level 6,
 *  memLevel 9). Node's bundled zlib is a fork whose output differs, so this uses pako, a port
 *  of zlib that matches byte for byte (docs/dependencies.md). Loaded on first use. */
let pakoModule: typeof import('pako') | undefined;
async function deflateLikePerl(data: Buffer): Promise<Buffer> {
  if (!pakoModule) {
    const mod = (await import('pako')) as typeof import('pako') & { default?: typeof import('pako') };
    pakoModule = mod.default ?? mod;
  }
  return Buffer.from(pakoModule.deflateRaw(data, { level: 6, memLevel: 9 }));
}

async function crcOfRange(src: Source, offset: number, length: number): Promise<number> {
  let crc = 0;
  await forEachChunk(src, offset, length, (chunk) => {
    crc = crc32(chunk, crc);
  });
  return crc;
}
