/**
 * A small Getopt::Long work-alike for the flags of the Perl CLI, configured as Perl's is:
 * `no_ignore_case permute bundling`. Supported: `--name`, `--name=value`, `--name value`,
 * unique prefixes of long names, `--no-NAME`/`--noNAME` for negatable flags, bundled single
 * letters (`-vT 5`, `-T5`), `--` to end options, and options after file names.
 * Errors are collected (Getopt warns for each, then the script dies with the usage line).
 */

export interface OptionSpec {
  /** Long name first, then aliases (single letters are usable as bundled -x). */
  names: string[];
  kind: 'flag' | 'negatable' | 'string' | 'integer' | 'list';
  key: string;
}

export interface ParsedArgs {
  values: Record<string, string | number | boolean | string[]>;
  operands: string[];
  errors: string[];
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const values: Record<string, string | number | boolean | string[]> = {};
  const operands: string[] = [];
  const errors: string[] = [];

  const setValue = (spec: OptionSpec, used: string, raw: string | undefined, negated = false): boolean => {
    if (spec.kind === 'flag' || spec.kind === 'negatable') {
      values[spec.key] = !negated;
      return true;
    }
    if (raw === undefined) {
      errors.push(`Option ${used} requires an argument`);
      return false;
    }
    if (spec.kind === 'integer') {
      if (!/^[-+]?\d+$/.test(raw)) {
        errors.push(`Value "${raw}" invalid for option ${used} (number expected)`);
        return false;
      }
      values[spec.key] = Number(raw);
    } else if (spec.kind === 'list') {
      values[spec.key] = [...((values[spec.key] as string[] | undefined) ?? []), raw];
    } else {
      values[spec.key] = raw;
    }
    return true;
  };

  const findLong = (name: string): { spec: OptionSpec; negated: boolean } | string => {
    const candidates: { spec: OptionSpec; negated: boolean; name: string }[] = [];
    for (const spec of specs) {
      const names = [...spec.names];
      const negs = spec.kind === 'negatable' ? names.flatMap((n) => [`no${n}`, `no-${n}`]) : [];
      for (const n of names) if (n === name) return { spec, negated: false };
      for (const n of negs) if (n === name) return { spec, negated: true };
      for (const n of names) if (n.length > 1 && n.startsWith(name)) candidates.push({ spec, negated: false, name: n });
      for (const n of negs) if (n.startsWith(name)) candidates.push({ spec, negated: true, name: n });
    }
    const distinct = [...new Map(candidates.map((c) => [c.spec.key + c.negated, c])).values()];
    if (distinct.length === 1) return distinct[0];
    if (distinct.length > 1) return `Option ${name} is ambiguous (${distinct.map((c) => c.name).join(', ')})`;
    return `Unknown option: ${name}`;
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const found = findLong(name);
      if (typeof found === 'string') {
        errors.push(found);
        continue;
      }
      const { spec, negated } = found;
      if (spec.kind === 'flag' || spec.kind === 'negatable') {
        if (eq >= 0) errors.push(`Option ${name} does not take an argument`);
        else setValue(spec, name, undefined, negated);
        continue;
      }
      let raw = eq >= 0 ? arg.slice(eq + 1) : undefined;
      if (raw === undefined && i + 1 < argv.length) raw = argv[++i];
      setValue(spec, name, raw);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j];
        const spec = specs.find((s) => s.names.includes(letter));
        if (!spec) {
          errors.push(`Unknown option: ${letter}`);
          continue;
        }
        if (spec.kind === 'flag' || spec.kind === 'negatable') {
          setValue(spec, letter, undefined);
          continue;
        }
        let raw: string | undefined = arg.slice(j + 1);
        if (raw === '') raw = i + 1 < argv.length ? argv[++i] : undefined;
        setValue(spec, letter, raw);
        break;
      }
      continue;
    }
    operands.push(arg);
  }
  return { values, operands, errors };
}
