/**
 * The package as users install it: `npm pack` (which builds dist/ in prepack), then
 * `npm install --omit=dev` of the tarball into an empty project. The installed command answers
 * --version and normalizes a zip, a tar.gz and a .deb (made by zip, GNU tar and dpkg-deb) to the
 * same bytes as the checkout; a small ESM script calls the installed API; the tarball holds what
 * users need and nothing else. Installing from a git URL (prepare builds) is tried too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURE_T, ROOT, missing, sh, tempDir } from './lib/helpers.js';

const npm = (args: string[], cwd: string) => {
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

function emptyProject(): string {
  const dir = tempDir('snd-install-');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  return dir;
}

/** A zip, a tar.gz and a .deb of one small tree, in `dir`. */
function artifacts(dir: string): string[] {
  const tree = path.join(dir, 'pkg');
  fs.mkdirSync(path.join(tree, 'DEBIAN'), { recursive: true });
  fs.mkdirSync(path.join(tree, 'usr', 'share', 'doc', 'demo'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'DEBIAN', 'control'), 'Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: Nobody <nobody@example.org>\nDescription: demo\n');
  fs.writeFileSync(path.join(tree, 'usr', 'share', 'doc', 'demo', 'README'), 'demo\n'.repeat(20));
  sh(`gzip -9 -k usr/share/doc/demo/README`, tree);
  sh(`zip -qr ../demo.zip usr && tar czf ../demo.tar.gz usr`, tree);
  sh(`dpkg-deb --root-owner-group -Zxz --build pkg demo.deb >/dev/null`, dir);
  return ['demo.zip', 'demo.tar.gz', 'demo.deb'].map((n) => path.join(dir, n));
}

describe.skipIf(missing('npm', 'zip', 'tar', 'gzip', 'dpkg-deb', 'git'))('the installed package', () => {
  let tarball: string;
  let project: string;
  beforeAll(() => {
    const out = tempDir('snd-pack-');
    // dist/ is built already (npm test builds first); --ignore-scripts keeps prepack from
    // rebuilding it under the suites running beside this one. The git-URL case builds its own.
    const name = npm(['pack', '--ignore-scripts', '--pack-destination', out], ROOT).trim().split('\n').pop()!;
    tarball = path.join(out, name);
    project = emptyProject();
    npm(['install', '--omit=dev', tarball], project);
  }, 600_000);

  it('ships dist/, bin/, the docs and the license, and not the tests, fixtures, CI or benchmarks', () => {
    const files = sh(`tar tzf '${tarball}'`).split('\n').filter(Boolean);
    expect(files).toContain('package/dist/src/index.js');
    expect(files).toContain('package/dist/src/index.d.ts');
    expect(files).toContain('package/bin/strip-nondeterminism');
    expect(files).toContain('package/LICENSE');
    expect(files).toContain('package/docs/api.md');
    expect(files).toContain('package/man/strip-nondeterminism.1');
    expect(files.filter((f) => /^package\/(test|fixtures|\.ci|bench|dist\/bench|scripts|var)\//.test(f) || f.endsWith('.map'))).toEqual([]);
  });

  it('installs only what runs', () => {
    const installed = fs.readdirSync(path.join(project, 'node_modules')).filter((n) => !n.startsWith('.'));
    expect(installed).not.toContain('typescript');
    expect(installed).not.toContain('vitest');
    expect(installed).not.toContain('@types');
  });

  it('its command answers --version and gives the checkout\'s bytes for a zip, a tar.gz and a .deb', () => {
    const command = path.join(project, 'node_modules', '.bin', 'strip-nondeterminism');
    expect(sh(`'${command}' --version`)).toMatch(/^strip-nondeterminism version 1\.14\.1 \(strip-nondeterminism-node \d+\.\d+\.\d+\)\n$/);
    const installedDir = tempDir('snd-installed-');
    const checkoutDir = tempDir('snd-checkout-');
    const made = artifacts(installedDir);
    for (const f of made) fs.copyFileSync(f, path.join(checkoutDir, path.basename(f)));
    sh(`'${command}' -T ${FIXTURE_T} ${made.map((f) => `'${f}'`).join(' ')}`);
    sh(`'${BIN}' -T ${FIXTURE_T} ${made.map((f) => `'${path.join(checkoutDir, path.basename(f))}'`).join(' ')}`);
    for (const f of made) {
      expect(fs.readFileSync(f).equals(fs.readFileSync(path.join(checkoutDir, path.basename(f)))), path.basename(f)).toBe(true);
    }
    expect(sh(`unzip -t '${made[0]}'`)).toContain('No errors detected');
    sh(`tar tzf '${made[1]}' >/dev/null && dpkg-deb -c '${made[2]}' >/dev/null`);
  });

  it('its API works from an ESM script', () => {
    const gz = path.join(project, 'notes.gz');
    fs.writeFileSync(path.join(project, 'notes'), 'notes\n'.repeat(40));
    sh('gzip -9 notes', project);
    const script = path.join(project, 'use.mjs');
    fs.writeFileSync(
      script,
      `import { normalizeBuffer, normalizerNames } from 'strip-nondeterminism-node';\n` +
        `import { readFileSync } from 'node:fs';\n` +
        `const r = await normalizeBuffer(readFileSync('notes.gz'), 'notes.gz', { timestamp: ${FIXTURE_T}, env: {} });\n` +
        `process.stdout.write(JSON.stringify({ changed: r.changed, handler: r.handler, names: normalizerNames().length, hex: r.bytes.toString('hex') }));\n`,
    );
    const out = JSON.parse(sh(`node use.mjs`, project));
    sh(`'${BIN}' -T ${FIXTURE_T} '${gz}'`);
    expect(out).toEqual({ changed: true, handler: 'gzip', names: expect.any(Number), hex: fs.readFileSync(gz).toString('hex') });
  });

  it('installs its man pages: man strip-nondeterminism works after a global install', () => {
    const prefix = tempDir('snd-prefix-');
    npm(['install', '--global', '--omit=dev', '--prefix', prefix, tarball], prefix);
    for (const page of ['strip-nondeterminism', 'dh_strip_nondeterminism', 'gbuild', 'gsign', 'gverify', 'make-base-vm']) {
      expect(fs.existsSync(path.join(prefix, 'share', 'man', 'man1', `${page}.1`)), page).toBe(true);
    }
    expect(sh(`MANWIDTH=80 man -M '${path.join(prefix, 'share', 'man')}' strip-nondeterminism`)).toMatch(/NAME\s+strip-nondeterminism\s+-\s+normalize/);
    expect(sh(`'${path.join(prefix, 'bin', 'strip-nondeterminism')}' --version`)).toContain('strip-nondeterminism-node');
  }, 300_000);

  it('installs from a git URL too (prepare builds dist/)', () => {
    const clone = tempDir('snd-clone-');
    // The commit under test, with the working tree's changes, as a repository of its own.
    sh(
      `git clone -q '${ROOT}' repo && cd repo && git -C '${ROOT}' diff HEAD | git apply --allow-empty && ` +
        `(cd '${ROOT}' && git ls-files -z --others --exclude-standard | xargs -0r cp --parents -t '${clone}/repo') && ` +
        `git add -A && git -c user.name=t -c user.email=t@example.org commit -qm wip --allow-empty`,
      clone,
    );
    const consumer = emptyProject();
    npm(['install', '--omit=dev', `git+file://${path.join(clone, 'repo')}`], consumer);
    const command = path.join(consumer, 'node_modules', '.bin', 'strip-nondeterminism');
    expect(sh(`'${command}' --version`)).toContain('strip-nondeterminism-node');
  }, 300_000);
});
