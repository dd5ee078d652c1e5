/**
 * Gitian's result and assertion files: `result/<name>-res.yml` and
 * `sigs/<name>/<release>/<signer>/<name>-build.assert`. Gitian writes them with Ruby's
 * YAML::Omap, so keys keep a fixed order: a `--- !omap` sequence of one-key maps, manifests as
 * literal blocks in sha256sum form. Written here by hand so the bytes never depend on a YAML
 * library's choices; read back with the yaml package.
 */
import { parse as parseYaml } from 'yaml';

export type Entry = [string, string | Entry[]];

/** A one-line value: plain when YAML reads it back as that string, else single-quoted (as Ruby
 *  quotes `'1.0'`). */
function scalar(value: string): string {
  const plain = /^[A-Za-z_][\w.@+/-]*$/.test(value) && !/^(?:y|n|yes|no|true|false|on|off|null)$/i.test(value);
  return plain ? value : `'${value.replace(/'/g, "''")}'`;
}

function block(value: string, indent: string): string {
  if (value === '') return " ''";
  if (!value.includes('\n')) return ` ${scalar(value)}`;
  if (!value.endsWith('\n') || /^\s/.test(value) || value.includes('\r')) return ` ${JSON.stringify(value)}`;
  return ' |\n' + value.replace(/\n$/, '').split('\n').map((l) => (l ? `${indent}${l}` : '')).join('\n');
}

function omap(entries: readonly Entry[], indent: string): string {
  return entries
    .map(([key, value]) =>
      typeof value === 'string' ? `${indent}- ${key}:${block(value, indent + '    ')}` : `${indent}- ${key}: !omap\n${omap(value, indent + '  ')}`,
    )
    .join('\n');
}

/** An ordered map as Ruby's YAML::Omap#to_yaml lays it out. */
export function formatOmap(entries: readonly Entry[]): string {
  return `--- !omap\n${omap(entries, '')}\n`;
}

export interface BuildResult {
  out_manifest: string;
  in_manifest: string;
  base_manifests: [string, string][];
  cache_common_manifest: string;
  cache_package_manifest: string;
}

export function resultEntries(r: BuildResult): Entry[] {
  return [
    ['out_manifest', r.out_manifest],
    ['in_manifest', r.in_manifest],
    ['base_manifests', r.base_manifests],
    ['cache_common_manifest', r.cache_common_manifest],
    ['cache_package_manifest', r.cache_package_manifest],
  ];
}

/** Read an omap file back into ordered entries (nested omaps too). */
export function readOmap(text: string): Entry[] {
  const doc: unknown = parseYaml(text, { logLevel: 'error' });
  const convert = (v: unknown): string | Entry[] => {
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) {
      return v.map((item) => {
        const keys = item && typeof item === 'object' ? Object.keys(item) : [];
        if (keys.length !== 1) throw new Error('not an ordered map');
        return [keys[0], convert((item as Record<string, unknown>)[keys[0]])] as Entry;
      });
    }
    if (v === null || v === undefined) return '';
    return String(v);
  };
  const out = convert(doc);
  if (typeof out === 'string') throw new Error('not an ordered map');
  return out;
}

export function lookup(entries: readonly Entry[], key: string): string | Entry[] | undefined {
  return entries.find(([k]) => k === key)?.[1];
}
