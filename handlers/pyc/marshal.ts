/**
 * CPython's marshal stream, as a .pyc holds it after its header: read into a table of distinct
 * values, written back canonically.
 *
 * Reading follows CPython's loader: a reference slot is reserved, in stream order, for each object
 * whose type byte carries FLAG_REF (0x80) and that CPython builds (not the singletons, not TYPE_REF
 * itself, where the loader ignores the flag); TYPE_REF resolves to the slot's object. Values that
 * are equal (same type and bytes, same children, references seen through) share one id, so how
 * the compiler happened to share objects in memory is forgotten.
 *
 * Writing is add-determinism's PycWriter (Fedora's normalizer), whose bytes are the contract:
 * depth first, every value equal to one already written becomes a TYPE_REF to it, FLAG_REF is
 * set on exactly the values referenced, numbered by their position in the stream; tuples are
 * SMALL_TUPLE below 256 items; singletons are never shared. Everything else keeps its bytes.
 */
import { FormatError } from '../../src/kit/errors.js';
import { ByteWriter } from '../../src/kit/binary.js';

export const FLAG_REF = 0x80;

/** How a code object is laid out in one CPython: 4-byte ints first, then objects, then
 *  co_firstlineno (an int), then the last objects. */
export interface CodeLayout {
  readonly ints: number;
  readonly before: number;
  readonly after: number;
}

/** A marshal type CPython 3 never writes into a .pyc, which add-determinism does not rewrite
 *  either (a dict, the old text floats, 64-bit ints): the file is left as it is. */
export class UnsupportedMarshal extends Error {}

const ch = (c: string) => c.charCodeAt(0);
const T = {
  NULL: ch('0'), NONE: ch('N'), FALSE: ch('F'), TRUE: ch('T'), STOPITER: ch('S'), ELLIPSIS: ch('.'),
  INT: ch('i'), LONG: ch('l'), FLOAT: ch('g'), COMPLEX: ch('y'), REF: ch('r'),
  STRING: ch('s'), INTERNED: ch('t'), UNICODE: ch('u'), ASCII: ch('a'), ASCII_INTERNED: ch('A'),
  SHORT_ASCII: ch('z'), SHORT_ASCII_INTERNED: ch('Z'),
  TUPLE: ch('('), SMALL_TUPLE: ch(')'), LIST: ch('['), SET: ch('<'), FROZENSET: ch('>'),
  DICT: ch('{'), CODE: ch('c'), SLICE: ch(':'),
} as const;

const SINGLETONS = new Set<number>([T.NULL, T.NONE, T.FALSE, T.TRUE, T.STOPITER, T.ELLIPSIS]);
const LONG_STRINGS = new Set<number>([T.STRING, T.INTERNED, T.UNICODE, T.ASCII, T.ASCII_INTERNED]);
const SEQUENCES = new Set<number>([T.TUPLE, T.LIST, T.SET, T.FROZENSET]);
const UNSUPPORTED = new Map<number, string>([
  [T.DICT, 'a dict'], [ch('f'), 'a text float'], [ch('x'), 'a text complex'], [ch('I'), 'a 64-bit int'],
]);

/** CPython refuses to nest deeper (MAX_MARSHAL_STACK_DEPTH). */
const MAX_DEPTH = 2000;

/** One distinct value. `payload`: a scalar's bytes (a string's without its length; a code
 *  object's ints, co_firstlineno last); `items`: the ids of its children. Tuples are stored as
 *  SMALL_TUPLE whatever their length. */
interface Value {
  readonly type: number;
  readonly payload: Buffer;
  readonly items: readonly number[];
}

/** The values of one stream, equal ones interned to one id; `root` is the top object's. */
export interface MarshalGraph {
  readonly values: readonly Value[];
  readonly root: number;
  /** Where the stream ended: bytes after it are not part of the object. */
  readonly end: number;
}

const EMPTY = Buffer.alloc(0);

class Reader {
  pos: number;
  private readonly values: Value[] = [];
  private readonly ids = new Map<string, number>();
  /** Value id per reference slot, -1 while its object is being read. */
  private readonly slots: number[] = [];

