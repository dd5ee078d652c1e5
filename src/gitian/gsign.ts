/**
 * gsign: sign a build result, as Gitian does. Reads result/<name>-res.yml, writes
 * sigs/<name>/<release>/<signer>/<name>-build.assert (the result plus release, name and type, in
 * the same ordered layout), a copy of the result, and `<assert>.sig`, a detached gpg signature
 * made with the key named by --signer (gpg's own keyring: $GNUPGHOME).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs, type OptionSpec } from '../args.js';
import { loadDescriptor, DescriptorError } from './descriptor.js';
import { formatOmap, readOmap } from './result.js';

const SPECS: OptionSpec[] = [
  { names: ['signer', 's'], kind: 'string', key: 'signer' },
  { names: ['release', 'r'], kind: 'string', key: 'release' },
  { names: ['destination', 'd'], kind: 'string', key: 'destination' },
  { names: ['help', 'h'], kind: 'flag', key: 'help' },
];
const USAGE = 'Usage: gsign --signer KEY [--release REL] [--destination DIR] descriptor.yml';
const SAFE = /^[\w.@+-]+$/;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv, SPECS);
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const signer = v.signer as string | undefined;
  const release = (v.release as string | undefined) ?? 'test';
  const problems = [...parsed.errors];
  if (parsed.operands.length !== 1) problems.push('give one descriptor');
  if (!signer) problems.push('must supply signer with --signer');
  else if (!SAFE.test(signer)) problems.push(`--signer: "${signer}" is not a safe directory name`);
  if (!/^[\w.-]+$/.test(release)) problems.push(`--release: "${release}" may hold only letters, digits, _ . -`);
  if (problems.length) {
    process.stderr.write(`${[...problems, USAGE].join('\n')}\n`);
    return 2;
  }
  try {
    const desc = loadDescriptor(parsed.operands[0]);
    const resultPath = path.join('result', `${desc.name}-res.yml`);
    if (!fs.existsSync(resultPath)) throw new Error(`${resultPath} does not exist (run gbuild first)`);
    const result = readOmap(fs.readFileSync(resultPath, 'utf8'));
    const assertion = [...result.filter(([k]) => !['release', 'name', 'type'].includes(k)), ['release', release], ['name', desc.name], ['type', 'build']] as typeof result;
    const dir = path.join((v.destination as string | undefined) ?? path.join('sigs', desc.name), release, signer!);
    fs.mkdirSync(dir, { recursive: true });
    const assertPath = path.join(dir, `${desc.name}-build.assert`);
    fs.writeFileSync(assertPath, formatOmap(assertion));
    fs.copyFileSync(resultPath, path.join(dir, path.basename(resultPath)));
    fs.rmSync(`${assertPath}.sig`, { force: true });
    const r = spawnSync('gpg', ['--batch', '--yes', '--detach-sign', '-u', signer!, '-o', `${assertPath}.sig`, assertPath], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`gpg could not sign as ${signer}: ${(r.stderr || r.error?.message || '').trim()}`);
    process.stdout.write(`${assertPath}\n${assertPath}.sig\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`gsign: ${(e as Error).message}\n`);
    return e instanceof DescriptorError ? 2 : 1;
  }
}
