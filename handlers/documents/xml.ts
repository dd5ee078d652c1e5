/**
 * XML reports and metadata (`*.xml`, `*.opf`, `*.svg`; ODF `meta.xml` inside documents through
 * handlers/odf.ts). Not in the Perl tool.
 *
 * fast-xml-parser reads the document to recognize it and to find what to change; the change
 * itself is a byte-preserving edit of the attribute or element text in place (no serializer
 * round trip: comments, order, quoting and white space stay). Recognized documents:
 * - JUnit/Surefire reports (root `testsuite` or `testsuites`): on every testsuite element,
 *   `timestamp` becomes T in the same format and `hostname` the canonical host name (`build`, or
 *   the --hostname replacement for it); per-test `time` attributes (testsuite and testcase)
 *   become `0` only with --junit-zero-time.
 * - EPUB package documents (root `package`, OPF namespace): `<meta property="dcterms:modified">`.
 * - ODF metadata (root `office:document-meta`): `meta:creation-date`, `dc:date`, `meta:print-date`.
 * - SVG (root `svg`) with RDF metadata: each `dc:date` holding a date and a time of day, as tools
 *   that stamp the moment of writing put it there (matplotlib's `2024-02-29T10:11:12.123456`). A
 *   date alone is the artwork's authored date (Inkscape's metadata form: Tango's icons say
 *   `2005-01-31`) and stays.
 * Dates are written like the originals (src/dates.ts); one in a format not known here is left,
 * with a warning. With T unset, dates are left as they are (these fields are required or
 * expected by their readers). Any other document is left alone. Build paths and host names are
 * replaced everywhere when asked (src/scrub.ts). A document that is not well-formed is left alone.
 */
import { createRequire } from 'node:module';
import type { Handler, HandlerContext } from '../../src/kit/handler.js';
import { readAll, type Sink, type Source } from '../../src/kit/io.js';
import { scrubText, scrubs } from '../../src/kit/build-paths-and-hostnames.js';
import { formatLike } from './dates.js';
import { CANONICAL_HOSTNAME, type NormalizeOptions } from '../../src/kit/options.js';

// fast-xml-parser costs ~60 ms to load: loaded on the first XML document, not at start-up.
const requireLazy = createRequire(import.meta.url);
let parserClass: typeof import('fast-xml-parser').XMLParser | undefined;
function xmlParser(): typeof import('fast-xml-parser').XMLParser {
  parserClass ??= (requireLazy('fast-xml-parser') as typeof import('fast-xml-parser')).XMLParser;
  return parserClass;
}

const NAME = /\.(?:xml|opf|svg)$/i;
const OPF_NS = 'http://www.idpf.org/2007/opf';

export type XmlKind = 'junit' | 'opf' | 'odf-meta' | 'svg';

type Node = Record<string, unknown>;

/** The document's kind, from its parsed root, or undefined. */
export function xmlKind(text: string): XmlKind | undefined {
  let doc: Node;
  try {
    // `true`: validate while parsing; a document that is not well-formed is not ours.
    doc = new (xmlParser())({ ignoreAttributes: false, attributeNamePrefix: '@_', processEntities: false }).parse(text, true) as Node;
  } catch {
    return undefined;
  }
  const root = Object.keys(doc).find((k) => !k.startsWith('?') && !k.startsWith('#'));
  if (!root) return undefined;
  const node = (doc[root] ?? {}) as Node;
  if (root === 'testsuite' || root === 'testsuites') return 'junit';
  if (root === 'package' && node['@_xmlns'] === OPF_NS) return 'opf';
  if (root === 'office:document-meta') return 'odf-meta';
  if (root === 'svg' && /<(?:[\w-]+:)?metadata[\s>]/.test(text) && /<dc:date[\s>]/.test(text)) return 'svg';
  return undefined;
}

/** Rewrite an attribute inside every start tag matched by `tag`. */
function editAttributes(text: string, tag: RegExp, attr: string, value: (old: string) => string | undefined): string {
  const attrRe = new RegExp(`(\\s${attr}\\s*=\\s*)(["'])(.*?)\\2`, 's');
  return text.replace(tag, (start) =>
    start.replace(attrRe, (whole, pre: string, q: string, old: string) => {
      const now = value(old);
      return now === undefined ? whole : `${pre}${q}${now}${q}`;
    }),
  );
}

/** Rewrite the text of every element matched by `open` (its start tag) up to `</name>`. */
function editElements(text: string, name: string, open: string, value: (old: string) => string | undefined): string {
  const re = new RegExp(`(${open})([^<]*)(</${name}>)`, 'g');
  return text.replace(re, (whole, start: string, old: string, end: string) => {
    const now = value(old.trim());
    return now === undefined ? whole : `${start}${old.replace(old.trim(), now)}${end}`;
  });
}

/** Apply the rules for `kind`; returns the new text. */
export function normalizeXmlText(text: string, kind: XmlKind, options: NormalizeOptions, warn: (m: string) => void): string {
  const T = options.timestamp;
  const date = (what: string) => (old: string) => {
    if (T === undefined) return undefined;
    const now = formatLike(old, T, 'zero');
    if (now === undefined) warn(`${what} "${old}" is in a date format not known here; left unchanged`);
    return now;
  };
  switch (kind) {
    case 'junit': {
      const suites = /<testsuite\b[^>]*>/g;
      text = editAttributes(text, suites, 'timestamp', date('testsuite timestamp'));
      text = editAttributes(text, suites, 'hostname', (old) => options.hostnames?.find((h) => h.name === old)?.replacement ?? CANONICAL_HOSTNAME);
      if (options.junitZeroTime) {
        text = editAttributes(text, /<(?:testsuites?|testcase)\b[^>]*>/g, 'time', () => '0');
      }
      return text;
    }
    case 'opf':
      return editElements(text, 'meta', `<meta\\b[^>]*\\bproperty\\s*=\\s*["']dcterms:modified["'][^>]*>`, date('dcterms:modified'));
    case 'odf-meta':
      for (const el of ['meta:creation-date', 'dc:date', 'meta:print-date']) text = editElements(text, el, `<${el}>`, date(el));
      return text;
    case 'svg':
      return editElements(text, 'dc:date', '<dc:date>', (old) => (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(old) ? date('dc:date')(old) : undefined));
  }
}

/** The whole normalization of one XML document (shared with handlers/odf.ts). */
export function normalizeXml(data: Buffer, ctx: HandlerContext): Buffer | undefined {
  const text = data.toString('latin1');
  const kind = xmlKind(data.toString('utf8'));
  let out = kind ? Buffer.from(normalizeXmlText(text, kind, ctx.options, (m) => ctx.warn(`${ctx.name}: ${m}`)), 'latin1') : data;
  if (scrubs(ctx.options)) out = scrubText(out, ctx.options) ?? out;
  return out.equals(data) ? undefined : out;
}

export const xml: Handler = {
  name: 'xml',
  defaultEnabled: true,
  files: '*.xml, *.opf, *.svg',
  beyondPerl: true,
  matchName: (path) => NAME.test(path),
  detect: (head) => /^(?:\xef\xbb\xbf)?\s*<[?!a-zA-Z]/.test(head.toString('latin1', 0, Math.min(head.length, 256))),

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    const out = normalizeXml(await readAll(src), ctx);
    if (!out) return false;
    await sink.write(out);
    return true;
  },
};
