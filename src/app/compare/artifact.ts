/**
 * An artifact as --identity and diff see it: its bytes after normalization (in memory, nothing
 * written), and, for a container whose handler can list it (Handler.list), its members, each
 * expanded the same way, recursively. A compressed stream (gzip) is transparent: its one member
 * is what it decompresses to. Nesting is bounded by --max-depth, as for normalizing.
 */
import type { ListedMember } from '../../kit/handler.js';
import { BufferSource } from '../../kit/io.js';
import { LimitError } from '../../kit/handler.js';
import { FormatError } from '../../kit/errors.js';
import { DEFAULT_MAX_DEPTH, fileContext } from '../dispatcher.js';
import { normalizeBytes, type RunOptions } from '../pipeline.js';
import { handlerByName } from '../registry.js';

export interface ArtifactNode {
  /** The normalized bytes. */
  readonly bytes: Buffer;
  /** Set for a container: its kind and members. */
  readonly listing?: { readonly kind: string; readonly members: readonly MemberNode[] };
}

export interface MemberNode {
  readonly path: string;
  readonly type: ListedMember['type'];
  readonly mode: string;
  readonly link?: string;
  /** A regular file's content, expanded. */
  readonly node?: ArtifactNode;
}

/** The name a compressed stream's content is detected under: `x.txt.gz` -> `x.txt`. */
const streamName = (name: string) => name.replace(/\.(?:gz|dz|xz|bz2|zst)$/i, '') || name;

/** `bytes`, as the file `name`, normalized and expanded. A FormatError names where it happened. */
export async function expand(name: string, bytes: Buffer, options: RunOptions, depth = 0): Promise<ArtifactNode> {
  const limit = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (depth > limit) throw new LimitError(`members nested more than ${limit} deep, at ${name} (--max-depth raises the limit)`);
  const result = await normalizeBytes(bytes, name, options);
  const handler = result.handler !== undefined && result.skipped === undefined ? handlerByName(result.handler) : undefined;
  if (!handler?.list) return { bytes: result.bytes };
  const ctx = fileContext(options, name, result.bytes.length, { warnings: [], info: [] });
  const listing = await handler.list(new BufferSource(result.bytes), ctx);
  const members: MemberNode[] = [];
  for (const m of listing.members) {
    const inner = listing.kind === 'stream' ? streamName(name) : m.path;
    let node: ArtifactNode | undefined;
    if (m.type === 'file') {
      try {
        node = await expand(inner, await m.content(), options, depth + 1);
      } catch (e) {
        if (e instanceof FormatError && !(e instanceof LimitError) && !e.message.startsWith(`${inner}: `)) throw new FormatError(`${inner}: ${e.message}`);
        throw e;
      }
    }
    members.push({ path: m.path, type: m.type, mode: m.mode, link: m.link, node });
  }
  return { bytes: result.bytes, listing: { kind: listing.kind, members } };
}
