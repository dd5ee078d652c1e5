/**
 * Builds GNU .mo catalogs (the layout msgfmt writes, without a hash table) so tests can use
 * headers that today's msgfmt no longer emits, such as POT-Creation-Date.
 */
export function buildMo(entries: [string, string][], endian: 'LE' | 'BE' = 'LE'): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  const n = sorted.length;
  const origTable = 28;
  const transTable = origTable + n * 8;
  let strings = transTable + n * 8;
  const u32 = (buf: Buffer, v: number, off: number) => (endian === 'LE' ? buf.writeUInt32LE(v, off) : buf.writeUInt32BE(v, off));
  const head = Buffer.alloc(strings);
  u32(head, 0x950412de, 0);
  u32(head, 0, 4);
  u32(head, n, 8);
  u32(head, origTable, 12);
  u32(head, transTable, 16);
  u32(head, 0, 20);
  u32(head, strings, 24);
  const blobs: Buffer[] = [];
  const place = (s: string, tableOff: number) => {
    const b = Buffer.from(s, 'utf8');
    u32(head, b.length, tableOff);
    u32(head, strings, tableOff + 4);
    blobs.push(b, Buffer.alloc(1));
    strings += b.length + 1;
  };
  sorted.forEach(([id], i) => place(id, origTable + i * 8));
  sorted.forEach(([, str], i) => place(str, transTable + i * 8));
  return Buffer.concat([head, ...blobs]);
}
