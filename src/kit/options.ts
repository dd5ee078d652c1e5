/**
 * NormalizeOptions: everything a handler may consult, built once (from argv and the
 * environment) and never mutated.
 */
import { UsageError } from './errors.js';

export interface NormalizeOptions {
  /** Canonical time T in seconds since the epoch; undefined when neither -T nor
   *  SOURCE_DATE_EPOCH is given. */
  readonly timestamp?: number;
  /** --clamp-timestamp: only replace times later than T (where the format supports it). */
  readonly clamp: boolean;
  /** Names of enabled normalizers. */
  readonly enabled: ReadonlySet<string>;
  readonly verbose: boolean;
  /** --check: the output is only compared, never kept; a handler may stop as soon as it knows
   *  the file would change (tar skips recompressing). */
  readonly check?: boolean;
  /** --identity and diff: the output is compared in memory, never written to a file; a
   *  compressed tar is then given as its normalized plain tar (no recompression). */
  readonly comparing?: boolean;
  /** --compress-threads: threads for recompressing xz and zstd tars (the bytes do not depend on
   *  it); default 1 here, the number of CPUs from the CLI. */
  readonly compressThreads?: number;
  /** Build paths to replace (--build-path, BUILD_PATH_PREFIX_MAP): longest `from` first. */
  readonly buildPaths?: readonly BuildPath[];
  /** Host names to replace (--hostname, STRIP_NONDETERMINISM_HOSTNAMES): longest first. */
  readonly hostnames?: readonly Hostname[];
  /** --pyc-zero-mtime: the source mtime of timestamp-based .pyc files becomes 0. */
  readonly pycZeroMtime?: boolean;
  /** --rpm-strip-signatures: a signed rpm loses its signatures and is normalized (otherwise it
   *  is left as it is, with a warning). */
  readonly rpmStripSignatures?: boolean;
  /** --junit-zero-time: JUnit report `time` attributes become 0. */
  readonly junitZeroTime?: boolean;
  /** tar/.deb member owner and group (default root:0 for both). */
  readonly tarOwner?: Owner;
  readonly tarGroup?: Owner;
  /** Containers nested deeper than this are refused (default 32: src/app/dispatcher.ts). */
  readonly maxDepth?: number;
  /** The most bytes of one archive member a handler may hold in memory (--max-member-size);
   *  a member over it is an error and the file is left unchanged. Default MEMBER_LIMIT. */
  readonly maxMemberBytes?: number;
}

/** Default cap on one member held in memory: 64 MiB (a zip member whose content a handler
 *  reads: a manifest, a nested jar, a page). Members copied as they are have no cap. */
export const MEMBER_LIMIT = 64 << 20;

export function memberLimit(options: NormalizeOptions): number {
  return options.maxMemberBytes ?? MEMBER_LIMIT;
}

/** `N`, `NK`, `NM` or `NG` (powers of 1024) as a number of bytes. */
export function parseSize(text: string, option: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text.trim());
  const n = m ? Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${option}: expected a size such as 1048576, 512K, 64M or 2G, got "${text}"`);
  return n;
}

export interface BuildPath {
  readonly from: string;
  readonly to: string;
}

export interface Hostname {
  readonly name: string;
  readonly replacement: string;
}

/** Where a build path goes when --build-path gives no TO. */
export const CANONICAL_BUILD_PATH = '/build';

/** `--build-path FROM[=TO]` values, then BUILD_PATH_PREFIX_MAP (the reproducible-builds.org
 *  variable: `dst=src` pairs joined by `:`, with `%.` for `:`, `%+` for `=`, `%#` for `%`; a later
 *  pair wins). Returned longest FROM first, so nested build paths map by their closest prefix. */
