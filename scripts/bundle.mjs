#!/usr/bin/env node
// Start-up: the two commands bundled by esbuild from the compiled modules into one CommonJS
// file each (dist/bundle/cli.cjs, dh.cjs), with a V8 code cache made here (NAME.cjs.cache) that
// bin/launch.mjs hands to V8, so a run neither resolves sixty modules nor compiles them. The
// pool's worker is bundled too (worker.js, ESM). Packages stay external. Run by `npm run build`;
// bin/ falls back to dist/src when the bundles are missing.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(join(root, 'dist', 'bundle'), { recursive: true, force: true });
const common = { absWorkingDir: root, outdir: 'dist/bundle', bundle: true, platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning',
  // Less to parse at every start; names are kept, so stack traces stay readable.
  minifyWhitespace: true, minifySyntax: true };
await build({
  ...common,
  entryPoints: { cli: 'dist/src/app/cli.js', dh: 'dist/src/app/dh.js' },
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  // import() of packages becomes require(); import.meta.url the bundle's own URL.
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
});
await build({ ...common, entryPoints: { worker: 'dist/src/app/worker.js' }, format: 'esm' });

// The code cache: compile and run each bundle's top level (which defines everything and runs
// nothing: run() is what starts a command), then keep what V8 compiled.
for (const name of ['cli', 'dh']) {
  const file = join(root, 'dist', 'bundle', `${name}.cjs`);
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, dirname(file));
  writeFileSync(`${file}.cache`, script.createCachedData());
}
