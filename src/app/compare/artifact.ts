/**
 * An artifact as --identity and diff see it: its bytes after normalization (in memory, nothing
 * written; a compressed tar as its plain normalized tar, see NormalizeOptions.comparing), and,
 * for a container whose handler can list it (Handler.list), its members, each expanded the same
 * way, on demand (diff stops where the bytes agree). A compressed stream (gzip) is transparent:
 * its one member is what it decompresses to. Nesting is bounded by --max-depth.
 */
import type { Handler, ListedField, ListedMember } from '../../kit/handler.js';
import { BufferSource } from '../../kit/io.js';
import { LimitError } from '../../kit/handler.js';
import { FormatError } from '../../kit/errors.js';
import { DEFAULT_MAX_DEPTH, fileContext } from '../dispatcher.js';
import { normalizeBytes, type RunOptions } from '../pipeline.js';
import { handlerByName } from '../registry.js';

export interface MemberNode {
  readonly path: string;
  readonly type: ListedMember['type'];
  readonly mode: string;
  readonly link?: string;
  /** A regular file's content, expanded. */
  readonly node?: ArtifactNode;
}

export interface Members {
  readonly kind: string;
  readonly members: readonly MemberNode[];
  /** The container's own significant values (an rpm header's tags). */
  readonly fields: readonly ListedField[];
}

/** The name a compressed stream's content is detected under: `x.txt.gz` -> `x.txt`. */
const streamName = (name: string) => name.replace(/\.(?:gz|dz|xz|bz2|zst)$/i, '') || name;

export class ArtifactNode {
  private listed?: Promise<Members | undefined>;

  constructor(
    /** The normalized bytes. */
    readonly bytes: Buffer,
    private readonly name: string,
    private readonly handler: Handler | undefined,
    private readonly options: RunOptions,
    private readonly depth: number,
  ) {}

  /** A container's members, expanded (undefined for anything else); worked out once. */
  members(): Promise<Members | undefined> {
    this.listed ??= this.list();
    return this.listed;
  }

  private async list(): Promise<Members | undefined> {
    if (!this.handler?.list) return undefined;
    const ctx = fileContext(this.options, this.name, this.bytes.length, { warnings: [], info: [] });
    const listing = await this.handler.list(new BufferSource(this.bytes), ctx);
    const members: MemberNode[] = [];
    for (const m of listing.members) {
      const inner = listing.kind === 'stream' ? streamName(this.name) : m.path;
      const node = m.type === 'file' ? await expandMember(inner, await m.content(), this.options, this.depth + 1) : undefined;
      members.push({ path: m.path, type: m.type, mode: m.mode, link: m.link, node });
    }
    return { kind: listing.kind, members, fields: listing.fields ?? [] };
  }
}

async function expandMember(name: string, bytes: Buffer, options: RunOptions, depth: number): Promise<ArtifactNode> {
  try {
    return await expand(name, bytes, options, depth);
  } catch (e) {
    if (e instanceof FormatError && !(e instanceof LimitError) && !e.message.startsWith(`${name}: `)) throw new FormatError(`${name}: ${e.message}`);
    throw e;
  }
}

/** `bytes`, as the file `name`, normalized. A FormatError names where it happened. */
export async function expand(name: string, bytes: Buffer, options: RunOptions, depth = 0): Promise<ArtifactNode> {
  const limit = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (depth > limit) throw new LimitError(`members nested more than ${limit} deep, at ${name} (--max-depth raises the limit)`);
  const result = await normalizeBytes(bytes, name, { ...options, comparing: true });
  const handler = result.handler !== undefined && result.skipped === undefined ? handlerByName(result.handler) : undefined;
  return new ArtifactNode(result.bytes, name, handler, options, depth);
}
