/**
 * The handler table. Order matters: detection tries handlers in this order (Perl's order in
 * get_normalizer_for_file) and the first whose name pattern and magic both match wins.
 * Adding a format = one module in handlers/ + one row here.
 */
import type { Handler } from '../kit/handler.js';
import { ar } from '../../handlers/ar/ar.js';
import { cpio } from '../../handlers/cpio.js';
import { gettext } from '../../handlers/gettext.js';
import { gzip } from '../../handlers/gzip.js';
import { javadoc } from '../../handlers/documents/javadoc.js';
import { bflt } from '../../handlers/bflt.js';
import { uimage } from '../../handlers/uimage.js';
import { png } from '../../handlers/png.js';
import { jar } from '../../handlers/zip/jar.js';
import { jmod } from '../../handlers/zip/jmod.js';
import { zip } from '../../handlers/zip/zip.js';
import { pyzip } from '../../handlers/zip/pyzip.js';
import { tar } from '../../handlers/tar/tar.js';
import { deb } from '../../handlers/ar/deb.js';
import { elf } from '../../handlers/elf/elf.js';
import { html } from '../../handlers/documents/html.js';
import { pyc } from '../../handlers/pyc.js';
import { xml } from '../../handlers/documents/xml.js';
import { odf } from '../../handlers/zip/odf.js';

// deb and tar come first: a .tar.gz is a tar before it is a gzip file. elf (any name, by magic)
// comes last.
export const HANDLERS: readonly Handler[] = [deb, tar, ar, cpio, gettext, gzip, jar, jmod, javadoc, bflt, uimage, png, odf, zip, pyzip, pyc, html, xml, elf];

/** Every normalizer name, sorted (Perl's all_normalizers). */
export const NORMALIZER_NAMES: readonly string[] = HANDLERS.map((h) => h.name).sort();

export const DEFAULT_ENABLED: ReadonlySet<string> = new Set(HANDLERS.filter((h) => h.defaultEnabled).map((h) => h.name));

export function handlerByName(name: string): Handler | undefined {
  return HANDLERS.find((h) => h.name === name);
}

/** The Perl tool's default selection (everything it knows but ar). */
export const PERL_DEFAULT_ENABLED: ReadonlySet<string> = new Set(HANDLERS.filter((h) => h.defaultEnabled && !h.beyondPerl).map((h) => h.name));

/** Handlers with nothing to do unless build paths or host names are given. */
export const SCRUB_ONLY: readonly string[] = HANDLERS.filter((h) => h.onlyScrubs).map((h) => h.name);
