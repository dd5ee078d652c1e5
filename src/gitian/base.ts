/**
 * Base systems for the builder: a Debian minbase root made with mmdebstrap from Debian's
 * packages, as a tarball that is bit-reproducible under SOURCE_DATE_EPOCH (mmdebstrap clamps
 * every time to it), cached by distro, suite, architecture, packages, mirror and epoch.
 *
 * Cache: `$GITIAN_CACHE` or `./var` (Gitian's own var/ directory), file names
 * `base-<distro>-<suite>-<arch>-<key>.tar` with the sha256 manifest of the installed .debs beside
 * it (`.manifest`, what Gitian's grab-packages.sh records). The base has a user `build`
 * (uid 1000, home /home/build), Gitian's unprivileged build user. A base for `random:
 * deterministic` also holds gcc and libc6-dev, which compile src/gitian/preload/gbuild-random.c
 * into RANDOM_LIBRARY while the base is made (its source stays beside it, in /usr/local/src).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
/** SOURCE_DATE_EPOCH for bases when none is set: bookworm's release day, 2023-06-10 UTC. */
export const DEFAULT_BASE_EPOCH = 1686355200;
export const BUILD_UID = 1000;
/** Where a base made with `random` keeps the preloaded library. */
export const RANDOM_LIBRARY = '/usr/local/lib/gbuild/libgbuild-random.so';
const RANDOM_SOURCE = fileURLToPath(new URL('../../../src/gitian/preload/gbuild-random.c', import.meta.url));

/** mmdebstrap could not make the base (the message holds its last lines). */
export class BaseError extends Error {}

export interface BaseSpec {
  distro: 'debian';
  suite: string;
  arch: string;
  packages: readonly string[];
  mirror?: string;
  epoch?: number;
  /** Build the deterministic-randomness library into the base (RANDOM_LIBRARY). */
  random?: boolean;
}

export interface Base {
  tarball: string;
  manifest: string;
  epoch: number;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.GITIAN_CACHE ?? 'var');
}

export function baseEpoch(spec: BaseSpec, env: NodeJS.ProcessEnv = process.env): number {
  if (spec.epoch !== undefined) return spec.epoch;
  const e = env.SOURCE_DATE_EPOCH;
  return e && /^\d+$/.test(e) ? Number(e) : DEFAULT_BASE_EPOCH;
}

export function basePaths(spec: BaseSpec, env: NodeJS.ProcessEnv = process.env): Base {
  const epoch = baseEpoch(spec, env);
  const packages = basePackages(spec);
  const random = spec.random ? crypto.createHash('sha256').update(fs.readFileSync(RANDOM_SOURCE)).digest('hex') : undefined;
  const key = crypto
    .createHash('sha256')
    .update(JSON.stringify({ packages, mirror: spec.mirror ?? DEFAULT_MIRROR, epoch, ...(random ? { random } : {}) }))
    .digest('hex')
    .slice(0, 16);
  const stem = path.join(cacheDir(env), `base-${spec.distro}-${spec.suite}-${spec.arch}-${key}`);
  return { tarball: `${stem}.tar`, manifest: `${stem}.manifest`, epoch };
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The packages a base holds: the spec's, and the compiler the randomness library needs. */
function basePackages(spec: BaseSpec): string[] {
  return [...new Set([...spec.packages, ...(spec.random ? ['gcc', 'libc6-dev'] : [])])].sort();
}

/** mmdebstrap hooks that compile the randomness library with the base's own gcc. */
function randomHooks(): string[] {
  const dir = path.posix.dirname(RANDOM_LIBRARY);
  return [
    '--customize-hook=mkdir -p "$1/usr/local/src/gbuild"',
    `--customize-hook=copy-in ${quote(RANDOM_SOURCE)} /usr/local/src/gbuild`,
    `--customize-hook=chroot "$1" sh -c ${quote(`mkdir -p ${dir} && gcc -O2 -shared -fPIC -o ${RANDOM_LIBRARY} /usr/local/src/gbuild/gbuild-random.c`)}`,
  ];
}

/** The base for `spec`, made with mmdebstrap unless the cache has it. */
export function ensureBase(spec: BaseSpec, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Base {
  const base = basePaths(spec, env);
  if (fs.existsSync(base.tarball) && fs.existsSync(base.manifest)) {
    log(`Using cached base ${base.tarball}`);
    return base;
  }
  fs.mkdirSync(path.dirname(base.tarball), { recursive: true });
  // mmdebstrap picks the output format from the extension: keep `.tar` last.
  const tmp = base.tarball.replace(/\.tar$/, `.${process.pid}.tmp.tar`);
  const tmpManifest = `${base.manifest}.${process.pid}.tmp`;
  const packages = basePackages(spec);
  log(`Making base ${path.basename(base.tarball)} (${spec.suite} ${spec.arch}${packages.length ? `, with ${packages.join(' ')}` : ''}) with mmdebstrap`);
  const args = [
    '--variant=minbase',
    `--architectures=${spec.arch}`,
    ...(packages.length ? [`--include=${packages.join(',')}`] : []),
    // Keep the essential .debs until the hooks ran, so the manifest covers every package.
    '--skip=essential/unlink',
    `--customize-hook=cd "$1"/var/cache/apt/archives && sha256sum *.deb | LC_ALL=C sort -k2 > ${quote(tmpManifest)}`,
    `--customize-hook=chroot "$1" useradd --create-home --uid ${BUILD_UID} --user-group --shell /bin/bash build`,
    ...(spec.random ? randomHooks() : []),
    spec.suite,
    tmp,
    spec.mirror ?? DEFAULT_MIRROR,
  ];
  const r = spawnSync('mmdebstrap', args, { env: { ...env, SOURCE_DATE_EPOCH: String(base.epoch), LC_ALL: 'C.UTF-8' }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) {
    fs.rmSync(tmp, { force: true, recursive: true });
    fs.rmSync(tmpManifest, { force: true });
    const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').slice(-15).join('\n');
    throw new BaseError(`mmdebstrap failed (${spec.suite} ${spec.arch}):\n${why}${spec.arch !== 'amd64' ? '\n(a foreign architecture needs the arch-test package on this machine)' : ''}`);
  }
  fs.renameSync(tmpManifest, base.manifest);
  fs.renameSync(tmp, base.tarball);
  return base;
}
