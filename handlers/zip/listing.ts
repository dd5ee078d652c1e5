/**
 * The members of a zip-family archive for --identity and diff (Handler.list): path, type
 * (directory, symlink by its Unix mode, else file), the owner's execute bit (what the zip
 * normalizer keeps of a mode), a symlink's target, and the uncompressed content. Reads only.
 */
import type { HandlerContext, ListedMember, Listing } from '../../src/kit/handler.js';
import type { Source } from '../../src/kit/io.js';
import { FA_UNIX, readZip } from './records.js';
import { memberIO, readMemberList } from './members.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

export async function listZip(src: Source, ctx: HandlerContext): Promise<Listing> {
  const zip = readZip(src);
  const io = memberIO(src, zip, ctx);
  const members: ListedMember[] = [];
  for (const m of readMemberList(src, zip)) {
    const mode = m.entry.fileAttributeFormat === FA_UNIX ? m.entry.externalAttrs >>> 16 : 0;
    const content = () => io.contents(m);
    if (m.kind === 'dir') {
      members.push({ path: m.name.replace(/\/+$/, ''), type: 'dir', mode: '', content });
    } else if ((mode & S_IFMT) === S_IFLNK) {
      members.push({ path: m.name, type: 'symlink', mode: '', link: (await content()).toString('utf8'), content });
    } else {
      members.push({ path: m.name, type: 'file', mode: mode & 0o100 ? 'x' : '-', content });
    }
  }
  return { kind: 'zip', members };
}
