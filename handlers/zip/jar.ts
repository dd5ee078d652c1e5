/**
 * Java archives (`*.jar`, `*.war`, `*.hpi`, `*.apk`, `*.sym`): the zip core with the jar flavor.
 *
 * Changes, beyond the zip core: `META-INF/` then `META-INF/MANIFEST.MF` come first; members
 * `javac.sh` and `org.codehaus.plexus.compiler.javac.JavacCompiler<digits>arguments` are
 * dropped; `Bnd-LastModified:` and `Built-By:` lines (and their continuation lines) leave
 * MANIFEST.MF; javadoc pages go through the javadoc normalizer; nested `.jar` members are
 * normalized recursively; `.clj` members get T-1 (so Clojure keeps preferring compiled
 * classes). Signed jars (`META-INF/*.SF`) are left alone with a warning.
 * `.apk` files are detected by their bytes (fix: file(1) calls modern APKs "Android package",
 * which Perl's check no longer matches); APKs with a v2+ signing block are left alone.
 */
import { extensionMatcher, type Handler, type HandlerContext } from '../../src/kit/handler.js';
import { BufferSink, BufferSource, type Sink, type Source } from '../../src/kit/io.js';
import { zipKind } from './records.js';
import { normalizeZipFile, type MemberIO, type ZipFlavor, type ZipMember } from './zip.js';
import { JAVADOC_MARKER, transformJavadoc } from '../documents/javadoc-page.js';
import { listZip } from './listing.js';

const JAR_FIRST = ['META-INF/', 'META-INF/MANIFEST.MF'];
const DROPPED_MEMBER = /^org\.codehaus\.plexus\.compiler\.javac\.JavacCompiler\d+arguments$/;
const DROPPED_MANIFEST_LINE = /^(Bnd-LastModified|Built-By):/;

/** _jar_filename_cmp: the two META-INF names first, then Perl's cmp (policy.ts sorts by it). */
const jarRank = (name: string) => (name === JAR_FIRST[0] ? 0 : name === JAR_FIRST[1] ? 1 : 2);

/** Drop the nondeterministic manifest headers with their continuation lines (lines starting
 *  with a space continue the previous header). Returns undefined when nothing was dropped. */
export function normalizeManifest(text: Buffer): Buffer | undefined {
  const lines = text.toString('latin1').split(/(?<=\n)/);
  const kept: string[] = [];
  let dropping = false;
  let modified = false;
  for (const line of lines) {
    if (dropping && line.startsWith(' ')) continue;
    dropping = DROPPED_MANIFEST_LINE.test(line);
    if (dropping) {
      modified = true;
      continue;
    }
    kept.push(line);
  }
  return modified ? Buffer.from(kept.join(''), 'latin1') : undefined;
}

/** Is a nested member a jar that detection would hand to the jar normalizer? */
function nestedIsJar(content: Buffer): boolean {
  return ['zip', 'jar'].includes(zipKind(content.subarray(0, 4096)));
}

export const jarFlavor: ZipFlavor = {
  archiveFilter(members, ctx: HandlerContext) {
    if (members.some((m) => /^META-INF\/.*\.SF$/s.test(m.name))) return `strip-nondeterminism: ${ctx.name}: ignoring signed JAR file`;
    return undefined;
  },
  rank: jarRank,
  keep: (name) => name !== 'javac.sh' && !DROPPED_MEMBER.test(name),
  member(m, time, io, ctx) {
    if (m.kind === 'dir') return time;
    const name = m.name;
    if (perlEndsWith(name, '.html')) return javadocMember(m, time, io, ctx);
    if (name === 'META-INF/MANIFEST.MF') return manifestMember(m, time, io);
    if (perlEndsWith(name, '.clj')) return time - 1;
    if (perlEndsWith(name, '.jar')) return nestedJarMember(m, time, io, ctx);
    return time;
  },
};

/** Perl's /\.ext$/: the end of the string, or just before a final newline. */
const perlEndsWith = (name: string, ext: string) =>
  name.endsWith(ext) || (name.charCodeAt(name.length - 1) === 10 && name.slice(0, -1).endsWith(ext));

async function javadocMember(m: ZipMember, time: number, io: MemberIO, ctx: HandlerContext): Promise<number> {
  const content = await io.contents(m);
  if (content.subarray(0, 1024).toString('latin1').includes(JAVADOC_MARKER)) {
    const r = await transformJavadoc(new BufferSource(content), ctx.options.timestamp);
    if (r.modified) await io.replace(m, Buffer.concat([r.head, content.subarray(r.consumed)]));
  }
  return time;
}

async function manifestMember(m: ZipMember, time: number, io: MemberIO): Promise<number> {
  const out = normalizeManifest(await io.contents(m));
  if (out) await io.replace(m, out);
  return time;
}

/** A nested jar, normalized as a jar through the dispatcher (which bounds the nesting). */
async function nestedJarMember(m: ZipMember, time: number, io: MemberIO, ctx: HandlerContext): Promise<number> {
  const content = await io.contents(m);
  if (!nestedIsJar(content)) {
    ctx.warn(`strip-nondeterminism: unknown file type of ${m.name}`);
    return time;
  }
  // Perl rewrites the nested jar whenever it normalized it, even to the same bytes (it is then
  // recompressed); one it left alone (signed, encrypted) keeps its data.
  const sink = new BufferSink();
  const result = await ctx.member(m.name, new BufferSource(content), sink, { as: 'jar', errors: 'throw' });
  if (!result.kept) await io.replace(m, result.changed ? sink.toBuffer() : content);
  return time;
}

export const jar: Handler = {
  name: 'jar',
  defaultEnabled: true,
  files: '*.jar, *.war, *.hpi, *.apk, *.sym',
  matchName: extensionMatcher(['jar', 'war', 'hpi', 'apk', 'sym']),
  // file(1) must say "Java archive data" or "Zip archive data"; .apk by its bytes (fix).
  detect: (head, _size, path) => {
    const kind = zipKind(head);
    return kind === 'zip' || kind === 'jar' || (/\.apk$/.test(path) && kind !== 'not-zip');
  },
  normalize: (src: Source, sink: Sink, ctx: HandlerContext) => normalizeZipFile(src, src, Buffer.alloc(0), sink, ctx, jarFlavor),
  list: listZip,
};
