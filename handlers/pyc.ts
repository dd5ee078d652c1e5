/**
 * Python bytecode (`*.pyc`, CPython 3.7 to 3.13 by magic number). Not in the Perl tool.
 *
 * marshal sets FLAG_REF (0x80 on the type byte) on every object whose reference count was above
 * one while it was written, whether or not a later TYPE_REF ('r') points back at it, so the same
 * module compiled twice can differ in those bits and in the numbering of the references
 * (Fedora's add-determinism fixes this with its marshalparser port). This handler walks the
 * marshal stream, keeps FLAG_REF only on objects some TYPE_REF actually refers to, and renumbers
 * the references to match. Reference numbers are given in stream order of the flagged type bytes
 * (marshal reserves the slot before reading a container's items), and only bits and 4-byte
 * indexes change, so nothing moves.
 * Keeps: the 16-byte header (magic, flags, source mtime and size, or the source hash); with
 * --pyc-zero-mtime the mtime of a timestamp-based .pyc becomes 0.
 * Errors: an unknown type code, a reference to an object not yet seen, data past the end.
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../src/kit/handler.js';
import { readAll, type Sink, type Source } from '../src/kit/io.js';
import { FormatError } from '../src/kit/errors.js';

const FLAG_REF = 0x80;
/** Types marshal loads without a reference slot: NULL, None, StopIteration, Ellipsis, False,
 *  True, and TYPE_REF itself. */
const SLOTLESS = new Set(['0', 'N', 'S', '.', 'F', 'T', 'r']);

/** CPython magic numbers (the first two bytes, little-endian, then \r\n) by release. */
const RELEASES: [number, number, string][] = [
  [3390, 3399, '3.7'],
  [3400, 3419, '3.8'],
  [3420, 3429, '3.9'],
  [3430, 3449, '3.10'],
  [3450, 3499, '3.11'],
  [3500, 3549, '3.12'],
  [3550, 3599, '3.13'],
];

export function pycVersion(head: Buffer): string | undefined {
  if (head.length < 16 || head[2] !== 0x0d || head[3] !== 0x0a) return undefined;
  const magic = head.readUInt16LE(0);
  return RELEASES.find(([lo, hi]) => magic >= lo && magic <= hi)?.[2];
}

/** How a code object is laid out: how many 4-byte ints come first, how many objects follow,
 *  then where the firstlineno int sits among the objects. */
function codeLayout(magic: number): { ints: number; before: number; after: number } {
  if (magic < 3400) return { ints: 5, before: 8, after: 1 }; // 3.7: ...name, firstlineno, lnotab
  if (magic < 3450) return { ints: 6, before: 8, after: 1 }; // 3.8-3.10: + posonlyargcount
  return { ints: 5, before: 8, after: 2 }; // 3.11+: ...qualname, firstlineno, linetable, exceptiontable
}

interface Walk {
  /** Offsets of type bytes carrying FLAG_REF, in stream order (= reference numbers). */
  flagged: number[];
  /** Offsets of the 4-byte index of each TYPE_REF. */
  refs: number[];
  /** Offsets of type bytes carrying a FLAG_REF that loading ignores. */
  ignored: number[];
}

function walkMarshal(data: Buffer, start: number, magic: number): Walk {
  const flagged: number[] = [];
  const refs: number[] = [];
  const ignored: number[] = [];
  const layout = codeLayout(magic);
  let pos = start;
  const need = (n: number) => {
    if (n < 0) throw new FormatError(`negative marshal length ${n}`, pos);
    if (pos + n > data.length) throw new FormatError('marshal data runs past the end', pos);
  };
  const u8 = () => {
    need(1);
    return data[pos++];
  };
  const i32 = () => {
    need(4);
    const v = data.readInt32LE(pos);
    pos += 4;
    return v;
  };
  const skip = (n: number) => {
    need(n);
    pos += n;
  };
  // marshal itself refuses to nest deeper than 2000 (MAX_MARSHAL_STACK_DEPTH).
  const object = (depth: number): string => {
    if (depth > 2000) throw new FormatError('marshal data nested too deep', pos);
    const at = pos;
    const code = u8();
    const type = String.fromCharCode(code & ~FLAG_REF);
    // CPython gives a reference slot only to objects it builds: FLAG_REF on a singleton or on a
    // reference itself is ignored when loading (and cleared here), never numbered.
    if (code & FLAG_REF) (SLOTLESS.has(type) ? ignored : flagged).push(at);
    const items = (n: number) => {
      need(0);
      for (let i = 0; i < n; i++) object(depth + 1);
    };
    switch (type) {
      case '0': case 'N': case 'F': case 'T': case 'S': case '.':
        break;
      case 'i': skip(4); break;
      case 'I': case 'g': skip(8); break;
      case 'y': skip(16); break;
      case 'f': skip(u8()); break;
      case 'x': skip(u8()); skip(u8()); break;
      case 'l': skip(Math.abs(i32()) * 2); break;
      case 's': case 't': case 'u': case 'a': case 'A': skip(i32()); break;
      case 'z': case 'Z': skip(u8()); break;
      case 'r': {
        const index = i32();
        if (index < 0 || index >= flagged.length) throw new FormatError(`marshal reference ${index} to an object not yet read`, at);
        refs.push(at + 1);
        break;
      }
      case '(': case '[': case '<': case '>': {
        const n = i32();
        if (n < 0) throw new FormatError(`negative marshal size ${n}`, at);
        items(n);
        break;
      }
      case ')': items(u8()); break;
      case '{':
        while (object(depth + 1) !== '0') object(depth + 1); // key, value... up to a NULL key
        break;
      case 'c':
        skip(4 * layout.ints);
        items(layout.before);
        skip(4); // firstlineno
        items(layout.after);
        break;
      default:
        throw new FormatError(`unknown marshal type 0x${code.toString(16)}`, at);
    }
    return type;
  };
  object(0);
  if (pos !== data.length) throw new FormatError(`${data.length - pos} bytes after the marshal data`, pos);
  return { flagged, refs, ignored };
}

/** The .pyc with FLAG_REF only where referenced, references renumbered; header kept. */
export function normalizePyc(data: Buffer, zeroMtime: boolean): Buffer {
  if (!pycVersion(data)) throw new FormatError('not a CPython 3.7-3.13 .pyc (magic number)', 0);
  const magic = data.readUInt16LE(0);
  const { flagged, refs, ignored } = walkMarshal(data, 16, magic);
  const out = Buffer.from(data);
  for (const at of ignored) out[at] &= ~FLAG_REF;
  const used = new Set(refs.map((at) => data.readInt32LE(at)));
  const renumber = new Map<number, number>();
  flagged.forEach((at, index) => {
    if (used.has(index)) renumber.set(index, renumber.size);
    else out[at] &= ~FLAG_REF;
  });
  for (const at of refs) out.writeInt32LE(renumber.get(data.readInt32LE(at))!, at);
  // Flags word 0: a timestamp-based .pyc (mtime, size); bit 0 set: hash-based.
  if (zeroMtime && (data.readUInt32LE(4) & 1) === 0) out.writeUInt32LE(0, 8);
  return out;
}

export const pyc: Handler = {
  name: 'pyc',
  defaultEnabled: true,
  files: '*.pyc (CPython 3.7-3.13)',
  beyondPerl: true,
  matchName: extensionMatcher(['pyc']),
  detect: (head) => pycVersion(head) !== undefined,

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    const data = await readAll(src);
    const out = normalizePyc(data, ctx.options.pycZeroMtime === true);
    if (out.equals(data)) return false;
    await sink.write(out);
    return true;
  },
};
