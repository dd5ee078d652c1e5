/**
 * The members of a tar, plain or compressed, for --identity and diff (Handler.list): path
 * (without a leading `./` or trailing `/`, so packers that write `./usr` and `usr` agree; the
 * root entry `./` itself left out), type,
 * permission bits, link target or device numbers, and content. A compressed tar is decompressed
 * into memory first. Reads only.
 */
import type { HandlerContext, ListedMember, Listing } from '../../src/kit/handler.js';
import { readExactSync, type Source } from '../../src/kit/io.js';
import { FormatError } from '../../src/kit/errors.js';
import { compressionOf, decompressed } from '../../src/kit/compression.js';
import { indexTar } from './index.js';

const TYPES: Record<string, ListedMember['type']> = { '0': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

export const tarPath = (name: string) => name.replace(/^(?:\.\/)+/, '').replace(/\/+$/, '') || '.';

async function plainTar(src: Source): Promise<Source> {
  const kind = compressionOf(src.readSync(0, 8));
  return kind ? decompressed(kind, src) : src;
}

export async function listTar(src: Source, _ctx: HandlerContext): Promise<Listing> {
  const tar = await plainTar(src);
  const index = indexTar(tar);
  if (index.unsupported) throw new FormatError(`tar archive with ${index.unsupported} cannot be listed`);
  // The archive's own root (`./`, which `tar -C dir .` writes and `tar -C dir usr` does not) is
  // not content.
  const members = index.entries.filter((e) => tarPath(e.name) !== '.').map((e): ListedMember => {
    const type = TYPES[e.type] ?? 'file';
    const link = type === 'char' || type === 'block' ? `${e.devmajor},${e.devminor}` : type === 'symlink' ? e.linkname : type === 'hardlink' ? tarPath(e.linkname) : undefined;
    return { path: tarPath(e.name), type, mode: (e.mode & 0o7777).toString(8), link, content: async () => readExactSync(tar, e.dataOffset, e.size, 'tar member') };
  });
  return { kind: 'tar', members };
}
