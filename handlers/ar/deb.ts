/**
 * Debian binary packages (`*.deb`, `*.udeb`, `*.ddeb`): an ar archive holding `debian-binary`,
 * `control.tar[.*]` and `data.tar[.*]`. Not in the Perl tool; enabled by default.
 *
 * Changes: the ar headers are written as dpkg-deb writes them (name without a trailing slash,
 * mtime T, or 0 when T is unset, uid and gid 0, mode 100644, `\n` padding); control and data
 * tars go through the tar normalizer with their nested members. When a member of data.tar
 * changes (a .gz, say), its line in control.tar's `md5sums` gets the new digest, so the package
 * still verifies (`dpkg --verify`, debsums).
 * Keeps: member order (dpkg requires it) and the members' compression formats.
 * Left unchanged, with a warning: signed packages (`_gpg*` members), as the signature would break,
 * and packages with legacy `.lzma` members.
 */
import { extensionMatcher, type Handler, type HandlerContext, type MemberHooks } from '../../src/kit/handler.js';
import { RangeSource, type Sink, type Source } from '../../src/kit/io.js';
import { OutputPlan } from '../../src/kit/output-plan.js';
import { FormatError } from '../../src/kit/errors.js';
import { ScratchFile } from '../../src/kit/scratch-file.js';
import { AR_HEADER, AR_MAGIC, dpkgHeader, readArMembers, type ArMember } from './archive.js';
import { listAr } from './listing.js';

/** Replace the digests of changed files in an md5sums file; undefined if none applies. */
export function updateMd5sums(text: Buffer, digests: ReadonlyMap<string, string>): Buffer | undefined {
  let modified = false;
  const lines = text.toString('latin1').split('\n').map((line) => {
    const m = /^([0-9a-f]{32})( [ *])(.*)$/.exec(line);
    const digest = m && digests.get(m[3]);
    if (!m || !digest || digest === m[1]) return line;
    modified = true;
    return `${digest}${m[2]}${m[3]}`;
  });
  return modified ? Buffer.from(lines.join('\n'), 'latin1') : undefined;
}

const stripDot = (name: string) => name.replace(/^\.\//, '');

export const deb: Handler = {
  name: 'deb',
  defaultEnabled: true,
  beyondPerl: true,
  files: '*.deb, *.udeb, *.ddeb',
  matchName: extensionMatcher(['deb', 'udeb', 'ddeb']),
  detect: (head) => head.toString('latin1', 0, 8) === AR_MAGIC && head.toString('latin1', 8, 21) === 'debian-binary',

  async normalize(src: Source, sink: Sink, ctx: HandlerContext): Promise<boolean> {
    if (src.readSync(0, 8).toString('latin1') !== AR_MAGIC) throw new FormatError('not an ar archive');
    const members = readArMembers(src, 'dpkg');
    const names = members.map((m) => m.name);
    if (names[0] !== 'debian-binary' || !/^control\.tar/.test(names[1] ?? '') || !names.some((n) => /^data\.tar/.test(n))) {
      throw new FormatError(`not a Debian package: members are ${names.join(', ')}`);
    }
    const lzma = names.find((n) => n.endsWith('.lzma'));
    if (lzma) {
      ctx.keep(`${ctx.name}: member ${lzma} uses the legacy lzma format, which this tool does not recompress; left unchanged`);
      return false;
    }
    const signature = names.find((n) => n.startsWith('_gpg'));
    if (signature) {
      ctx.keep(`${ctx.name}: signed package (member ${signature}); left unchanged, as normalizing would break the signature`);
      return false;
    }

    const scratch = ScratchFile.forRun(ctx.options);
    try {
      // data.tar first: its changed files' digests go into control.tar's md5sums.
      const digests = new Map<string, string>();
      const outputs = new Map<ArMember, { offset: number; size: number }>();
      const order = [...members.filter((m) => m.name.startsWith('data.tar')), ...members.filter((m) => m.name.startsWith('control.tar'))];
      for (const m of order) {
        const start = scratch.size;
        const isControl = m.name.startsWith('control.tar');
        const hooks: MemberHooks = isControl
          ? { content: (n, original) => (stripDot(n) === 'md5sums' && digests.size ? updateMd5sums(original(), digests) : undefined) }
          : { changed: (n, md5) => void digests.set(stripDot(n), md5) };
        const body = new RangeSource(src, m.pos + AR_HEADER, m.size);
        const { changed } = await ctx.member(m.name, body, scratch, { as: 'tar', errors: 'throw', hooks });
        if (changed) outputs.set(m, { offset: start, size: scratch.size - start });
        else if (scratch.size !== start) scratch.truncate(start);
      }

      const T = ctx.options.timestamp;
      const plan = new OutputPlan(src);
      plan.put(Buffer.from(AR_MAGIC, 'latin1'));
      const bodies = scratch.source();
      for (const m of members) {
        const out = outputs.get(m);
        const size = out ? out.size : m.size;
        const mtime = T === undefined ? 0 : ctx.options.clamp ? Math.min(m.mtime, T) : T;
        plan.put(dpkgHeader(m.name, mtime, size));
        if (out) plan.include(bodies, out.offset, out.size);
        else plan.copy(m.pos + AR_HEADER, m.size);
        if (size % 2) plan.put(Buffer.from('\n'));
      }
      return await plan.commit(sink);
    } finally {
      scratch.close();
    }
  },
  list: (src) => listAr(src),
};
