/**
 * Mutated inputs: every upstream fixture truncated at many points and with bytes flipped in its
 * headers and body (a fixed pseudo-random sequence, so failures reproduce). For each one the
 * pipeline must finish (no hang, no crash), and when it reports an error the file must be
 * byte-identical and no temporary file left behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, UPSTREAM, FIXTURE_T } from './lib/helpers.js';
import { normalizeFile } from '../src/pipeline.js';
import { mutations } from './lib/mutate.js';
import { NORMALIZER_NAMES } from '../src/registry.js';

const fixtures = fs
  .readdirSync(UPSTREAM, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'failures')
  .flatMap((d) => fs.readdirSync(path.join(UPSTREAM, d.name)).filter((f) => f.endsWith('.in')).map((f) => path.join(d.name, f)));

describe('mutated fixtures never hang, crash, or half-write', () => {
  for (const [n, rel] of fixtures.entries()) {
    it(rel, async () => {
      const input = fs.readFileSync(path.join(UPSTREAM, rel));
      const dir = tempDir();
      const name = path.basename(rel, '.in');
      const target = path.join(dir, name);
      for (const [what, bytes] of mutations(input, 0x9e3779b9 ^ (n * 7919))) {
        fs.writeFileSync(target, bytes);
        const report = await normalizeFile(target, { timestamp: FIXTURE_T, clamp: false, enabled: new Set(NORMALIZER_NAMES), verbose: false });
        if (report.error !== undefined) {
          expect(fs.readFileSync(target).equals(bytes), `${rel}, ${what}: changed despite "${report.error}"`).toBe(true);
        }
        expect(fs.readdirSync(dir), `${rel}, ${what}`).toEqual([name]);
      }
    }, 60_000);
  }
});
