/**
 * make-base-vm: the base root for gbuild (src/gitian/base.ts), and with --vm what the VM backend
 * boots (src/gitian/vm.ts). Gitian's flags: --suite, --arch, --distro; ours: --packages (extra
 * packages in the base, comma separated), --mirror, --vm, --random (the base `random:
 * deterministic` needs: gcc and libc6-dev, and the preloaded library compiled in it).
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import type { OptionSpec } from '../app/args.js';
import { parseCommand, run } from './command.js';
import { ensureBase } from './base.js';
import { ensureVmAssets, makeExt4 } from './vm.js';
import { ARCHES } from './descriptor.js';

const SPECS: OptionSpec[] = [
  { names: ['suite', 's'], kind: 'string', key: 'suite' },
  { names: ['arch', 'a'], kind: 'string', key: 'arch' },
  { names: ['distro'], kind: 'string', key: 'distro' },
  { names: ['packages'], kind: 'list', key: 'packages' },
  { names: ['mirror'], kind: 'string', key: 'mirror' },
  { names: ['vm'], kind: 'flag', key: 'vm' },
  { names: ['random'], kind: 'flag', key: 'random' },
];
const USAGE = 'Usage: make-base-vm [--distro debian] [--suite bookworm] [--arch amd64|i386] [--packages P1,P2] [--mirror URL] [--random] [--vm]';

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPECS, USAGE, (values, operands) => {
    const problems: string[] = [];
    if (operands.length) problems.push(`unexpected argument ${operands[0]}`);
    if ((values.distro ?? 'debian') !== 'debian') problems.push(`--distro: only debian is supported, not ${String(values.distro)}`);
    if (!(String(values.arch ?? 'amd64') in ARCHES)) problems.push(`--arch: amd64 or i386, not ${String(values.arch)}`);
    return problems;
  });
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  const arch = (v.arch as string | undefined) ?? 'amd64';
  const log = (s: string) => process.stderr.write(`${s}\n`);
  try {
    const packages = ((v.packages as string[] | undefined) ?? []).flatMap((p) => p.split(',')).filter(Boolean);
    // gbuild always adds faketime (for `faketime: true` and --vary): the same base serves both.
    const base = ensureBase({ distro: 'debian', suite: (v.suite as string | undefined) ?? 'bookworm', arch, packages: [...packages, 'faketime'], mirror: v.mirror as string | undefined, random: v.random === true }, log);
    process.stdout.write(`${base.tarball}\n`);
    if (v.vm) {
      const assets = ensureVmAssets(log, arch);
      const image = base.tarball.replace(/\.tar$/, '.ext4');
      if (!fs.existsSync(image)) {
        const root = `${image}.root`;
        fs.rmSync(root, { recursive: true, force: true });
        fs.mkdirSync(root);
        try {
          run('tar', ['-xpf', base.tarball, '-C', root, '--numeric-owner']);
          makeExt4(root, `${image}.tmp`, 1024);
          fs.renameSync(`${image}.tmp`, image);
        } finally {
          fs.rmSync(root, { recursive: true, force: true });
        }
      }
      for (const f of [assets.kernel, assets.initramfs, image]) process.stdout.write(`${path.resolve(f)}\n`);
    }
    return 0;
  } catch (e) {
    log(`make-base-vm: ${(e as Error).message}`);
    return 1;
  }
}
