/**
 * The members of an ar archive (static libraries, .deb) for --identity and diff (Handler.list):
 * every member but the symbol and long-name tables, by name (GNU long names resolved), as files.
 * No mode matters: ar and dpkg-deb headers are normalized away. Reads only.
 */
import type { ListedMember, Listing } from '../../src/kit/handler.js';
import { readExactSync, type Source } from '../../src/kit/io.js';
import { AR_HEADER, isSpecialMember, memberNames, readArMembers } from './archive.js';

export async function listAr(src: Source): Promise<Listing> {
  const all = readArMembers(src, 'perl');
  const nameOf = memberNames(src, all);
  const members = all
    .filter((m) => !isSpecialMember(m.id))
    .map((m): ListedMember => ({ path: nameOf(m), type: 'file', mode: '', content: async () => readExactSync(src, m.pos + AR_HEADER, m.size, 'ar member') }));
  return { kind: 'ar', members };
}
