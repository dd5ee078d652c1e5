/**
 * The newc cpio header (magic 070701, then 13 fields of 8 hex digits), as both the cpio
 * normalizer and rpm's payloads read it, and what a cpio mode says a member is. Reads only: each
 * format writes its headers its own way (Archive::Cpio's for cpio, rpm's bytes kept for rpm).
 */
import type { ListedMember } from './handler.js';
import { FormatError } from './errors.js';

export const NEWC_MAGIC = '070701';
export const NEWC_HEADER_SIZE = 110;
export const NEWC_FIELDS = ['inode', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'datasize', 'devMajor', 'devMinor', 'rdevMajor', 'rdevMinor', 'namesize', 'checksum'] as const;
/** Indexes into the parsed fields. */
export const NEWC = { MODE: 1, NLINK: 4, MTIME: 5, DATASIZE: 6, NAMESIZE: 11 } as const;

/** The 13 numbers of the header in `hdr` (at `offset` in its input, for messages); `what`
 *  prefixes the error ("rpm payload: "). */
export function parseNewcFields(hdr: Buffer, offset: number, what = ''): number[] {
  return NEWC_FIELDS.map((name, i) => {
    const text = hdr.toString('latin1', 6 + i * 8, 14 + i * 8);
    if (!/^[0-9A-Fa-f]{8}$/.test(text)) throw new FormatError(`${what}bad cpio header value "${text}" for ${name}`, offset + 6 + i * 8);
    return parseInt(text, 16);
  });
}

const TYPES: Record<number, ListedMember['type']> = { 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo' };

/** What a cpio member is, from its mode (anything else is a file). */
export const cpioType = (mode: number): ListedMember['type'] => TYPES[mode & 0o170000] ?? 'file';
