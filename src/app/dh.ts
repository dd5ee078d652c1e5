/**
 * `dh_strip_nondeterminism`: a drop-in for the Perl debhelper command.
 *
 * Acts on the binary packages debhelper would act on (debian/control, -p/-N/-a/-i, DH_OPTIONS),
 * walking each `debian/<package>` (or -P DIR), skipping symlinks, hard-linked duplicates, paths
 * containing a -X string (and DH_ALWAYS_EXCLUDE), and unwritable files (with a warning).
 * The canonical time is that of the newest changelog entry that is not a binNMU (as debhelper
 * 13.x computes it, so a binNMU normalizes to the same bytes), else SOURCE_DATE_EPOCH.
 * DH_VERBOSE / -v print what is done; DEB_BUILD_OPTIONS parallel=N sets the worker threads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { perlDefaultEnabled } from './registry.js';
import type { FileReport, RunOptions } from './pipeline.js';
import { removeTemporaryFilesOnSignals } from './writer.js';
import { runFiles } from './pool.js';
import { parseInteger } from '../kit/options.js';
import { treeTargets, type Target } from './walk.js';
import { exitOnStall, type Output } from './cli.js';

const TOOL = 'dh_strip_nondeterminism';

class DhError extends Error {}

interface DhOptions {
  verbose: boolean;
  noAct: boolean;
  packages: string[];
  explicit: boolean;
  indep: boolean;
  arch: boolean;
  excluded: Set<string>;
  excludes: string[];
  tmpdir?: string;
  help?: boolean;
}

/** debhelper's usage text for its commands (Dh_Lib's showhelp). */
const DH_USAGE = `Usage: ${'dh_strip_nondeterminism'} [options]

  dh_strip_nondeterminism is a part of debhelper. See debhelper(7)
  and dh_strip_nondeterminism(1) for complete usage instructions.`;

/** debhelper's option syntax: bundled single letters with attached or separate values, and
 *  --long[=value]. Unknown options are an error, as in compat levels above 7. */
function parseDhArgs(args: string[], o: DhOptions, control: () => ControlInfo, source: string): void {
  const withValue = new Map([['p', 'package'], ['N', 'no-package'], ['X', 'exclude'], ['P', 'tmpdir'], ['u', 'u'], ['dbg-package', 'dbg-package']]);
  const apply = (name: string, value?: string) => {
    switch (name) {
      case 'v': case 'verbose': o.verbose = true; break;
      case 'h': case 'help': o.help = true; break;
      case 'no-act': o.noAct = true; break;
      case 'i': case 'indep': o.indep = true; o.packages.push(...control().indep); break;
      case 'a': case 'arch': case 's': case 'same-arch': o.arch = true; o.packages.push(...control().arch); break;
      case 'p': case 'package':
        if (!control().all.includes(value!)) throw new DhError(`Requested unknown package ${value} via -p/--package, expected one of: ${control().all.join(' ')}`);
        o.explicit = true;
        if (control().both.includes(value!)) o.packages.push(value!);
        break;
      case 'N': case 'no-package':
        if (!control().all.includes(value!)) throw new DhError(`Requested unknown package ${value} via -N/--no-package, expected one of: ${control().all.join(' ')}`);
        o.excluded.add(value!);
        break;
      case 'X': case 'exclude': o.excludes.push(value!); break;
      case 'P': case 'tmpdir': o.tmpdir = value; break;
      case 'remaining-packages': case 'n': case 'noscripts': case 'no-scripts': case 'o': case 'onlyscripts': case 'only-scripts': case 'd': case 'u': case 'dbg-package': break;
      default:
        if (name.startsWith('O')) break; // -O passes options through dh; unknown ones are ignored there
        throw new DhError(`unknown option or error during option parsing; aborting (${source}: ${name})`);
    }
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') break;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (['package', 'no-package', 'exclude', 'tmpdir', 'dbg-package'].includes(name)) apply(name, eq >= 0 ? a.slice(eq + 1) : args[++i]);
      else apply(name);
    } else if (a.startsWith('-O')) {
      continue;
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const letter = a[j];
        if (withValue.has(letter)) {
          const rest = a.slice(j + 1);
          apply(letter, rest !== '' ? rest : args[++i]);
          break;
        }
        apply(letter);
      }
    }
  }
}

interface ControlInfo {
  all: string[];
  both: string[];
  arch: string[];
  indep: string[];
}

let hostArchCache: string | undefined;
function hostArch(): string {
  hostArchCache ??= process.env.DEB_HOST_ARCH || spawnSync('dpkg-architecture', ['-qDEB_HOST_ARCH'], { encoding: 'utf8' }).stdout.trim() || spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout.trim();
  return hostArchCache;
}

