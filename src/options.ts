/**
 * NormalizeOptions: everything a handler may consult, built once (from argv and the
 * environment) and never mutated.
 */
import { UsageError } from './errors.js';

export interface NormalizeOptions {
  /** Canonical time T in seconds since the epoch; undefined when neither -T nor
   *  SOURCE_DATE_EPOCH is given. */
  readonly timestamp?: number;
  /** --clamp-timestamp: only replace times later than T (where the format supports it). */
  readonly clamp: boolean;
  /** Names of enabled normalizers. */
  readonly enabled: ReadonlySet<string>;
  readonly verbose: boolean;
  /** --check: the output is only compared, never kept; a handler may stop as soon as it knows
   *  the file would change (tar skips recompressing). */
  readonly check?: boolean;
  /** tar/.deb member owner and group (default root:0 for both). */
  readonly tarOwner?: Owner;
  readonly tarGroup?: Owner;
}

export interface Owner {
  readonly name: string;
  readonly id: number;
}

/** `NAME:ID` (as GNU tar's --owner=NAME:ID); `NAME` alone means id 0 for root only. */
export function parseOwner(text: string, option: string): Owner {
  const m = /^([^:]*):(\d+)$/.exec(text) ?? (text === 'root' ? ['', 'root', '0'] : null);
  if (!m || m[1].length > 31 || /[\0\n]/.test(m[1])) throw new UsageError(`${option}: expected NAME:ID (for example root:0), got "${text}"`);
  const id = Number(m[2]);
  if (!Number.isSafeInteger(id)) throw new UsageError(`${option}: id out of range in "${text}"`);
  return { name: m[1], id };
}

const INTEGER = /^[-+]?\d+$/;

export function parseInteger(text: string): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** -T wins; otherwise SOURCE_DATE_EPOCH, if set and not empty. */
export function resolveTimestamp(flag: number | undefined, env: NodeJS.ProcessEnv): number | undefined {
  if (flag !== undefined) return flag;
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde === undefined || sde === '') return undefined;
  const n = parseInteger(sde.trim());
  if (n === undefined) throw new UsageError(`SOURCE_DATE_EPOCH: invalid value "${sde}" (an integer number of seconds is expected)`);
  return n;
}

/**
 * Apply a --normalizers spec (`+a,-b,+all,-all`) to the default set, left to right, as
 * Perl does. `log` receives Perl's verbose "Enabling ..." lines.
 */
export function applyNormalizerSpec(
  known: readonly string[],
  defaults: ReadonlySet<string>,
  spec: string | undefined,
  argv0: string,
  log?: (line: string) => void,
): Set<string> {
  const enabled = new Set(defaults);
  for (const item of (spec ?? '').split(',')) {
    if (item === '') continue;
    const m = /^([+-])(\w+)$/.exec(item);
    if (!m) throw new UsageError(`${argv0}: invalid --normalizer spec: ${item}`);
    const [, sign, name] = m;
    const action = sign === '+' ? 'Enabling' : 'Disabling';
    if (name === 'all') {
      log?.(`${argv0}: ${action} all normalizers`);
      for (const k of known) sign === '+' ? enabled.add(k) : enabled.delete(k);
      continue;
    }
    log?.(`${argv0}: ${action} normalizer ${name}`);
    if (!known.includes(name)) throw new UsageError(`Unknown normalizer: ${name}`);
    if (sign === '+') enabled.add(name);
    else enabled.delete(name);
  }
  return enabled;
}
