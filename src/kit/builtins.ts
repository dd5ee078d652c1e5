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

let randomPool = Buffer.alloc(0);
let randomAt = 0;

/** 12 random hex digits for a temporary name (uniqueness comes from O_EXCL; this only makes
 *  collisions rare), from random bytes drawn 4 KiB at a time: one system call per 682 names. */
export function randomHex12(): string {
  if (randomAt + 6 > randomPool.length) {
    randomPool = crypto().randomBytes(4096);
    randomAt = 0;
  }
  randomAt += 6;
  return randomPool.toString('hex', randomAt - 6, randomAt);
}
