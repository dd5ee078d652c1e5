/**
 * What the build's processes see beyond the base and the script's environment, resolved for one
 * build from the descriptor and the variant: predictable randomness (`random: deterministic`),
 * one CPU (`single_cpu`), address-space randomization (`aslr`), and --vary's reprotest-style
 * variations (kernel release, readdir order, home, an extra variable). Both backends apply the
 * result: the sandbox with bubblewrap binds and a command prefix, the VM in its guest runner.
 * docs/gitian.md describes each field and what escapes.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Descriptor } from './descriptor.js';

/** Bytes of the stream the build's /dev/random and /dev/urandom hold: reading past them is EOF. */
export const RANDOM_STREAM_BYTES = 8 << 20;

/** The variable reprotest's environment variation sets; --vary sets it too. */
export const VARIED_VARIABLE = { CAPTURE_ENVIRONMENT: 'i_capture_the_environment' } as const;

/** One build's adjustments. */
export interface Adjustments {
  /** taskset CPU list (one CPU: `0`), all CPUs when unset. */
  readonly cpus?: string;
  /** Address-space randomization on (the kernel's default) or off (setarch -R). */
  readonly aslr: boolean;
  /** `uname -r` reports a 2.6 kernel (setarch --uname-2.6). */
  readonly uname26: boolean;
  /** The seed (64 hex digits) of the deterministic stream, when `random: deterministic`. */
  readonly randomSeed?: string;
  /** The build directory is read in reversed readdir order (disorderfs; another ext4 directory
   *  hash seed in the VM). */
  readonly reverseReaddir: boolean;
  readonly home: string;
  readonly extraEnv: Readonly<Record<string, string>>;
}

/** The variant's side of it (gbuild.ts NORMAL and VARIED). */
export interface VariantAdjustments {
  readonly home: string;
  /** One CPU whatever the descriptor says. */
  readonly oneCpu?: boolean;
  /** Turn ASLR the other way than the descriptor's default, unless the descriptor pins it. */
  readonly flipAslr?: boolean;
  readonly uname26?: boolean;
  readonly reverseReaddir?: boolean;
  readonly extraEnv?: Readonly<Record<string, string>>;
}

/** The seed: the descriptor's `random_seed` (hashed), else its name and the remotes' commits. */
export function randomSeed(desc: Descriptor, commits: readonly string[]): string {
  const material = desc.random_seed ?? ['gbuild-random', desc.name, ...commits].join('\0');
  return crypto.createHash('sha256').update(material).digest('hex');
}

export function adjustments(desc: Descriptor, v: VariantAdjustments, commits: readonly string[]): Adjustments {
  const aslr = desc.aslr ?? !v.flipAslr;
  return {
    cpus: desc.single_cpu || v.oneCpu ? '0' : undefined,
    aslr,
    uname26: v.uname26 === true,
    randomSeed: desc.random === 'deterministic' ? randomSeed(desc, commits) : undefined,
    reverseReaddir: v.reverseReaddir === true,
    home: v.home,
    extraEnv: v.extraEnv ?? {},
  };
}

/** The stream's first `bytes`: block i is SHA-256(seed || i), as the preloaded library makes it. */
export function writeRandomStream(file: string, seedHex: string, bytes = RANDOM_STREAM_BYTES): void {
  const seed = Buffer.from(seedHex, 'hex');
  const fd = fs.openSync(file, 'w', 0o644);
  try {
    const counter = Buffer.alloc(8);
    const chunk = Buffer.alloc(1 << 20);
    for (let written = 0, i = 0; written < bytes; written += chunk.length) {
      for (let at = 0; at < chunk.length; at += 32, i++) {
        counter.writeBigUInt64BE(BigInt(i));
        crypto.createHash('sha256').update(seed).update(counter).digest().copy(chunk, at);
      }
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** setarch in front of the build's command, when ASLR is off or the kernel release varies. */
export function setarchPrefix(a: Adjustments): string[] {
  if (a.aslr && !a.uname26) return [];
  return ['/usr/bin/setarch', os.machine(), ...(a.aslr ? [] : ['--addr-no-randomize']), ...(a.uname26 ? ['--uname-2.6'] : [])];
}

/** The --vary report's list of what the varied build changed, one line each. */
export function variationLines(normal: Adjustments, varied: Adjustments, backend: 'sandbox' | 'vm'): string[] {
  const cpus = (a: Adjustments) => (a.cpus ? '1' : 'all');
  const lines = [
    `CPUs: ${cpus(normal)} -> ${cpus(varied)}${normal.cpus ? ' (the descriptor pins one)' : ''}`,
    normal.aslr === varied.aslr ? `ASLR: ${normal.aslr ? 'on' : 'off'} in both (the descriptor pins it)` : `ASLR: ${normal.aslr ? 'on' : 'off'} -> ${varied.aslr ? 'on' : 'off'} (setarch)`,
    `kernel release (uname -r): the host's -> ${varied.uname26 ? '2.6.x (setarch --uname-2.6)' : "the host's"}`,
    `file order: ${varied.reverseReaddir ? (backend === 'vm' ? 'another ext4 directory hash seed (readdir order differs)' : 'readdir reversed over the build directory (disorderfs)') : 'unchanged'}`,
    `home: ${normal.home} -> ${varied.home}`,
    ...Object.entries(varied.extraEnv).map(([k, v]) => `environment: + ${k}=${v}`),
    normal.randomSeed ? 'randomness: the same deterministic stream in both (the descriptor pins it)' : 'randomness: the system\'s in both',
  ];
  return lines;
}
