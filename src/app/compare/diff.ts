/**
 * What differs between two expanded artifacts (artifact.ts), member by member through nested
 * containers: a member present in one only, its type, mode bits or link target, the order of the
 * members, or its content (the first differing offset, with a short text or hex excerpt of each
 * side); a container whose members all agree but whose bytes do not is "packed differently"
 * (a zip's compressed data is kept as it was). Two artifacts whose normalized bytes are equal
 * have no differences.
 */
import type { ArtifactNode, MemberNode, Members } from './artifact.js';

export interface Difference {
  /** Where: the artifact's name, then the path through nested containers. */
  readonly path: string;
  readonly kind: 'only-first' | 'only-second' | 'type' | 'mode' | 'link' | 'order' | 'content' | 'packing' | 'field';
  /** field: the container's value (an rpm header tag) that differs. */
  readonly field?: string;
  /** The first and second side's value (type, mode, link, field) or excerpt (content). */
  readonly first?: string;
  readonly second?: string;
  /** content: the first differing byte, and the sizes. */
  readonly offset?: number;
  readonly sizes?: readonly [number, number];
}

const join = (at: string, member: string) => (member === '' ? at : `${at}/${member}`);

export async function diffNodes(a: ArtifactNode, b: ArtifactNode, at: string): Promise<Difference[]> {
  if (a.bytes.equals(b.bytes)) return [];
  const [x, y] = await Promise.all([a.members(), b.members()]);
  if (x && y && x.kind === y.kind) {
    const found = x.kind === 'stream' ? await diffStream(x.members[0], y.members[0], at) : [...diffFields(x.fields, y.fields, at), ...(await diffMembers(x.members, y.members, at))];
    // Same members, other bytes: compressed data or headers (a zip's members are copied raw).
    return found.length ? found : [{ ...contentDifference(a.bytes, b.bytes, at), kind: 'packing' }];
  }
  return [contentDifference(a.bytes, b.bytes, at)];
}

/** Fields by name: one present on one side only shows its value against "(none)". */
function diffFields(first: Members['fields'], second: Members['fields'], at: string): Difference[] {
  const other = new Map(second.map((f) => [f.name, f.value]));
  const out: Difference[] = [];
  for (const f of first) if (other.get(f.name) !== f.value) out.push({ path: at, kind: 'field', field: f.name, first: f.value, second: other.get(f.name) ?? '(none)' });
  const mine = new Set(first.map((f) => f.name));
  for (const f of second) if (!mine.has(f.name)) out.push({ path: at, kind: 'field', field: f.name, first: '(none)', second: f.value });
  return out;
}

async function diffStream(m: MemberNode | undefined, n: MemberNode | undefined, at: string): Promise<Difference[]> {
  return m?.node && n?.node ? diffNodes(m.node, n.node, at) : [];
}

async function diffMembers(first: readonly MemberNode[], second: readonly MemberNode[], at: string): Promise<Difference[]> {
  const out: Difference[] = [];
  const inSecond = new Map(second.map((m) => [m.path, m]));
  const inFirst = new Map(first.map((m) => [m.path, m]));
  for (const m of first) if (!inSecond.has(m.path)) out.push({ path: join(at, m.path), kind: 'only-first' });
  for (const m of second) if (!inFirst.has(m.path)) out.push({ path: join(at, m.path), kind: 'only-second' });
  for (const m of first) {
    const n = inSecond.get(m.path);
    if (n) out.push(...(await diffMember(m, n, join(at, m.path))));
  }
  const common = (list: readonly MemberNode[], other: Map<string, MemberNode>) => list.filter((m) => other.has(m.path)).map((m) => m.path).join('\0');
  if (common(first, inSecond) !== common(second, inFirst)) out.push({ path: at, kind: 'order' });
  return out;
}

async function diffMember(m: MemberNode, n: MemberNode, at: string): Promise<Difference[]> {
  if (m.type !== n.type) return [{ path: at, kind: 'type', first: m.type, second: n.type }];
  const out: Difference[] = [];
  if (m.mode !== n.mode) out.push({ path: at, kind: 'mode', first: m.mode, second: n.mode });
  if ((m.link ?? '') !== (n.link ?? '')) out.push({ path: at, kind: 'link', first: m.link, second: n.link });
  if (m.node && n.node) out.push(...(await diffNodes(m.node, n.node, at)));
  return out;
}

const printable = (b: Buffer) => b.every((c) => (c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13);

/** Up to 32 bytes from `offset`: text when both sides are printable there, else hex. */
function excerpts(a: Buffer, b: Buffer, offset: number): [string, string] {
  const from = Math.max(0, offset - 8);
  const [x, y] = [a.subarray(from, offset + 24), b.subarray(from, offset + 24)];
  if (printable(x) && printable(y)) return [JSON.stringify(x.toString('latin1')), JSON.stringify(y.toString('latin1'))];
  return [a.subarray(offset, offset + 16).toString('hex') || '(end)', b.subarray(offset, offset + 16).toString('hex') || '(end)'];
}

function contentDifference(a: Buffer, b: Buffer, at: string): Difference {
  let offset = 0;
  const n = Math.min(a.length, b.length);
  while (offset < n && a[offset] === b[offset]) offset++;
  const [first, second] = excerpts(a, b, offset);
  return { path: at, kind: 'content', offset, first, second, sizes: [a.length, b.length] };
}

/** A field's value, cut to a readable length. */
const short = (value = '') => (value.length > 80 ? `${value.slice(0, 77)}...` : value);

/** One line for a person. */
export function describeDifference(d: Difference): string {
  switch (d.kind) {
    case 'only-first': return `${d.path}: only in the first`;
    case 'only-second': return `${d.path}: only in the second`;
    case 'order': return `${d.path}: member order differs`;
    case 'type': return `${d.path}: type ${d.first} vs ${d.second}`;
    case 'mode': return `${d.path}: mode ${d.first || '(none)'} vs ${d.second || '(none)'}`;
    case 'link': return `${d.path}: link target ${JSON.stringify(d.first ?? '')} vs ${JSON.stringify(d.second ?? '')}`;
    case 'field': return `${d.path}: ${d.field} ${short(d.first)} vs ${short(d.second)}`;
    case 'packing': return `${d.path}: same members, packed differently (compressed data or headers; first difference at offset ${d.offset})`;
    case 'content': return `${d.path}: content differs at offset ${d.offset} (sizes ${d.sizes![0]} and ${d.sizes![1]}): ${d.first} vs ${d.second}`;
  }
}