  constructor(private readonly data: Buffer, start: number, private readonly code: CodeLayout) {
    this.pos = start;
  }

  graph(): MarshalGraph {
    const root = this.object(0);
    return { values: this.values, root, end: this.pos };
  }

  private need(n: number): void {
    if (n < 0) throw new FormatError(`negative marshal length ${n}`, this.pos);
    if (this.pos + n > this.data.length) throw new FormatError('marshal data runs past the end of the file', this.pos);
  }

  private bytes(n: number): Buffer {
    this.need(n);
    this.pos += n;
    return this.data.subarray(this.pos - n, this.pos);
  }

  private u8(): number {
    this.need(1);
    return this.data[this.pos++];
  }

  private i32(): number {
    this.need(4);
    this.pos += 4;
    return this.data.readInt32LE(this.pos - 4);
  }

  private intern(type: number, payload: Buffer, items: readonly number[]): number {
    const key = `${type} ${items.join(',')} ${payload.toString('latin1')}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.values.push({ type, payload, items }) - 1;
      this.ids.set(key, id);
    }
    return id;
  }

  private object(depth: number): number {
    if (depth > MAX_DEPTH) throw new FormatError('marshal data nested too deep', this.pos);
    const at = this.pos;
    const byte = this.u8();
    const type = byte & ~FLAG_REF;
    if (SINGLETONS.has(type)) return this.intern(type, EMPTY, []);
    if (type === T.REF) return this.reference(at);
    const slot = byte & FLAG_REF ? this.slots.push(-1) - 1 : -1;
    const id = this.body(type, at, depth);
    if (slot >= 0) this.slots[slot] = id;
    return id;
  }

  private reference(at: number): number {
    const index = this.i32();
    const id = index >= 0 && index < this.slots.length ? this.slots[index] : -1;
    if (id < 0) throw new FormatError(`marshal reference ${index} to an object not read yet`, at);
    return id;
  }

  private body(type: number, at: number, depth: number): number {
    if (type === T.INT) return this.intern(type, this.bytes(4), []);
    if (type === T.FLOAT) return this.intern(type, this.bytes(8), []);
    if (type === T.COMPLEX) return this.intern(type, this.bytes(16), []);
    if (type === T.LONG) return this.intern(type, this.long(at), []);
    if (type === T.SHORT_ASCII || type === T.SHORT_ASCII_INTERNED) return this.intern(type, this.bytes(this.u8()), []);
    if (LONG_STRINGS.has(type)) return this.intern(type, this.bytes(this.i32()), []);
    if (type === T.SMALL_TUPLE) return this.intern(type, EMPTY, this.items(this.u8(), depth));
    if (SEQUENCES.has(type)) return this.intern(type === T.TUPLE ? T.SMALL_TUPLE : type, EMPTY, this.items(this.count(at), depth));
    if (type === T.SLICE) return this.intern(type, EMPTY, this.items(3, depth));
    if (type === T.CODE) return this.codeObject(depth);
    const unsupported = UNSUPPORTED.get(type);
    if (unsupported) throw new UnsupportedMarshal(`${unsupported} (marshal type '${String.fromCharCode(type)}') at offset ${at}`);
    throw new FormatError(`unknown marshal type 0x${type.toString(16)}`, at);
  }

  private count(at: number): number {
    const n = this.i32();
    if (n < 0) throw new FormatError(`negative marshal size ${n}`, at);
    return n;
  }

  private items(n: number, depth: number): number[] {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(this.object(depth + 1));
    return ids;
  }

  /** A long's digit count and 15-bit digits, as CPython accepts them (normalized: the top digit
   *  is not 0), which is also the form add-determinism writes back. */
  private long(at: number): Buffer {
    const start = this.pos;
    const n = Math.abs(this.i32());
    const digits = this.bytes(2 * n);
    for (let i = 0; i < n; i++) {
      if (digits.readUInt16LE(2 * i) > 0x7fff) throw new FormatError('bad marshal long (digit out of range)', at);
    }
    if (n > 0 && digits.readUInt16LE(2 * n - 2) === 0) throw new FormatError('bad marshal long (unnormalized)', at);
    return this.data.subarray(start, this.pos);
  }

  private codeObject(depth: number): number {
    const { ints, before, after } = this.code;
    const head = this.bytes(4 * ints);
    const first = this.items(before, depth);
    const firstLine = this.bytes(4);
    const last = this.items(after, depth);
    return this.intern(T.CODE, Buffer.concat([head, firstLine]), [...first, ...last]);
  }
}

/** Read the marshal stream of `data` from `start`. */
export function readMarshal(data: Buffer, start: number, code: CodeLayout): MarshalGraph {
  return new Reader(data, start, code).graph();
}

class Writer {
  private readonly out = new ByteWriter();
  /** Where each value was written, -1 while not yet (or while being) written. */
  private readonly offset: Int32Array;
  private readonly referenced: Uint8Array;
  /** Each TYPE_REF written: where its index goes, and the value it points to. */
  private readonly refs: [number, number][] = [];

  constructor(private readonly graph: MarshalGraph, private readonly code: CodeLayout, header: Buffer) {
    this.out.bytes(header);
    this.offset = new Int32Array(graph.values.length).fill(-1);
    this.referenced = new Uint8Array(graph.values.length);
  }

  write(): Buffer {
    this.object(this.graph.root);
    const bytes = Buffer.concat(this.out.take());
    this.flagAndNumber(bytes);
    return bytes;
  }

  private object(id: number): void {
    const value = this.graph.values[id];
    if (SINGLETONS.has(value.type)) return void this.out.u8(value.type);
    if (this.offset[id] >= 0) return this.reference(id);
    const at = this.out.total;
    this.body(value);
    // Recorded once the value is complete: only later copies refer to it.
    this.offset[id] = at;
  }

  private reference(id: number): void {
    this.referenced[id] = 1;
    this.out.u8(T.REF);
    this.refs.push([this.out.total, id]);
    this.out.u32(0);
  }

  private body(value: Value): void {
    const { type, payload, items } = value;
    if (type === T.CODE) return this.codeObject(payload, items);
    if (type === T.SMALL_TUPLE && items.length >= 256) {
      this.out.u8(T.TUPLE);
      this.out.u32(items.length);
    } else {
      this.out.u8(type);
      if (type === T.SMALL_TUPLE || type === T.SHORT_ASCII || type === T.SHORT_ASCII_INTERNED) this.out.u8(type === T.SMALL_TUPLE ? items.length : payload.length);
      else if (SEQUENCES.has(type)) this.out.u32(items.length);
      else if (LONG_STRINGS.has(type)) this.out.u32(payload.length);
    }
    this.out.bytes(payload);
    for (const item of items) this.object(item);
  }

  private codeObject(payload: Buffer, items: readonly number[]): void {
    const { ints, before } = this.code;
    this.out.u8(T.CODE);
    this.out.bytes(payload.subarray(0, 4 * ints));
    for (const item of items.slice(0, before)) this.object(item);
    this.out.bytes(payload.subarray(4 * ints));
    for (const item of items.slice(before)) this.object(item);
  }

  /** FLAG_REF on every value referenced, numbered in stream order; the references filled in. */
  private flagAndNumber(bytes: Buffer): void {
    const flagged: number[] = [];
    this.referenced.forEach((r, id) => {
      if (r) flagged.push(id);
    });
    flagged.sort((a, b) => this.offset[a] - this.offset[b]);
    const number = new Map<number, number>();
    for (const id of flagged) {
      number.set(id, number.size);
      bytes[this.offset[id]] |= FLAG_REF;
    }
    for (const [at, id] of this.refs) bytes.writeUInt32LE(number.get(id)!, at);
  }
}

/** `header`, then the graph written canonically (see the module comment). */
export function writeMarshal(graph: MarshalGraph, code: CodeLayout, header: Buffer): Buffer {
  return new Writer(graph, code, header).write();
}
