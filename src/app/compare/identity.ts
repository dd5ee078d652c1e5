/**
 * Identity v1 (docs/identity.md): one SHA-256 per artifact over a canonical serialization of its
 * significant content, so artifacts that differ only in what the normalizers remove, or in how
 * they were packed (member order, compression level, extra fields, tar format, owners), share it.
 *  - a container: `snd-identity/1 KIND\n`, then its fields in their order (an rpm's header tags:
 *    `field \t JSON(name) \t VALUE \n`), then per member in byte order of its path (UTF-8):
 *    TYPE \t MODE \t JSON(path) \t JSON(link or "") \t IDENTITY-of-content (files) or "" \n;
 *  - a compressed stream: the identity of what it decompresses to;
 *  - anything else: the SHA-256 of its normalized bytes.
 * A tree: a line per regular file and symlink, then one for the tree, over
 * `snd-identity/1 tree\n` and per entry TYPE \t EXEC \t JSON(path) \t IDENTITY \n.
 */
import * as crypto from 'node:crypto';
import type { ArtifactNode, MemberNode } from './artifact.js';

const IDENTITY_VERSION = 'snd-identity/1';

const sha256 = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest('hex');
const byPath = (a: { path: string }, b: { path: string }) => Buffer.compare(Buffer.from(a.path, 'utf8'), Buffer.from(b.path, 'utf8'));

export async function identityOf(node: ArtifactNode): Promise<string> {
  const listing = await node.members();
  if (!listing) return sha256(node.bytes);
  if (listing.kind === 'stream') return listing.members[0]?.node ? identityOf(listing.members[0].node) : sha256(node.bytes);
  const lines = listing.fields.map((f) => `field\t${JSON.stringify(f.name)}\t${f.value}\n`);
  for (const m of [...listing.members].sort(byPath)) lines.push(await memberLine(m));
  return sha256(`${IDENTITY_VERSION} ${listing.kind}\n${lines.join('')}`);
}

async function memberLine(m: MemberNode): Promise<string> {
  return `${m.type}\t${m.mode}\t${JSON.stringify(m.path)}\t${JSON.stringify(m.link ?? '')}\t${m.node ? await identityOf(m.node) : ''}\n`;
}

/** One entry of a tree: a regular file (exec: its owner-execute bit) or a symlink. */
export interface TreeEntry {
  readonly path: string;
  readonly type: 'file' | 'symlink';
  readonly exec: boolean;
  /** A file's identity; a symlink's: the SHA-256 of `symlink\0TARGET`. */
  readonly identity: string;
}

export const symlinkIdentity = (target: string) => sha256(`symlink\0${target}`);

export function treeIdentity(entries: readonly TreeEntry[]): string {
  const lines = [...entries].sort(byPath).map((e) => `${e.type}\t${e.exec ? 'x' : '-'}\t${JSON.stringify(e.path)}\t${e.identity}\n`);
  return sha256(`${IDENTITY_VERSION} tree\n${lines.join('')}`);
}