export function parseBuildPaths(flags: readonly string[], env: NodeJS.ProcessEnv): BuildPath[] {
  const byFrom = new Map<string, string>();
  const decode = (t: string) => t.replace(/%[.+#]/g, (m) => ({ '%.': ':', '%+': '=', '%#': '%' })[m]!);
  const map = env.BUILD_PATH_PREFIX_MAP;
  if (map) {
    for (const pair of map.split(':')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq < 0 || /%(?![.+#])/.test(pair)) throw new UsageError(`BUILD_PATH_PREFIX_MAP: invalid pair "${pair}" (expected dst=src, with %. %+ %# escapes)`);
      const src = decode(pair.slice(eq + 1));
      if (src) byFrom.set(src, decode(pair.slice(0, eq)));
    }
  }
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const from = (eq < 0 ? flag : flag.slice(0, eq)).replace(/(.)\/+$/, '$1');
    const to = eq < 0 ? CANONICAL_BUILD_PATH : flag.slice(eq + 1);
    if (!from.startsWith('/') || from === '/') throw new UsageError(`--build-path: FROM must be an absolute directory other than /, got "${flag}"`);
    if (!to.startsWith('/')) throw new UsageError(`--build-path: TO must be an absolute path, got "${flag}"`);
    byFrom.set(from, to.length > 1 ? to.replace(/\/+$/, '') : to);
  }
  return [...byFrom].map(([from, to]) => ({ from, to })).sort((a, b) => b.from.length - a.from.length);
}

/** What a host name becomes when --hostname gives no replacement: the runner's sandbox host. */
export const CANONICAL_HOSTNAME = 'build';

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** `--hostname NAME[=REPLACEMENT]` values, after STRIP_NONDETERMINISM_HOSTNAMES (the same
 *  `NAME[=REPLACEMENT]` items separated by commas or blanks; a flag wins over the variable).
 *  Returned longest NAME first, so `host.example.org` is matched before `host`. */
export function parseHostnames(flags: readonly string[], env: NodeJS.ProcessEnv): Hostname[] {
  const byName = new Map<string, string>();
  const items = [...(env.STRIP_NONDETERMINISM_HOSTNAMES ?? '').split(/[\s,]+/).filter(Boolean).map((t) => ['STRIP_NONDETERMINISM_HOSTNAMES', t]), ...flags.map((t) => ['--hostname', t])];
  for (const [where, item] of items) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const replacement = eq < 0 ? CANONICAL_HOSTNAME : item.slice(eq + 1);
    if (!HOSTNAME.test(name)) throw new UsageError(`${where}: "${name}" is not a host name`);
    if (!HOSTNAME.test(replacement)) throw new UsageError(`${where}: replacement "${replacement}" is not a host name`);
    byName.set(name, replacement);
  }
  return [...byName].map(([name, replacement]) => ({ name, replacement })).sort((a, b) => b.name.length - a.name.length);
}

export interface Owner {
  readonly name: string;
  readonly id: number;
}

/** `NAME:ID` (as GNU tar's --owner=NAME:ID); `NAME` alone means id 0 for root only. */
export function parseOwner(text: string, option: string): Owner {
  const m = /^([^:]*):(\d+)$/.exec(text) ?? (text === 'root' ? ['', 'root', '0'] : null);
  if (!m || m[1].length > 31 || /[\0\n]/.test(m[1])) throw new UsageError(`${option}: expected NAME:ID (for example root:0), got "${text}"`);
  const id = Number(m[2]);
  if (!Number.isSafeInteger(id)) throw new UsageError(`${option}: id out of range in "${text}"`);
  return { name: m[1], id };
}

const INTEGER = /^[-+]?\d+$/;

export function parseInteger(text: string): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** -T wins; otherwise SOURCE_DATE_EPOCH, if set and not empty. */
export function resolveTimestamp(flag: number | undefined, env: NodeJS.ProcessEnv): number | undefined {
  if (flag !== undefined) return flag;
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde === undefined || sde === '') return undefined;
  const n = parseInteger(sde.trim());
  if (n === undefined) throw new UsageError(`SOURCE_DATE_EPOCH: invalid value "${sde}" (an integer number of seconds is expected)`);
  return n;
}

/**
 * Apply a --normalizers spec (`+a,-b,+all,-all`) to the default set, left to right, as
 * Perl does. `log` receives Perl's verbose "Enabling ..." lines.
 */
export function applyNormalizerSpec(
  known: readonly string[],
  defaults: ReadonlySet<string>,
  spec: string | undefined,
  argv0: string,
  log?: (line: string) => void,
): Set<string> {
  const enabled = new Set(defaults);
  for (const item of (spec ?? '').split(',')) {
    if (item === '') continue;
    const m = /^([+-])(\w+)$/.exec(item);
    if (!m) throw new UsageError(`${argv0}: invalid --normalizer spec: ${item}`);
    const [, sign, name] = m;
    const action = sign === '+' ? 'Enabling' : 'Disabling';
    if (name === 'all') {
      log?.(`${argv0}: ${action} all normalizers`);
      for (const k of known) sign === '+' ? enabled.add(k) : enabled.delete(k);
      continue;
    }
    log?.(`${argv0}: ${action} normalizer ${name}`);
    if (!known.includes(name)) throw new UsageError(`Unknown normalizer: ${name}`);
    if (sign === '+') enabled.add(name);
    else enabled.delete(name);
  }
  return enabled;
}
