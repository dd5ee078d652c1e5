/**
 * gverify: check every signer's assertion for a release, as Gitian does, without any network:
 * the detached signature (gpg --verify against the keyring in $GNUPGHOME), then the out_manifest
 * against the reference (--compare-to SIGNER, else the first signer in name order), and the
 * release and name. Prints `SIGNER: OK`, `SIGNER: MISMATCH` or `SIGNER: BAD SIGNATURE` per
 * signer; exits 1 if any is not OK, or if there is nothing to verify.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { OptionSpec } from '../app/args.js';
import { oneDescriptor, parseCommand } from './command.js';
import { loadDescriptor, DescriptorError } from './descriptor.js';
import { lookup, readOmap } from './result.js';

const SPECS: OptionSpec[] = [
  { names: ['release', 'r'], kind: 'string', key: 'release' },
  { names: ['destination', 'd'], kind: 'string', key: 'destination' },
  { names: ['compare-to'], kind: 'string', key: 'compareTo' },
  { names: ['verbose', 'v'], kind: 'flag', key: 'verbose' },
];
const USAGE = 'Usage: gverify [--release REL] [--compare-to SIGNER] [--destination DIR] [-v] descriptor.yml';

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPECS, USAGE, oneDescriptor);
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  try {
    const desc = loadDescriptor(parsed.operands[0]);
    const release = (v.release as string | undefined) ?? 'current';
    const releasePath = path.join((v.destination as string | undefined) ?? path.join('sigs', desc.name), release);
    if (!fs.existsSync(releasePath)) throw new Error(`${releasePath} does not exist`);
    const signers = fs
      .readdirSync(releasePath, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    const compareTo = v.compareTo as string | undefined;
    if (compareTo && !signers.includes(compareTo)) throw new Error(`no assertion from ${compareTo} in ${releasePath}`);
    if (signers.length === 0) throw new Error(`no signers in ${releasePath}`);
    const assertName = `${desc.name}-build.assert`;
    const manifests = new Map<string, string>();
    const verdict = new Map<string, string>();
    for (const s of signers) {
      const assertPath = path.join(releasePath, s, assertName);
      const sigPath = `${assertPath}.sig`;
      if (!fs.existsSync(assertPath) || !fs.existsSync(sigPath)) {
        verdict.set(s, `MISSING (${!fs.existsSync(assertPath) ? assertPath : sigPath})`);
        continue;
      }
      const r = spawnSync('gpg', ['--quiet', '--batch', '--verify', sigPath, assertPath], { encoding: 'utf8' });
      if (v.verbose || r.status !== 0) for (const line of r.stderr.trim().split('\n')) if (line) out(line);
      if (r.status !== 0) {
        verdict.set(s, 'BAD SIGNATURE');
        continue;
      }
      let entries;
      try {
        entries = readOmap(fs.readFileSync(assertPath, 'utf8'));
      } catch {
        verdict.set(s, 'BAD SIGNATURE');
        continue;
      }
      if (lookup(entries, 'release') !== release || lookup(entries, 'name') !== desc.name) {
        verdict.set(s, 'MISMATCH');
        continue;
      }
      manifests.set(s, String(lookup(entries, 'out_manifest') ?? ''));
    }
    const reference = compareTo ? manifests.get(compareTo) : manifests.get(signers.find((s) => manifests.has(s)) ?? '');
    let failed = false;
    for (const s of signers) {
      const status = verdict.get(s) ?? (reference !== undefined && manifests.get(s) === reference ? 'OK' : 'MISMATCH');
      if (status !== 'OK') failed = true;
      out(`${s}: ${status}`);
    }
    return failed ? 1 : 0;
  } catch (e) {
    process.stderr.write(`gverify: ${(e as Error).message}\n`);
    return e instanceof DescriptorError ? 2 : 1;
  }
}
