/**
 * What the runner's four commands share: Getopt-style parsing (src/app/args.ts), `--help`, `--version`, usage
 * errors (exit 2 with the usage line), and running the system tools they drive.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs, type OptionSpec, type ParsedArgs } from '../app/args.js';
import { VERSION } from '../app/version.js';

export type Values = ParsedArgs['values'];

/**
 * Parse `argv`; `problems` adds checks of its own. Returns the values and operands, or the exit
 * status when the command should stop here (help printed: 0; usage error printed: 2).
 */
export function parseCommand(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  usage: string,
  problems: (values: Values, operands: string[]) => string[],
): { values: Values; operands: string[] } | { exit: number } {
  const parsed = parseArgs(argv, [...specs, { names: ['help', 'h'], kind: 'flag', key: 'help' }, { names: ['version', 'V'], kind: 'flag', key: 'version' }]);
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    return { exit: 0 };
  }
  if (parsed.values.version) {
    // "Usage: gbuild ..." names the command.
    process.stdout.write(`${/^Usage: (\S+)/.exec(usage)?.[1] ?? 'gitian'} (strip-nondeterminism-node ${VERSION})\n`);
    return { exit: 0 };
  }
  const all = [...parsed.errors, ...problems(parsed.values, parsed.operands)];
  if (all.length) {
    process.stderr.write(`${[...all, usage].join('\n')}\n`);
    return { exit: 2 };
  }
  return { values: parsed.values, operands: parsed.operands };
}

/** A check for commands that take exactly one descriptor. */
export const oneDescriptor = (_v: Values, operands: string[]): string[] => (operands.length === 1 ? [] : ['give one descriptor']);

/** A system tool (git, tar, cp, mke2fs, ...) failed; the message holds its error output. */
export class CommandError extends Error {}

/** Run a tool to completion; its output, or a CommandError. */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: Buffer } = {}): Buffer {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, env: opts.env ?? process.env, maxBuffer: 1 << 30 });
  if (r.error) throw new CommandError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new CommandError(`${cmd} ${args.join(' ')} failed:\n${(r.stderr.toString() || r.stdout.toString()).trim()}`);
  return r.stdout;
}
