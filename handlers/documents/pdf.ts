/**
 * PDF documents (`pdf` normalizer: `*.pdf` starting with `%PDF-`). Not in the Perl tool; off in
 * dh_strip_nondeterminism.
 *
 * Every edit but one (the last trailer's literal /ID, below) keeps the byte length of what it
 * replaces, so no object moves and the cross-reference table or stream stays valid as it is
 * (nothing is rebuilt). Changes:
 *  - `/CreationDate` and `/ModDate` literal strings (`(D:20240102030405+01'00')`): T in UTC,
 *    each digit field as long as before, the zone spelled as UTC in the same form (`+00'00'`,
 *    `Z`); left when T is unset, or older than T with --clamp-timestamp;
 *  - XMP metadata in plain streams: `xmp:CreateDate`, `xmp:ModifyDate`, `xmp:MetadataDate`
 *    (elements or attributes) the same way, and `xmpMM:DocumentID` / `InstanceID` uuids (random
 *    in ghostscript's output) derived from the content;
 *  - the trailer's `/ID [<...><...>]`: both halves derived from the normalized content, as qpdf's
 *    --deterministic-id does (an MD5 of the file with the IDs and uuids zeroed). An /ID written as
 *    literal strings (ghostscript picks hex or literal by the random bytes) becomes 16 bytes of
 *    hex when it sits in the last trailer after a classic xref table, where nothing after it is
 *    addressed by an offset; elsewhere it is refilled with as many hex-digit characters.
 * Left unchanged with a warning: encrypted files (the ID keys the encryption), signed ones (a
 * /ByteRange signature covers the bytes), and files whose dates sit only inside compressed object
 * streams (PDF 1.5 /ObjStm), which an in-place edit cannot reach.
 */
import type { Handler, HandlerContext } from '../../src/kit/handler.js';
import { readAll, type Sink, type Source } from '../../src/kit/io.js';
import { crypto } from '../../src/kit/builtins.js';
import { formatLike } from './dates.js';

