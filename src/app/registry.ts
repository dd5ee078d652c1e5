/**
 * The handler table. Order matters: detection tries handlers in this order (Perl's order in
 * get_normalizer_for_file) and the first whose name pattern and magic both match wins.
 * Adding a built-in format = one module under handlers/ + one row here; a third party adds
 * rows at run time with registerHandler (the public API, src/index.ts).
 */
import type { Handler } from '../kit/handler.js';
import { ar } from '../../handlers/ar/ar.js';
import { deb } from '../../handlers/ar/deb.js';
import { cpio } from '../../handlers/cpio.js';
import { gettext } from '../../handlers/gettext.js';
import { gzip } from '../../handlers/gzip.js';
import { bflt } from '../../handlers/bflt.js';
import { uimage } from '../../handlers/uimage.js';
import { png } from '../../handlers/png.js';
import { pyc } from '../../handlers/pyc/pyc.js';
import { rpm } from '../../handlers/rpm/rpm.js';
import { maven } from '../../handlers/documents/maven.js';
import { pe } from '../../handlers/pe/pe.js';
import { pdf } from '../../handlers/documents/pdf.js';
import { jar } from '../../handlers/zip/jar.js';
import { jmod } from '../../handlers/zip/jmod.js';
import { zip } from '../../handlers/zip/zip.js';
import { pyzip } from '../../handlers/zip/pyzip.js';
import { odf } from '../../handlers/zip/odf.js';
import { tar } from '../../handlers/tar/tar.js';
import { elf } from '../../handlers/elf/elf.js';
import { html } from '../../handlers/documents/html.js';
import { javadoc } from '../../handlers/documents/javadoc.js';
import { xml } from '../../handlers/documents/xml.js';

// deb and tar come first: a .tar.gz is a tar before it is a gzip file. elf (any name, by magic)
// comes last.
const BUILT_IN: readonly Handler[] = [deb, rpm, tar, ar, cpio, gettext, gzip, jar, jmod, javadoc, bflt, uimage, png, odf, zip, pyzip, pyc, maven, pdf, html, xml, elf, pe];

let table: readonly Handler[] = BUILT_IN;
let thirdParty = 0;

/** The handlers detection tries, in order (built-ins and registered ones). */
export function handlers(): readonly Handler[] {
  return table;
}

/** How many handlers were registered through the API (changes when the table does). */
export function registeredCount(): number {
  return thirdParty;
}

const NAME = /^\w+$/;

/**
 * Add a handler to the table. It is tried before the built-in handlers, unless `before` names
 * a handler to insert it ahead of. Its name joins --normalizers' names; `defaultEnabled` says
 * whether it runs without being asked for.
 */
export function registerHandler(handler: Handler, position: { before?: string } = {}): void {
  if (!NAME.test(handler.name)) throw new TypeError(`registerHandler: the name "${handler.name}" is not a word (letters, digits, _)`);
  if (table.some((h) => h.name === handler.name)) throw new TypeError(`registerHandler: a handler named "${handler.name}" exists already`);
  const at = position.before === undefined ? 0 : table.findIndex((h) => h.name === position.before);
  if (at < 0) throw new TypeError(`registerHandler: no handler named "${position.before}" to insert before`);
  table = [...table.slice(0, at), handler, ...table.slice(at)];
  thirdParty++;
}

/** Is this one of this project's own handlers (not registered through the API)? */
export function isBuiltIn(name: string): boolean {
  return BUILT_IN.some((h) => h.name === name);
}

export function handlerByName(name: string): Handler | undefined {
  return table.find((h) => h.name === name);
}

/** Every normalizer name, sorted (Perl's all_normalizers). */
export function normalizerNames(): string[] {
  return table.map((h) => h.name).sort();
}

/** The CLI's default selection. */
export function defaultEnabled(): Set<string> {
  return new Set(table.filter((h) => h.defaultEnabled).map((h) => h.name));
}

/** The Perl tool's default selection (everything it knows but ar): dh_strip_nondeterminism's. */
export function perlDefaultEnabled(): Set<string> {
  return new Set(table.filter((h) => h.defaultEnabled && !h.beyondPerl).map((h) => h.name));
}

/** Handlers with nothing to do unless build paths or host names are given. */
export function scrubOnly(): string[] {
  return table.filter((h) => h.onlyScrubs).map((h) => h.name);
}

/** The built-in names and selections, as constants (tests, benchmarks). */
export const NORMALIZER_NAMES: readonly string[] = normalizerNames();
export const DEFAULT_ENABLED: ReadonlySet<string> = defaultEnabled();
