/**
 * gsign: sign a build result, as Gitian does. Reads result/<name>-res.yml, writes
 * sigs/<name>/<release>/<signer>/<name>-build.assert (the result plus release, name and type, in
 * the same ordered layout), a copy of the result, and `<assert>.sig`, a detached gpg signature
 * made with the key named by --signer (gpg's own keyring: $GNUPGHOME).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { OptionSpec } from '../app/args.js';
import { oneDescriptor, parseCommand } from './command.js';
import { loadDescriptor, DescriptorError } from './descriptor.js';
import { formatOmap, readOmap } from './result.js';

const SPECS: OptionSpec[] = [
  { names: ['signer', 's'], kind: 'string', key: 'signer' },
  { names: ['release', 'r'], kind: 'string', key: 'release' },
  { names: ['destination', 'd'], kind: 'string', key: 'destination' },
];
const USAGE = 'Usage: gsign --signer KEY [--release REL] [--destination DIR] descriptor.yml';
const SAFE = /^[\w.@+-]+$/;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPECS, USAGE, (values, operands) => {
    const problems = oneDescriptor(values, operands);
    const s = values.signer as string | undefined;
    if (!s) problems.push('must supply signer with --signer');
    else if (!SAFE.test(s)) problems.push(`--signer: "${s}" is not a safe directory name`);
    if (!/^[\w.-]+$/.test((values.release as string | undefined) ?? 'test')) problems.push(`--release: "${String(values.release)}" may hold only letters, digits, _ . -`);
    return problems;
  });
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  const signer = v.signer as string;
  const release = (v.release as string | undefined) ?? 'test';
  try {
    const desc = loadDescriptor(parsed.operands[0]);
    const resultPath = path.join('result', `${desc.name}-res.yml`);
    if (!fs.existsSync(resultPath)) throw new Error(`${resultPath} does not exist (run gbuild first)`);
    const result = readOmap(fs.readFileSync(resultPath, 'utf8'));
    const assertion = [...result.filter(([k]) => !['release', 'name', 'type'].includes(k)), ['release', release], ['name', desc.name], ['type', 'build']] as typeof result;
    const dir = path.join((v.destination as string | undefined) ?? path.join('sigs', desc.name), release, signer);
    fs.mkdirSync(dir, { recursive: true });
    const assertPath = path.join(dir, `${desc.name}-build.assert`);
    fs.writeFileSync(assertPath, formatOmap(assertion));
    fs.copyFileSync(resultPath, path.join(dir, path.basename(resultPath)));
    fs.rmSync(`${assertPath}.sig`, { force: true });
    const r = spawnSync('gpg', ['--batch', '--yes', '--detach-sign', '-u', signer, '-o', `${assertPath}.sig`, assertPath], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`gpg could not sign as ${signer}: ${(r.stderr || r.error?.message || '').trim()}`);
    process.stdout.write(`${assertPath}\n${assertPath}.sig\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`gsign: ${(e as Error).message}\n`);
    return e instanceof DescriptorError ? 2 : 1;
  }
}
