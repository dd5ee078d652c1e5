/**
 * File names as bytes. Node's file functions take a string or a Buffer; a name that is not
 * valid UTF-8 stays a Buffer from the walk to the rename (a string would replace its bad bytes),
 * and is shown with those bytes escaped. Also the one pattern of the writer's temporary names.
 */
export type FsPath = string | Buffer;

const SLASH = 0x2f;

/** `dir/name`, kept as a string when both parts are valid UTF-8. */
/** A path that crossed threads: a Buffer arrives as a Uint8Array. */
export function clonedPath(p: FsPath | Uint8Array): FsPath {
  return typeof p === 'string' || Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
}

export function joinPath(dir: FsPath, name: Buffer): FsPath {
  const text = name.toString('utf8');
  // Decoding replaces bad bytes with U+FFFD: without one the name is valid UTF-8 (the round
  // trip is checked only when it shows one, which a valid name may also hold).
  const valid = !text.includes('\ufffd') || Buffer.from(text, 'utf8').equals(name);
  if (typeof dir === 'string' && valid) return dir.endsWith('/') ? dir + text : `${dir}/${text}`;
  const base = typeof dir === 'string' ? Buffer.from(dir, 'utf8') : dir;
  return Buffer.concat([base, base[base.length - 1] === SLASH ? Buffer.alloc(0) : Buffer.from('/'), name]);
}

/** The name for messages and reports: bytes that are not valid UTF-8 become `\xNN`. */
export function displayPath(p: FsPath): string {
  if (typeof p === 'string') return p;
  let out = '';
  let i = 0;
  while (i < p.length) {
    const len = utf8Length(p, i);
    if (len > 0) {
      out += p.toString('utf8', i, i + len);
      i += len;
    } else {
      out += `\\x${p[i].toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

/** The length of the valid UTF-8 sequence at `i`, or 0. */
function utf8Length(b: Buffer, i: number): number {
  const c = b[i];
  const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k] & 0xc0) !== 0x80) return 0;
  // Overlong, surrogate and out-of-range forms are not valid UTF-8.
  if (n === 3 && ((c === 0xe0 && b[i + 1] < 0xa0) || (c === 0xed && b[i + 1] >= 0xa0))) return 0;
  if (n === 4 && ((c === 0xf0 && b[i + 1] < 0x90) || (c === 0xf4 && b[i + 1] >= 0x90))) return 0;
  return n;
}

/** The directory part and the last name of a path, as bytes when the path is. */
export function splitPath(p: FsPath): { dir: FsPath; base: Buffer } {
  const b = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
  const cut = b.lastIndexOf(SLASH);
  const base = b.subarray(cut + 1);
  const dirBytes = cut < 0 ? Buffer.from('.') : cut === 0 ? Buffer.from('/') : b.subarray(0, cut);
  return { dir: typeof p === 'string' ? dirBytes.toString('utf8') : dirBytes, base };
}

/** The writer's temporary names: `.NAME.<12 hex digits>.snd-tmp` (matched on latin1 text). */
export const LEFTOVER = /^\..*\.[0-9a-f]{12}\.snd-tmp$/s;

/** A fresh temporary name beside `target`, matching LEFTOVER. */
export function tempPathBeside(target: FsPath, hex: string): FsPath {
  const { dir, base } = splitPath(target);
  return joinPath(dir, Buffer.concat([Buffer.from('.'), base, Buffer.from(`.${hex}.snd-tmp`)]));
}