const INFO_DATE = /\/(?:CreationDate|ModDate)\s*\(D:(\d{4,14})([^)]{0,8})\)/g;
const XMP_DATE = /(xmp:(?:CreateDate|ModifyDate|MetadataDate)(?:>|\s*=\s*["']))([0-9T:.+\-Z]{4,40})(?=[<"'])/g;
const XMP_UUID = /((?:xmpMM|xapMM):(?:DocumentID|InstanceID)(?:>|\s*=\s*["'])uuid:)([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/g;

/** `D:` digits and zone for T, each field as long as in `digits` / `zone`. */
function infoDate(digits: string, zone: string, T: number): string {
  const d = new Date(T * 1000);
  const p = (n: number, w: number) => String(n).padStart(w, '0');
  const full = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1, 2)}${p(d.getUTCDate(), 2)}${p(d.getUTCHours(), 2)}${p(d.getUTCMinutes(), 2)}${p(d.getUTCSeconds(), 2)}`;
  return full.slice(0, digits.length) + zone.replace(/\d/g, '0').replace(/-/g, '+');
}

/** The time a `D:` date stands for (seconds), or undefined when it does not parse. */
function infoDateTime(digits: string, zone: string): number | undefined {
  const f = (a: number, b: number, dflt: number) => (digits.length >= b ? Number(digits.slice(a, b)) : dflt);
  const utc = Date.UTC(f(0, 4, 0), f(4, 6, 1) - 1, f(6, 8, 1), f(8, 10, 0), f(10, 12, 0), f(12, 14, 0)) / 1000;
  const z = /^([+-])(\d\d)'?(\d\d)?/.exec(zone);
  const offset = z ? (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 3600 + Number(z[3] ?? 0) * 60) : 0;
  return Number.isNaN(utc) ? undefined : utc - offset;
}

const keepsOlder = (was: number | undefined, ctx: HandlerContext) => ctx.options.clamp === true && was !== undefined && was <= ctx.options.timestamp!;

/** Replace every match of `re` in `text` by `edit(match)` when that has the same length. */
function sameLength(text: string, re: RegExp, edit: (m: RegExpExecArray) => string | undefined): string {
  return text.replace(re, (...args) => {
    const m = args.slice(0, -2) as unknown as RegExpExecArray;
    const out = edit(m);
    return out !== undefined && out.length === m[0].length ? out : m[0];
  });
}

function normalizeDates(text: string, ctx: HandlerContext): string {
  const T = ctx.options.timestamp;
  if (T === undefined) return text;
  let out = sameLength(text, INFO_DATE, (m) => {
    if (keepsOlder(infoDateTime(m[1], m[2]), ctx)) return undefined;
    return m[0].slice(0, m[0].length - m[1].length - m[2].length - 1) + infoDate(m[1], m[2], T) + ')';
  });
  out = sameLength(out, XMP_DATE, (m) => {
    const was = Date.parse(m[2]);
    if (keepsOlder(Number.isNaN(was) ? undefined : was / 1000, ctx)) return undefined;
    const now = formatLike(m[2], T);
    return now === undefined ? undefined : m[1] + now;
  });
  return out;
}

/** One `/ID [a b]` array: where it is and its two strings as written (`<hex>` or `(literal)`). */
interface IdArray { start: number; end: number; head: string; parts: [string, string]; resizable: boolean }

/** The end of the string token at `i` (`<hex>` or a literal with escapes and balanced
 *  parentheses), or -1. */
function stringEnd(text: string, i: number): number {
  if (text[i] === '<') {
    const close = text.indexOf('>', i);
    return close > 0 && /^[0-9a-fA-F\s]*$/.test(text.slice(i + 1, close)) ? close + 1 : -1;
  }
  if (text[i] !== '(') return -1;
  let depth = 0;
  for (let j = i; j < text.length && j < i + 4096; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j + 1;
  }
  return -1;
}

/** Where the last trailer's dictionary begins when nothing after it is addressed by an offset
 *  (a classic xref table, `trailer`, `startxref`, `%%EOF`, no linearization): an /ID there may
 *  change length. Otherwise Infinity. */
function resizableFrom(text: string): number {
  const trailer = text.lastIndexOf('trailer');
  const startxref = text.lastIndexOf('startxref');
  if (trailer < 0 || startxref < trailer || /\/Linearized\b/.test(text.slice(0, 2048))) return Infinity;
  const xrefAt = Number(/^startxref\s+(\d+)/.exec(text.slice(startxref))?.[1] ?? NaN);
  return xrefAt < trailer && text.startsWith('xref', xrefAt) ? trailer : Infinity;
}

/** The first index from `i` that is not PDF white space. */
function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\r\n\f\0'.includes(text[i])) i++;
  return i;
}

function idArrays(text: string): IdArray[] {
  const found: IdArray[] = [];
  const from = resizableFrom(text);
  for (const m of text.matchAll(/\/ID\s*\[\s*/g)) {
    const a = m.index! + m[0].length;
    const aEnd = stringEnd(text, a);
    const b = aEnd < 0 ? -1 : skipSpace(text, aEnd);
    const bEnd = b < 0 ? -1 : stringEnd(text, b);
    if (bEnd < 0) continue;
    const close = skipSpace(text, bEnd);
    if (text[close] !== ']') continue;
    found.push({ start: m.index!, end: close + 1, head: text.slice(m.index!, a), parts: [text.slice(a, aEnd), text.slice(b, bEnd)], resizable: m.index! > from });
  }
  return found;
}

/** An /ID string with every digit slot zeroed: hex keeps its length; a literal becomes 16 bytes
 *  of hex where its length may change (ghostscript writes either form, by chance), else as many
 *  `0` characters as it had bytes written (no object may move). */
function zeroId(part: string, resizable: boolean): string {
  if (part.startsWith('<')) return part.replace(/[0-9a-fA-F]/g, '0');
  return resizable ? `<${'0'.repeat(32)}>` : `(${'0'.repeat(part.length - 2)})`;
}

/** `text` with each /ID array rewritten by `rewrite(part, array)`. */
function replaceIds(text: string, ids: IdArray[], rewrite: (part: string, id: IdArray) => string): string {
  let out = '';
  let at = 0;
  for (const id of ids) {
    out += text.slice(at, id.start) + id.head + id.parts.map((p) => rewrite(p, id)).join('') + ']';
    at = id.end;
  }
  return out + text.slice(at);
}

/** IDs and uuids zeroed (what the digest is taken over), then filled from the digest, each in
 *  the case its original used (literals become upper-case hex, as ghostscript's hex is). */
function deriveIds(text: string): string {
  const ids = idArrays(text);
  const uuids = [...text.matchAll(XMP_UUID)];
  if (ids.length === 0 && uuids.length === 0) return text;
  const hexOf = ids.flatMap((id) => id.parts.filter((p) => p.startsWith('<'))).join('');
  const idUpper = /[A-F]/.test(hexOf) || !/[a-f]/.test(hexOf);
  const uuidUpper = uuids.length > 0 && /[A-F]/.test(uuids[0][2]);
  const zero = (s: string) => s.replace(/[0-9a-fA-F]/g, '0');
  const zeroIds = (part: string, id: IdArray) => zeroId(part, id.resizable);
  const blank = replaceIds(text, ids, zeroIds).replace(XMP_UUID, (_m, head: string, uuid: string) => head + zero(uuid));
  const md5 = crypto().createHash('md5').update(Buffer.from(blank, 'latin1')).digest('hex');
  const fill = (like: string, digits: string, up: boolean) => {
    let i = 0;
    const out = like.replace(/0/g, () => digits[i++ % digits.length]);
    return up ? out.toUpperCase() : out;
  };
  let uuidDigits = crypto().createHash('sha256').update(md5).digest('hex');
  return replaceIds(text, ids, (part, id) => fill(zeroIds(part, id), md5, idUpper))
    .replace(XMP_UUID, (_m, head: string, uuid: string) => {
      const out = head + fill(zero(uuid), uuidDigits, uuidUpper);
      uuidDigits = crypto().createHash('sha256').update(uuidDigits).digest('hex');
      return out;
    });
}

/** Why the file must stay as it is, or undefined. */
function refusal(text: string): string | undefined {
  if (/\/Encrypt\s*\d+\s+\d+\s+R|\/Encrypt\s*<</.test(text)) return 'encrypted (its /ID keys the encryption)';
  if (/\/ByteRange\s*\[/.test(text)) return 'signed (the signature covers its bytes)';
  if (/\/Type\s*\/ObjStm/.test(text) && !/\/(?:CreationDate|ModDate)\s*\(/.test(text)) return 'its metadata is in compressed object streams, which cannot be edited in place';
  return undefined;
}

async function normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
  const data = await readAll(src);
  const text = data.toString('latin1');
  const why = refusal(text);
  if (why) {
    ctx.keep(`${ctx.name}: ${why}; left unchanged`);
    return false;
  }
  const out = deriveIds(normalizeDates(text, ctx));
  if (out === text) return false;
  await sink.write(Buffer.from(out, 'latin1'));
  return true;
}

export const pdf: Handler = {
  name: 'pdf',
  defaultEnabled: true,
  beyondPerl: true,
  files: '*.pdf',
  matchName: (path) => /\.pdf$/i.test(path),
  detect: (head) => head.subarray(0, 1024).includes('%PDF-'),
  normalize,
};
