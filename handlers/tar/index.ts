/**
 * Reading a tar's headers (no member data): ustar, GNU (long names, long links) and pax (local
 * and global records, a NUL in a path ends it, as GNU tar reads it). Shared by the tar
 * normalizer (tar.ts) and the listing for --identity and diff (listing.ts).
 * An archive without the end-of-archive marker ends with its last member, as GNU tar reads it;
 * a header, member data or padding cut short is an error (GNU tar rejects those too).
 */
import { readExactSync, type Source } from '../../src/kit/io.js';
import { FormatError } from '../../src/kit/errors.js';
import { BLOCK, cstring, isZeroBlock, padding, parseHeader, parsePax, paxNumber, type PaxRecord } from './header.js';

/** pax records that only carry the moment or the machine, or that the header now holds. */
const DROPPED_PAX = new Set([
  'atime', 'ctime', 'mtime', 'uid', 'gid', 'uname', 'gname', 'size', 'path', 'linkpath', 'charset', 'hdrcharset',
  'SCHILY.dev', 'SCHILY.ino', 'SCHILY.nlink', 'LIBARCHIVE.creationtime',
]);
const REGULAR = new Set(['0', '\0', '7']);
const KNOWN_TYPES = new Set(['1', '2', '3', '4', '5', '6']);

export interface TarEntry {
  name: string;
  type: string;
  mode: number;
  mtime: number;
  size: number;
  dataOffset: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  pax: PaxRecord[];
  /** Set on hard-link entries whose target is in the archive: the entry holding the data. */
  root?: TarEntry;
  /** The normalized body, when it differs from the input (offset into the scratch file). */
  body?: { offset: number; size: number };
}

export interface TarIndex {
  entries: TarEntry[];
  globals: PaxRecord[];
  /** Why the archive cannot be normalized (it is then left unchanged with a warning). */
  unsupported?: string;
}

/** Hooks for .deb: replace a member's content, and hear about members whose content changed. */

const untilNul = (v: string | undefined) => (v === undefined ? undefined : v.split('\0')[0]);


/** Read every header of a tar (no member data). */
export function indexTar(src: Source): TarIndex {
  const entries: TarEntry[] = [];
  const globals = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  let local: PaxRecord[] = [];
  let pos = 0;
  for (;;) {
    // No end-of-archive marker: the archive ends with its last member, as GNU tar reads it.
    if (pos === src.size) break;
    const block = readExactSync(src, pos, BLOCK, 'tar header');
    if (isZeroBlock(block)) break;
    const h = parseHeader(block, pos);
    const dataOffset = pos + BLOCK;
    const readData = (size: number, what: string) => readExactSync(src, dataOffset, size, what);
    let size = h.size;
    if (h.type === 'L' || h.type === 'K') {
      const v = cstring(readData(h.size, 'GNU long name'));
      if (h.type === 'L') longName = v;
      else longLink = v;
    } else if (h.type === 'x' || h.type === 'X') {
      local.push(...parsePax(readData(h.size, 'pax extended header'), pos));
    } else if (h.type === 'g') {
      for (const [k, v] of parsePax(readData(h.size, 'pax global header'), pos)) {
        if (v === '') globals.delete(k);
        else globals.set(k, v);
      }
    } else if (REGULAR.has(h.type) || KNOWN_TYPES.has(h.type)) {
      const eff = new Map(globals);
      for (const [k, v] of local) eff.set(k, v);
      if ([...eff.keys()].some((k) => k.startsWith('GNU.sparse.'))) return { entries, globals: [], unsupported: 'sparse members' };
      // A NUL in a pax path ends it, as GNU tar reads it (a header field could not hold it).
      let name = longName ?? untilNul(eff.get('path')) ?? h.name;
      const linkname = longLink ?? untilNul(eff.get('linkpath')) ?? h.linkname;
      let type = REGULAR.has(h.type) ? '0' : h.type;
      if (type === '0' && h.type === '\0' && name.endsWith('/')) type = '5'; // v7 directory
      if (type === '5' && !name.endsWith('/')) name += '/';
      if (type === '0' && eff.has('size')) size = paxNumber(eff.get('size')!);
      if (type !== '0') size = 0; // only regular files carry data (python's and dpkg's reading)
      entries.push({
        name,
        type,
        mode: h.mode & 0o7777,
        mtime: eff.has('mtime') ? paxNumber(eff.get('mtime')!) : h.mtime,
        size,
        dataOffset,
        linkname: type === '1' || type === '2' ? linkname : '',
        devmajor: h.devmajor,
        devminor: h.devminor,
        pax: local.filter(([k]) => !DROPPED_PAX.has(k)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
      });
      longName = longLink = undefined;
      local = [];
    } else {
      const what = { S: 'sparse members', M: 'multi-volume members', V: 'a volume label', D: 'incremental (dumpdir) members', N: 'old GNU long-name members' }[h.type];
      return { entries, globals: [], unsupported: what ?? `members of unknown type ${JSON.stringify(h.type)}` };
    }
    pos = dataOffset + size + padding(size);
    if (pos > src.size) throw new FormatError(`truncated tar archive: member data ends past the end of the input`, dataOffset);
  }
  const kept = [...globals].filter(([k]) => !DROPPED_PAX.has(k)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { entries, globals: kept };
}

