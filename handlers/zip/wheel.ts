/**
 * Python wheels (`*.whl`, PEP 427 / 376): a member whose content this run changed (an ELF
 * extension with its build path scrubbed, say) gets its `*.dist-info/RECORD` line updated, hash
 * and size, so the wheel still installs and verifies. Changes: only those lines' hash and size
 * fields. Keeps: every other line byte for byte, the line endings, the hash algorithm each line
 * names, RECORD's own line (no hash). A member RECORD does not list is left out of it, as before.
 */
import { crypto } from '../../src/kit/builtins.js';
import type { HandlerContext } from '../../src/kit/handler.js';
import type { MemberIO, ZipMember } from './members.js';

const RECORD = /^[^/]+\.dist-info\/RECORD$/;

/** One CSV line of RECORD split into path and the rest (a path with a comma or quote is quoted,
 *  as python's csv module writes it). */
function splitLine(line: string): { path: string; rest: string } | undefined {
  if (!line.startsWith('"')) {
    const comma = line.indexOf(',');
    return comma < 0 ? undefined : { path: line.slice(0, comma), rest: line.slice(comma + 1) };
  }
  let path = '';
  for (let i = 1; i < line.length; i++) {
    if (line[i] !== '"') path += line[i];
    else if (line[i + 1] === '"') path += line[++i];
    else return line[i + 1] === ',' ? { path, rest: line.slice(i + 2) } : undefined;
  }
  return undefined;
}

/** `rest` (`ALGO=DIGEST,SIZE`) for `content`, in the algorithm the line used; undefined when the
 *  line names none (RECORD's own line) or one node does not have. */
function newFields(rest: string, content: Buffer): string | undefined {
  const [hash] = rest.split(',');
  const algo = hash.split('=')[0];
  if (!hash.includes('=') || !crypto().getHashes().includes(algo)) return undefined;
  const digest = crypto().createHash(algo).update(content).digest('base64url');
  return `${algo}=${digest},${content.length}`;
}

/** Bring RECORD in step with the members whose content was replaced. */
export async function updateWheelRecord(members: Iterable<ZipMember>, io: MemberIO, ctx: HandlerContext): Promise<void> {
  let record: ZipMember | undefined;
  const changed = new Map<string, Buffer>();
  for (const m of members) {
    if (!record && RECORD.test(m.name)) record = m;
    else if (m.content !== undefined) changed.set(m.name, m.content);
  }
  if (!record || changed.size === 0) return;
  const text = (await io.contents(record)).toString('utf8');
  let updated = 0;
  const lines = text.split(/(?<=\n)/).map((raw) => {
    const body = raw.replace(/\r?\n$/, '');
    const fields = splitLine(body);
    const content = fields && changed.get(fields.path);
    const rest = content && newFields(fields.rest, content);
    if (!rest) return raw;
    updated++;
    return raw.slice(0, body.length - fields.rest.length) + rest + raw.slice(body.length);
  });
  if (updated === 0) return;
  await io.replace(record, Buffer.from(lines.join(''), 'utf8'));
  ctx.info(`${ctx.name}: ${record.name}: ${updated} line(s) updated for changed members`);
}
