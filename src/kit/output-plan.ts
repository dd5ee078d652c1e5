/**
 * OutputPlan: the output of a handler described as a list of pieces, each either a range of
 * the source (kept as is) or new bytes. Header-level formats (gzip, ar, cpio, png, bflt,
 * uimage) build a plan while they parse, then write it only if it differs from the input.
 *
 * `replace()` compares the new bytes with the old ones and records an unchanged range when
 * they are equal, so `changed` is exact: a file whose normalized bytes equal its input is
 * reported unchanged and never rewritten.
 */
import type { Sink, Source } from './io.js';

type Piece = { kind: 'range'; offset: number; length: number; from?: Source } | { kind: 'bytes'; data: Buffer };

export class OutputPlan {
  private readonly pieces: Piece[] = [];
  private outputSize = 0;

  constructor(private readonly src: Source) {}

  /** Keep `length` source bytes at `offset`. Adjacent ranges merge. */
  copy(offset: number, length: number): void {
    if (length <= 0) return;
    this.outputSize += length;
    const last = this.pieces[this.pieces.length - 1];
    if (last && last.kind === 'range' && !last.from && last.offset + last.length === offset) {
      last.length += length;
      return;
    }
    this.pieces.push({ kind: 'range', offset, length });
  }

  /** Append `data`, recorded as a source range when the source already holds exactly these
   *  bytes at this output position (so rewriting a canonical archive reports no change). */
  put(data: Uint8Array): void {
    const here = this.src.readSync(this.outputSize, data.length);
    if (here.length === data.length && Buffer.compare(here, data) === 0) this.copy(this.outputSize, data.length);
    else this.emit(data);
  }

  /** Append `length` bytes of another source (a member normalized elsewhere): always a change. */
  include(from: Source, offset: number, length: number): void {
    if (length <= 0) return;
    this.outputSize += length;
    this.pieces.push({ kind: 'range', offset, length, from });
  }

  /** Append new bytes that do not come from the source. */
  emit(data: Uint8Array): void {
    if (data.length === 0) return;
    this.outputSize += data.length;
    this.pieces.push({ kind: 'bytes', data: Buffer.from(data) });
  }

  /** Replace the source bytes `old`, found at `offset`, by `data` (kept as a range if equal). */
  replace(offset: number, old: Uint8Array, data: Uint8Array): void {
    if (Buffer.compare(old, data) === 0) this.copy(offset, old.length);
    else this.emit(data);
  }

  get size(): number {
    return this.outputSize;
  }

  /** True unless the plan reproduces the source exactly. */
  get changed(): boolean {
    if (this.src.size === 0) return this.pieces.length > 0;
    if (this.pieces.length !== 1) return true;
    const p = this.pieces[0];
    return !(p.kind === 'range' && !p.from && p.offset === 0 && p.length === this.src.size);
  }

  async writeTo(sink: Sink): Promise<void> {
    for (const p of this.pieces) {
      if (p.kind === 'range') await sink.copyFrom(p.from ?? this.src, p.offset, p.length);
      else await sink.write(p.data);
    }
  }

  /** Write the plan if it changes anything; returns whether it did. */
  async commit(sink: Sink): Promise<boolean> {
    if (!this.changed) return false;
    await this.writeTo(sink);
    return true;
  }
}
