/**
 * Python bytecode (`*.pyc`, CPython 3.0 to 3.15 by magic number). Not in the Perl tool; the
 * contract is Fedora's add-determinism, byte for byte.
 *
 * marshal sets FLAG_REF on every object whose reference count was above one while it was
 * written, so the same module compiled twice differs in those bits, in the reference numbers,
 * and in which equal objects are written twice or shared. The stream is read into its values and
 * written again canonically (marshal.ts): the result depends only on the code object's value.
 * Changes: the marshal stream; with --pyc-zero-mtime, the source mtime in the header becomes 0
 * and so does the mtime of the `.py` beside the file (add-determinism's pyc-zero-mtime).
 * Keeps: the header (magic, flags, source size or hash). Bytes after the marshal data, which
 * CPython ignores, are dropped, as add-determinism drops them (with a warning).
 * Left alone: Python 2 and unknown magic numbers (not claimed); hash-based files (PEP 552),
 * which add-determinism refuses; marshal types CPython 3 never writes there (a dict, say).
 * Errors: truncated or corrupt marshal data, a reference to an object not read yet.
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../../src/kit/handler.js';
import { readAll, type Sink, type Source } from '../../src/kit/io.js';
import { FormatError } from '../../src/kit/errors.js';
import { readMarshal, UnsupportedMarshal, writeMarshal, type CodeLayout } from './marshal.js';

/** A CPython release as its .pyc files show it. */
export interface PycFormat {
  readonly version: string;
  readonly headerSize: number;
  readonly code: CodeLayout;
}

/** Magic numbers (little-endian, before `\r\n`) by release, the ranges add-determinism knows;
 *  the numbers between them belong to no release. */
const RELEASES: readonly [number, number, string][] = [
  [3000, 3131, '3.0'], [3132, 3160, '3.1'], [3161, 3180, '3.2'], [3181, 3230, '3.3'],
  [3231, 3310, '3.4'], [3311, 3351, '3.5'], [3360, 3361, '3.6'], [3370, 3379, '3.6'],
  [3390, 3394, '3.7'], [3400, 3401, '3.8'], [3410, 3413, '3.8'], [3402, 3425, '3.9'],
  [3430, 3439, '3.10'], [3450, 3495, '3.11'], [3500, 3531, '3.12'], [3550, 3599, '3.13'],
  [3600, 3649, '3.14'], [3650, 4000, '3.15'],
];

const minor = (version: string) => Number(version.split('.')[1]);

function layoutOf(version: string): CodeLayout {
  const m = minor(version);
  if (m < 8) return { ints: 5, before: 8, after: 1 }; // ..., filename, name, firstlineno, lnotab
  if (m < 11) return { ints: 6, before: 8, after: 1 }; // + posonlyargcount
  return { ints: 5, before: 8, after: 2 }; // ..., qualname, firstlineno, linetable, exceptiontable
}

/** The release a .pyc's first bytes name, or undefined (not a Python 3 .pyc). */
function pycFormat(head: Buffer): PycFormat | undefined {
  if (head.length < 4 || head[2] !== 0x0d || head[3] !== 0x0a) return undefined;
  const magic = head.readUInt16LE(0);
  const version = RELEASES.find(([lo, hi]) => magic >= lo && magic <= hi)?.[2];
  if (!version) return undefined;
  const m = minor(version);
  return { version, headerSize: m < 3 ? 8 : m < 7 ? 12 : 16, code: layoutOf(version) };
}

/** Where the source mtime sits in the header. */
const mtimeOffset = (format: PycFormat) => (minor(format.version) < 7 ? 4 : 8);

/** PEP 552: a 3.7+ file whose flags word is not 0 is validated by the source's hash (a file too
 *  short to say is rewritePyc's error). */
const hashBased = (data: Buffer, format: PycFormat) => format.headerSize === 16 && data.length >= 16 && data.readUInt32LE(4) !== 0;

/** The marshal stream rewritten canonically, header kept; `dropped` counts the bytes after it. */
function rewritePyc(data: Buffer, format: PycFormat): { bytes: Buffer; dropped: number } {
  if (data.length < format.headerSize) throw new FormatError(`shorter than a CPython ${format.version} header`, 0);
  const graph = readMarshal(data, format.headerSize, format.code);
  const bytes = writeMarshal(graph, format.code, data.subarray(0, format.headerSize));
  return { bytes, dropped: data.length - graph.end };
}

/** `--pyc-zero-mtime`: the header's source mtime set to 0 (in place); was it not 0? */
function zeroSourceMtime(bytes: Buffer, format: PycFormat): boolean {
  const at = mtimeOffset(format);
  if (bytes.readUInt32LE(at) === 0) return false;
  bytes.writeUInt32LE(0, at);
  return true;
}

/** The source add-determinism gives an mtime of 0 with the header's: the name up to its first
 *  dot, plus `.py`, in the same directory (`m.cpython-311.pyc` → `m.py`). */
function sourceBeside(pycName: string): string {
  const base = pycName.slice(pycName.lastIndexOf('/') + 1);
  return `${base.split('.')[0]}.py`;
}

async function normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
  const data = await readAll(src);
  const format = pycFormat(data)!;
  if (hashBased(data, format)) {
    ctx.keep(`${ctx.name}: a hash-based .pyc (PEP 552); left unchanged, as add-determinism leaves it`);
    return false;
  }
  let rewritten;
  try {
    rewritten = rewritePyc(data, format);
  } catch (e) {
    if (!(e instanceof UnsupportedMarshal)) throw e;
    ctx.keep(`${ctx.name}: ${e.message}, which add-determinism does not rewrite; left unchanged`);
    return false;
  }
  const { bytes, dropped } = rewritten;
  if (dropped > 0) ctx.warn(`${ctx.name}: ${dropped} bytes after the marshal data (CPython ignores them) dropped`);
  if (ctx.options.pycZeroMtime && zeroSourceMtime(bytes, format)) ctx.setMtimeBeside(sourceBeside(ctx.name), 0);
  if (bytes.equals(data)) return false;
  await sink.write(bytes);
  return true;
}

export const pyc: Handler = {
  name: 'pyc',
  defaultEnabled: true,
  files: '*.pyc (CPython 3.0-3.15)',
  beyondPerl: true,
  matchName: extensionMatcher(['pyc']),
  detect: (head) => pycFormat(head) !== undefined,
  normalize,
};
