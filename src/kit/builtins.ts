/**
 * Node built-ins that only some runs need, loaded on first use: start-up is paid by every
 * `find -exec strip-nondeterminism {} \;` call, and each of these costs a little of it.
 */
import { createRequire } from 'node:module';

const requireBuiltin = createRequire(import.meta.url);

let cryptoModule: typeof import('node:crypto') | undefined;
/** node:crypto (hashes for build-ids and md5sums, random names). */
export function crypto(): typeof import('node:crypto') {
  cryptoModule ??= requireBuiltin('node:crypto') as typeof import('node:crypto');
  return cryptoModule;
}

let childProcessModule: typeof import('node:child_process') | undefined;
/** node:child_process (the compressors tar runs). */
export function childProcess(): typeof import('node:child_process') {
  childProcessModule ??= requireBuiltin('node:child_process') as typeof import('node:child_process');
  return childProcessModule;
}

/** 12 random hex digits for a temporary name (uniqueness comes from O_EXCL; this only makes
 *  collisions rare). */
export function randomHex12(): string {
  return crypto().randomBytes(6).toString('hex');
}
