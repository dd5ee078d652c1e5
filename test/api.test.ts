/**
 * The library API (src/index.ts, as built into dist/): the plugin example's third-party handler
 * on a tree, inside a zip made by Info-ZIP and inside a tar.gz made by GNU tar (expected contents
 * written by hand; unzip -t, gzip -t and tar read the results back); normalizeBuffer and
 * normalizeFile against the Perl tool; normalizeTree's entries against the CLI's --json; and
 * docs/api.md against the exported names of dist/src/index.d.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURE_T, PERL_TOOL, ROOT, missing, runBin, sh, tempDir } from './lib/helpers.js';

const api = () => import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'index.js')).href) as Promise<typeof import('../src/index.js')>;
const STAMP = 'BUILDSTAMP 1\nbuilt: 1699999999\nhost: ci-runner-7\nname: demo\n';
const normalizedStamp = (T: number) => `BUILDSTAMP 1\nbuilt: ${T}\nhost: build\nname: demo\n`;

describe.skipIf(missing('zip', 'unzip', 'tar', 'gzip'))('the plugin example (examples/plugin)', () => {
  it('takes a file in a tree and the members of a zip and a tar.gz, and a second run changes nothing', () => {
    const dir = tempDir('snd-plugin-');
    const staging = path.join(dir, 'staging');
    fs.mkdirSync(staging);
    fs.writeFileSync(path.join(staging, 'app.buildstamp'), STAMP);
    fs.writeFileSync(path.join(staging, 'other.txt'), 'built: 1699999999\n');
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(tree);
    fs.writeFileSync(path.join(tree, 'loose.buildstamp'), STAMP);
    sh(`zip -q '${tree}/bundle.zip' app.buildstamp other.txt && tar czf '${tree}/bundle.tar.gz' app.buildstamp other.txt`, staging);
    const run = () => spawnSync('node', [path.join(ROOT, 'examples', 'plugin', 'normalize-tree.mjs'), tree, '5'], { encoding: 'utf8' });

    const first = run();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('3 files, 3 changed, 0 errors');
    expect(fs.readFileSync(path.join(tree, 'loose.buildstamp'), 'utf8')).toBe(normalizedStamp(5));
    expect(sh(`unzip -p bundle.zip app.buildstamp`, tree)).toBe(normalizedStamp(5));
    expect(sh(`unzip -p bundle.zip other.txt`, tree)).toBe('built: 1699999999\n');
    expect(sh(`unzip -t bundle.zip`, tree)).toContain('No errors detected');
    sh('gzip -t bundle.tar.gz', tree);
    expect(sh(`tar xzOf bundle.tar.gz app.buildstamp`, tree)).toBe(normalizedStamp(5));
    expect(sh(`tar xzOf bundle.tar.gz other.txt`, tree)).toBe('built: 1699999999\n');

    const second = run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain('3 files, 0 changed, 0 errors');
  });
});

describe('registerHandler', () => {
  it('refuses a name that is taken or not a word, and a missing anchor', async () => {
    const { registerHandler, handlerByName } = await api();
    const zip = handlerByName('zip')!;
    expect(() => registerHandler({ ...zip })).toThrow(/exists already/);
    expect(() => registerHandler({ ...zip, name: 'two words' })).toThrow(/not a word/);
    expect(() => registerHandler({ ...zip, name: 'zap' }, { before: 'nosuch' })).toThrow(/no handler named "nosuch"/);
  });
});

describe.skipIf(missing(PERL_TOOL, 'gzip', 'zip'))('the API against the Perl tool', () => {
  it('normalizeBuffer gives the Perl tool\'s bytes for a gzip file, and names the file when it is corrupt', async () => {
    const { normalizeBuffer } = await api();
    const dir = tempDir('snd-api-');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello\n'.repeat(100));
    sh('gzip -9 notes.txt', dir);
    const file = path.join(dir, 'notes.txt.gz');
    const input = fs.readFileSync(file);
    const r = await normalizeBuffer(input, 'notes.txt.gz', { timestamp: FIXTURE_T, env: {} });
    sh(`'${PERL_TOOL}' -T ${FIXTURE_T} notes.txt.gz`, dir);
    expect(r.changed).toBe(true);
    expect(r.handler).toBe('gzip');
    expect(r.bytes.equals(fs.readFileSync(file))).toBe(true);
    const unchanged = await normalizeBuffer(r.bytes, 'notes.txt.gz', { timestamp: FIXTURE_T, env: {} });
    expect(unchanged.changed).toBe(false);
    await expect(normalizeBuffer(input.subarray(0, 5), 'cut.gz', { env: {} })).rejects.toThrow(/^cut\.gz: /);
  });

  it('normalizeFile rewrites a zip in place as the Perl tool does', async () => {
    const { normalizeFile } = await api();
    const dir = tempDir('snd-api-');
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a\n');
    fs.writeFileSync(path.join(dir, 'b.txt'), 'b\n');
    sh('zip -q ours.zip b.txt a.txt && cp ours.zip perl.zip', dir);
    const entry = await normalizeFile(path.join(dir, 'ours.zip'), { timestamp: FIXTURE_T, env: {} });
    sh(`'${PERL_TOOL}' -T ${FIXTURE_T} perl.zip`, dir);
    expect(entry).toMatchObject({ handler: 'zip', changed: true, error: null });
    expect(fs.readFileSync(path.join(dir, 'ours.zip')).equals(fs.readFileSync(path.join(dir, 'perl.zip')))).toBe(true);
    const bad = await normalizeFile(path.join(dir, 'missing.zip'), { env: {} });
    expect(bad.error).toBe('Does not exist');
  });

  it('normalizeTree reports what the CLI\'s --json reports, with progress', async () => {
    const { normalizeTree } = await api();
    const make = () => {
      const dir = tempDir('snd-api-tree-');
      fs.mkdirSync(path.join(dir, 'sub'));
      fs.writeFileSync(path.join(dir, 'sub', 'x.txt'), 'x\n'.repeat(50));
      sh('gzip -9 sub/x.txt && cp sub/x.txt.gz y.gz && printf "plain" > z.txt', dir);
      return dir;
    };
    const a = make();
    const b = make();
    const seen: number[] = [];
    const ours = await normalizeTree(a, { timestamp: FIXTURE_T, jobs: 1, env: {}, onProgress: (done, total) => seen.push(done, total) });
    const json = path.join(tempDir('snd-api-json-'), 'r.json');
    expect(runBin(['-T', String(FIXTURE_T), '--json', json, b]).status).toBe(0);
    const cli = JSON.parse(fs.readFileSync(json, 'utf8'));
    const relative = (files: { path: string }[], root: string) => files.map((f) => ({ ...f, path: path.relative(root, f.path) }));
    expect(relative(ours.files, a)).toEqual(relative(cli.files, b));
    expect({ ...ours.summary, seconds: 0 }).toEqual({ ...cli.summary, seconds: 0 });
    expect(seen).toEqual([1, 3, 2, 3, 3, 3]);
    expect(fs.readFileSync(path.join(a, 'y.gz')).equals(fs.readFileSync(path.join(b, 'y.gz')))).toBe(true);
  });
});

describe('docs/api.md', () => {
  it('has a section for every exported name and for nothing else', () => {
    const dts = fs.readFileSync(path.join(ROOT, 'dist', 'src', 'index.d.ts'), 'utf8');
    const exported = new Set<string>();
    for (const m of dts.matchAll(/^export (?:type )?\{([^}]*)\}/gm)) for (const n of m[1].split(',')) exported.add(n.trim().replace(/^type /, ''));
    for (const m of dts.matchAll(/^export (?:declare )?(?:function|const|interface|class|type) (\w+)/gm)) exported.add(m[1]);
    const documented = new Set([...fs.readFileSync(path.join(ROOT, 'docs', 'api.md'), 'utf8').matchAll(/^### `(\w+)`$/gm)].map((m) => m[1]));
    expect([...documented].sort()).toEqual([...exported].sort());
  });
});
