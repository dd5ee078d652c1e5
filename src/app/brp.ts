/**
 * --brp: strip-nondeterminism as an rpm build-root policy script, run by rpmbuild at the end of
 * %install (rpm/macros.strip-nondeterminism puts it in %__os_install_post). It may touch the
 * build root only: RPM_BUILD_ROOT must be set, and every operand must lie inside it (the build
 * root itself when none is given). A path is checked where it really is: its directory with
 * symlinks resolved, the last component not followed (the walk never follows symlinks either).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../kit/errors.js';

function realDirectory(p: string, what: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    throw new UsageError(`--brp: ${what} ${p} does not exist`);
  }
}

/** Where `p` is, with the symlinks of its directories resolved. */
function located(p: string): string {
  const absolute = path.resolve(p);
  const parent = path.dirname(absolute);
  return parent === absolute ? absolute : path.join(realDirectory(parent, 'the directory of'), path.basename(absolute));
}

/** The operands of a --brp run, checked; the build root when there are none. */
export function brpOperands(operands: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const root = env.RPM_BUILD_ROOT;
  if (!root) throw new UsageError('--brp: RPM_BUILD_ROOT is not set (--brp is meant for rpmbuild\'s %install scripts)');
  const realRoot = realDirectory(root, 'RPM_BUILD_ROOT');
  if (realRoot === '/') throw new UsageError('--brp: RPM_BUILD_ROOT is /, which is not a build root');
  const targets = operands.length ? [...operands] : [root];
  for (const t of targets) {
    const at = located(t);
    if (at !== realRoot && !at.startsWith(realRoot + '/')) throw new UsageError(`--brp: ${t} is not inside RPM_BUILD_ROOT (${root})`);
  }
  return targets;
}
