/**
 * PDF documents (`pdf` normalizer: `*.pdf` starting with `%PDF-`). Not in the Perl tool; off in
 * dh_strip_nondeterminism.
 *
 * Every edit keeps the byte length of what it replaces, so no object moves and the
 * cross-reference table or stream stays valid as it is (nothing is rebuilt). Changes:
 *  - `/CreationDate` and `/ModDate` literal strings (`(D:20240102030405+01'00')`): T in UTC,
 *    each digit field as long as before, the zone spelled as UTC in the same form (`+00'00'`,
 *    `Z`); left when T is unset, or older than T with --clamp-timestamp;
 *  - XMP metadata in plain streams: `xmp:CreateDate`, `xmp:ModifyDate`, `xmp:MetadataDate`
 *    (elements or attributes) the same way, and `xmpMM:DocumentID` / `InstanceID` uuids (random
 *    in ghostscript's output) derived from the content;
 *  - the trailer's `/ID [<...><...>]`: both halves derived from the normalized content, as qpdf's
 *    --deterministic-id does (an MD5 of the file with the IDs and uuids zeroed).
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
const TRAILER_ID = /\/ID\s*\[\s*<([0-9a-fA-F]*)>\s*<([0-9a-fA-F]*)>\s*\]/g;

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

/** IDs and uuids zeroed (what the digest is taken over), then filled from the digest, each in
 *  the case its original used. */
function deriveIds(text: string): string {
  const ids = [...text.matchAll(TRAILER_ID)];
  const uuids = [...text.matchAll(XMP_UUID)];
  if (ids.length === 0 && uuids.length === 0) return text;
  const upper = (s: string) => /[A-F]/.test(s) || !/[a-f]/.test(s);
  const zero = (s: string) => s.replace(/[0-9a-fA-F]/g, '0');
  const idUpper = ids.length > 0 && upper(ids[0][1] + ids[0][2]);
  const uuidUpper = uuids.length > 0 && /[A-F]/.test(uuids[0][2]);
  const blank = text
    .replace(TRAILER_ID, (m, a: string, b: string) => m.replace(`<${a}>`, `<${zero(a)}>`).replace(`<${b}>`, `<${zero(b)}>`))
    .replace(XMP_UUID, (_m, head: string, uuid: string) => head + zero(uuid));
  const md5 = crypto().createHash('md5').update(Buffer.from(blank, 'latin1')).digest('hex');
  const fill = (like: string, digits: string, up: boolean) => {
    let i = 0;
    const out = like.replace(/0/g, () => digits[i++ % digits.length]);
    return up ? out.toUpperCase() : out;
  };
  let uuidDigits = crypto().createHash('sha256').update(md5).digest('hex');
  return blank
    .replace(TRAILER_ID, (m, a: string, b: string) => m.replace(`<${a}>`, `<${fill(a, md5, idUpper)}>`).replace(`<${b}>`, `<${fill(b, md5, idUpper)}>`))
    .replace(XMP_UUID, (_m, head: string, uuid: string) => {
      const out = head + fill(uuid, uuidDigits, uuidUpper);
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