/** Dpkg::Arch::debarch_is for each of a package's architectures (wildcards included). */
function archMatches(declared: string): boolean {
  const host = hostArch();
  return declared.split(/\s+/).some((a) => a === host || a === 'any' || (a.includes('any') && spawnSync('dpkg-architecture', ['-a', host, '-i', a], { stdio: 'ignore' }).status === 0));
}

/** Build-Profiles restriction formula: `<a !b> <c>` is (a and not b) or c. */
function profilesAllow(field: string, profiles: string[]): boolean {
  const groups = [...field.matchAll(/<([^>]*)>/g)].map((m) => m[1].trim().split(/\s+/).filter(Boolean));
  if (groups.length === 0) return true;
  return groups.some((g) => g.every((t) => (t.startsWith('!') ? !profiles.includes(t.slice(1)) : profiles.includes(t))));
}

/** Binary packages of debian/control, classified as debhelper's getpackages() does. */
export function parseControl(text: string, profiles: string[]): ControlInfo {
  const stanzas: Record<string, string>[] = [];
  let cur: Record<string, string> = {};
  let last = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (/^\s*#/.test(raw)) continue;
    if (line === '') {
      if (Object.keys(cur).length) stanzas.push(cur);
      cur = {};
      continue;
    }
    if (/^\s/.test(line)) {
      if (last) cur[last] += ' ' + line.trim();
      continue;
    }
    const m = /^([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) throw new DhError(`Parse error in debian/control, read: ${line}`);
    last = m[1].toLowerCase();
    cur[last] = m[2];
  }
  if (Object.keys(cur).length) stanzas.push(cur);
  if (!stanzas[0]?.source) throw new DhError('could not find Source: line in control file.');
  const info: ControlInfo = { all: [], both: [], arch: [], indep: [] };
  for (const s of stanzas.slice(1)) {
    const pkg = (s.package ?? '').trim();
    if (!pkg) throw new DhError('Binary paragraph is missing mandatory "Package"-field');
    info.all.push(pkg);
    if (s['build-profiles'] !== undefined && !profilesAllow(s['build-profiles'], profiles)) continue;
    const arch = (s.architecture ?? '').trim();
    if (arch === 'all') {
      info.indep.push(pkg);
      info.both.push(pkg);
    } else if (arch === 'any' || archMatches(arch)) {
      info.arch.push(pkg);
      info.both.push(pkg);
    }
  }
  return info;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Time of the newest debian/changelog entry that is not a binNMU (binary-only=yes). */
export function nonBinnmuEpoch(changelog: string): number {
  const entries: { binaryOnly: boolean; date?: string }[] = [];
  for (const line of changelog.split('\n')) {
    const head = /^\w[-+0-9a-z.]* \([^() \t]+\)(?:\s+[-+0-9a-z.]+)+;(.*)$/i.exec(line);
    if (head) {
      const binaryOnly = head[1].split(',').some((kv) => {
        const [k, v] = kv.split('=').map((x) => x.trim().toLowerCase());
        return k === 'binary-only' && v === 'yes';
      });
      entries.push({ binaryOnly });
      if (entries.length > 2) break;
      continue;
    }
    const trailer = /^ -- .* <.*>  ?(.*?)\s*$/.exec(line);
    if (trailer && entries.length && entries[entries.length - 1].date === undefined) entries[entries.length - 1].date = trailer[1];
  }
  if (!entries.length || entries[0].date === undefined) throw new DhError('unable to parse debian/changelog');
  const entry = entries[0].binaryOnly ? entries[1] : entries[0];
  if (!entry || entry.binaryOnly || entry.date === undefined) throw new DhError('internal error: Could not locate the first non-binnmu entry in the change (assumed it would be the second entry)');
  const d = /^(?:\w+,\s*)?(\d{1,2})\s+(\w{3})\s+(\d{4})\s+(\d{1,2}):(\d\d):(\d\d)\s+([-+])(\d\d)(\d\d)/.exec(entry.date.replace(/\s*\([^)]+\)\s*$/, ''));
  if (!d) throw new DhError(`unable to parse the changelog date "${entry.date}"`);
  const month = MONTHS.indexOf(d[2]);
  if (month < 0) throw new DhError(`unable to parse the changelog date "${entry.date}"`);
  const offset = (d[7] === '-' ? -1 : 1) * (Number(d[8]) * 3600 + Number(d[9]) * 60);
  return Date.UTC(Number(d[3]), month, Number(d[1]), Number(d[4]), Number(d[5]), Number(d[6])) / 1000 - offset;
}

/** Files debhelper's File::Find walk would hand to the normalizers, in a stable order: no
 *  symlinks, no path containing a -X string, one name per hard-linked inode (the others get the
 *  new bytes with it). (Excluding a directory whose path holds the string is the same as
 *  excluding each file below it.) Unreadable directories come back as problems. */
function packageFiles(dir: string, excludes: string[]): { files: Target[]; problems: Target[] } {
  const targets = treeTargets(dir, (full) => excludes.some((x) => full.includes(x)));
  return { files: targets.filter((t) => !t.problem && t.linkOf === undefined), problems: targets.filter((t) => t.problem) };
}

export async function dhMain(argv: string[], env: NodeJS.ProcessEnv, io: Output): Promise<number> {
  try {
    const o: DhOptions = { verbose: !!env.DH_VERBOSE, noAct: !!env.DH_NO_ACT, packages: [], explicit: false, indep: false, arch: false, excluded: new Set(), excludes: [] };
    let control: ControlInfo | undefined;
    const getControl = () => {
      if (!control) {
        let text: string;
        try {
          text = fs.readFileSync('debian/control', 'utf8');
        } catch {
          throw new DhError('"debian/control" not found. Are you sure you are in the correct directory?');
        }
        control = parseControl(text, (env.DEB_BUILD_PROFILES ?? '').split(/\s+/).filter(Boolean));
      }
      return control;
    };
    if (env.DH_OPTIONS) parseDhArgs(env.DH_OPTIONS.trim().split(/\s+/), o, getControl, 'DH_OPTIONS');
    parseDhArgs(argv, o, getControl, 'command line');
    if (env.DH_ALWAYS_EXCLUDE) o.excludes.push(...env.DH_ALWAYS_EXCLUDE.split(':').filter(Boolean));
    if (o.help) {
      io.out(DH_USAGE);
      return 1; // debhelper's showhelp exits 1
    }
    if (o.packages.length === 0) {
      if (o.indep || o.arch || o.explicit) {
        io.err(`${TOOL}: warning: You asked that all arch in(dep) packages be built, but there are none of that type.`);
        return 0;
      }
      o.packages.push(...getControl().both);
    }
    const packages = [...new Set(o.packages)].filter((p) => !o.excluded.has(p));
    const parallel = parseInteger(/(?:^|\s)parallel=(\d+)/.exec(env.DEB_BUILD_OPTIONS ?? '')?.[1] ?? '') ?? 1;

    let canonical: number | undefined;
    let canonicalKnown = false;
    const getCanonical = () => {
      if (!canonicalKnown) {
        canonicalKnown = true;
        try {
          canonical = nonBinnmuEpoch(fs.readFileSync('debian/changelog', 'utf8'));
        } catch {
          const sde = env.SOURCE_DATE_EPOCH;
          canonical = sde !== undefined && sde !== '' ? parseInteger(sde.trim()) : undefined;
          if (canonical === undefined) io.err(`${TOOL}: warning: unable to set SOURCE_DATE_EPOCH: no usable debian/changelog`);
        }
      }
      return canonical;
    };

    let failed = false;
    for (const pkg of packages) {
      const dir = o.tmpdir ?? `debian/${pkg}`;
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) continue;
      const candidates: Target[] = [];
      const { files, problems } = packageFiles(dir, o.excludes);
      for (const p of problems) io.err(`${TOOL}: warning: ${p.message}`);
      for (const f of files) {
        try {
          fs.accessSync(f.fsPath, fs.constants.W_OK);
        } catch {
          io.err(`${TOOL}: warning: Ignoring unwritable file: ${path.basename(f.path)}`);
          continue;
        }
        candidates.push(f);
      }
      if (candidates.length === 0) continue;
      const timestamp = getCanonical();
      if (o.verbose) io.out(`\tUsing ${timestamp} as canonical time`);
      if (o.noAct) continue;
      const options: RunOptions = { timestamp, clamp: false, enabled: perlDefaultEnabled(), verbose: o.verbose };
      const reports: FileReport[] = await runFiles(candidates, options, parallel);
      for (const r of reports) {
        if (!r.handler || r.skipped) continue;
        if (o.verbose) io.out(`\tNormalizing ${r.path} using File::StripNondeterminism::handlers::${r.handler}`);
        for (const w of r.warnings) io.err(w);
        if (r.error !== undefined) {
          io.err(`${TOOL}: error: ${r.path}: ${r.error}`);
          failed = true;
        }
      }
    }
    if (failed) {
      io.err(`${TOOL}: error: Aborting due to earlier error`);
      return 255;
    }
    return 0;
  } catch (e) {
    if (e instanceof DhError) {
      io.err(`${TOOL}: error: ${e.message}`);
      return 255;
    }
    throw e;
  }
}

export async function run(): Promise<void> {
  removeTemporaryFilesOnSignals();
  exitOnStall();
  process.exitCode = await dhMain(process.argv.slice(2), process.env, {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
  });
}
