// Loads a command for bin/ (CommonJS, like the launchers: bin/package.json, so that a start
// pays for no ES module loader): the bundle dist/bundle/NAME.cjs with its V8 code cache (made
// by scripts/bundle.mjs; a cache V8 rejects, from another Node.js, only costs the compile), or
// the compiled modules when there is no bundle. Resolves to the command's module.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { Module, createRequire } = require('node:module');

exports.load = async function load(name, fallback) {
  const file = path.join(__dirname, '..', 'dist', 'bundle', `${name}.cjs`);
  if (!fs.existsSync(file)) return import(fallback);
  let cachedData;
  try {
    cachedData = fs.readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, path.dirname(file));
  return mod.exports;
};
