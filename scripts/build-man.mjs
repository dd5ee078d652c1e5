#!/usr/bin/env node
// Man pages: docs/man/NAME.md (the one source, beside the code) → man/NAME.1 with marked-man,
// dated by SOURCE_DATE_EPOCH or the last commit so the pages are reproducible. Run by `npm run
// build`; package.json `man` installs them.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
let epoch = process.env.SOURCE_DATE_EPOCH;
if (!epoch) {
  try {
    epoch = execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    epoch = '';
  }
}
const date = new Date((Number(epoch) || 0) * 1000).toISOString().slice(0, 10);
const marked = join(root, 'node_modules', '.bin', 'marked-man');
mkdirSync(join(root, 'man'), { recursive: true });
for (const source of readdirSync(join(root, 'docs', 'man')).filter((f) => f.endsWith('.md'))) {
  const roff = execFileSync(marked, ['--no-breaks', '--version', version, '--manual', 'strip-nondeterminism-node', '--date', date, join(root, 'docs', 'man', source)], { encoding: 'utf8' });
  writeFileSync(join(root, 'man', source.replace(/\.md$/, '.1')), roff);
}
