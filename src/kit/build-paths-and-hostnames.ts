/**
 * Build paths and host names: the two machine leaks every format shares (--build-path,
 * --hostname and their environment variables, see src/options.ts).
 *
 * Matching, the same in text and in binaries:
 * - a build path FROM matches where it is a whole directory prefix: the byte after it is not a
 *   file-name character (`/`, a quote, a blank, NUL, `:`, the end... but not a letter, digit or
 *   one of `._~+-`), so `/tmp/b` never matches inside `/tmp/build`;
 * - a host name matches as a whole name: the byte before is not a letter, digit, `-` or `.`, and
 *   the byte after is not a letter, digit, `-` or `_` (so `host` matches in `host.example.org` and
 *   `user@host:` but not in `myhost` or `host-2`). Case-sensitive.
 * Every pattern is looked for in the original bytes; overlapping hits keep the earliest, then the
 * longest, so a replacement is never matched again.
 *
 * Text formats replace with TO / REPLACEMENT as given. Binaries cannot change length: a path
 * becomes TO padded with `/` (`/build` + `//////`, the same directory), a host name becomes
 * REPLACEMENT padded with `-` (`build----`); a replacement longer than what it replaces is
 * refused (the caller warns and leaves the file).
 */
import type { NormalizeOptions } from './options.js';

const NAME_CHAR = new Uint8Array(256);
for (const c of Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')) NAME_CHAR[c] = 1;
const PATH_CONTINUES = Uint8Array.from(NAME_CHAR);
for (const c of Buffer.from('._~+-')) PATH_CONTINUES[c] = 1;
const HOST_BEFORE = Uint8Array.from(NAME_CHAR);
for (const c of Buffer.from('-.')) HOST_BEFORE[c] = 1;
const HOST_AFTER = Uint8Array.from(NAME_CHAR);
for (const c of Buffer.from('-_')) HOST_AFTER[c] = 1;

interface Pattern {
  find: Buffer;
  to: Buffer;
  /** Byte that pads `to` to `find`'s length in binaries. */
  filler: string;
  host: boolean;
  label: string;
}

interface Hit {
  at: number;
  pattern: Pattern;
}

/** Whether the options ask for any path or host name to be replaced. */
export function scrubs(options: NormalizeOptions): boolean {
  return (options.buildPaths?.length ?? 0) > 0 || (options.hostnames?.length ?? 0) > 0;
}

function patterns(options: NormalizeOptions): Pattern[] {
  return [
    ...(options.buildPaths ?? []).map((p) => ({ find: Buffer.from(p.from), to: Buffer.from(p.to), filler: '/', host: false, label: p.from })),
    ...(options.hostnames ?? []).map((h) => ({ find: Buffer.from(h.name), to: Buffer.from(h.replacement), filler: '-', host: true, label: h.name })),
  ];
}

function hits(data: Buffer, list: readonly Pattern[]): Hit[] {
  const found: Hit[] = [];
  for (const pattern of list) {
    const n = pattern.find.length;
    for (let at = data.indexOf(pattern.find); at >= 0; at = data.indexOf(pattern.find, at + 1)) {
      const after = data[at + n];
      if (pattern.host) {
        if (at > 0 && HOST_BEFORE[data[at - 1]]) continue;
        if (after !== undefined && HOST_AFTER[after]) continue;
      } else if (after !== undefined && PATH_CONTINUES[after]) {
        continue;
      }
      found.push({ at, pattern });
    }
  }
  found.sort((a, b) => a.at - b.at || b.pattern.find.length - a.pattern.find.length);
  const kept: Hit[] = [];
  let end = 0;
  for (const h of found) {
    if (h.at < end) continue;
    kept.push(h);
    end = h.at + h.pattern.find.length;
  }
  return kept;
}

/** Text: the bytes with every build path and host name replaced, or undefined if none occurs. */
export function scrubText(data: Buffer, options: NormalizeOptions): Buffer | undefined {
  const list = patterns(options);
  if (list.length === 0) return undefined;
  const found = hits(data, list);
  if (found.length === 0) return undefined;
  const parts: Buffer[] = [];
  let pos = 0;
  for (const h of found) {
    parts.push(data.subarray(pos, h.at), h.pattern.to);
    pos = h.at + h.pattern.find.length;
  }
  parts.push(data.subarray(pos));
  const out = Buffer.concat(parts);
  return out.equals(data) ? undefined : out;
}

/** The same-length replacement for a pattern, or undefined when the replacement is too long. */
function padded(p: Pattern): Buffer | undefined {
  if (p.to.length > p.find.length) return undefined;
  return Buffer.concat([p.to, Buffer.alloc(p.find.length - p.to.length, p.filler)]);
}

/**
 * Binary: replace in place at the same length. Returns whether anything changed; a path or host
 * name whose replacement is longer than itself is added to `tooLong` (and left in place).
 */
export function scrubInPlace(data: Buffer, options: NormalizeOptions, tooLong: Set<string>): boolean {
  let changed = false;
  for (const h of hits(data, patterns(options))) {
    const to = padded(h.pattern);
    if (!to) {
      tooLong.add(h.pattern.label);
      continue;
    }
    if (to.equals(data.subarray(h.at, h.at + to.length))) continue;
    to.copy(data, h.at);
    changed = true;
  }
  return changed;
}
