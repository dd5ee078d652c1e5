/**
 * Gitian build descriptors (`*.yml`): the fields Gitian's gbuild reads, validated with zod so a
 * bad descriptor is rejected with the field named. Extensions of ours (docs/gitian.md): `faketime`
 * (run the script under libfaketime), `random: deterministic` with `random_seed` (predictable
 * /dev/urandom and getrandom), `single_cpu`, `aslr`, and `distro: debian` as the default.
 */
import * as fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const SAFE = /^[\w.-]+$/; // Gitian's sanitize(): names that are safe as path components
const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

export const ARCHES = { amd64: 64, i386: 32 } as const;

const safe = (what: string) => z.string().regex(SAFE, `${what} may hold only letters, digits, _ . -`);

export const DescriptorSchema = z
  .object({
    name: safe('name'),
    distro: z.literal('debian', { message: 'only "debian" is supported' }).default('debian'),
    suites: z.array(safe('a suite')).min(1, 'at least one suite'),
    architectures: z.array(z.enum(Object.keys(ARCHES) as [keyof typeof ARCHES]), { message: 'architectures: amd64 or i386' }).min(1, 'at least one architecture'),
    packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]*(?::[a-z0-9]+)?$/, 'not a Debian package name')).default([]),
    remotes: z
      .array(
        z.strictObject({
          url: z.string().min(1),
          dir: safe('dir'),
          commit: z.string().regex(/^[\w./-]+$/, 'not a commit, branch or tag name').optional(),
        }),
      )
      .default([]),
    files: z.array(safe('a file name')).default([]),
    script: z.string().min(1, 'the build script is empty'),
    reference_datetime: z.string().regex(DATETIME, 'expected "YYYY-MM-DD HH:MM:SS" (UTC)').optional(),
    enable_cache: z.boolean().optional(),
    optionals: z.unknown().optional(),
    faketime: z.boolean().optional(),
    random: z.enum(['system', 'deterministic'], { message: 'random: "system" or "deterministic"' }).optional(),
    random_seed: z.string().min(1, 'random_seed is empty').optional(),
    single_cpu: z.boolean().optional(),
    aslr: z.boolean().optional(),
  })
  .strict()
  .refine((d) => d.reference_datetime !== undefined || d.remotes.length > 0, { message: 'give reference_datetime or at least one remote', path: ['reference_datetime'] })
  .refine((d) => d.random_seed === undefined || d.random === 'deterministic', { message: 'random_seed needs random: deterministic', path: ['random_seed'] });

export type Descriptor = z.infer<typeof DescriptorSchema>;

export class DescriptorError extends Error {}

/** Read and validate a descriptor; errors name the file and the field. */
export function loadDescriptor(file: string): Descriptor {
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DescriptorError(`${file}: ${(e as Error).message}`);
  }
  const r = DescriptorSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${file}: field ${i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)'}: ${i.message}`);
    throw new DescriptorError(lines.join('\n'));
  }
  return r.data;
}

/** "YYYY-MM-DD HH:MM:SS" in UTC to seconds since the epoch. */
export function parseDatetime(text: string): number {
  const m = DATETIME.exec(text);
  if (!m) throw new DescriptorError(`not a "YYYY-MM-DD HH:MM:SS" date: ${text}`);
  return Date.parse(text.replace(' ', 'T') + 'Z') / 1000;
}

export function formatDatetime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}
