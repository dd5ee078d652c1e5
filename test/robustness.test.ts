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
import { NORMALIZER_NAMES } from '../src/registry.js';

function* mutations(input: Buffer, seed: number): Generator<[string, Buffer]> {
  let x = seed >>> 0 || 1;
  const rand = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  for (let i = 0; i < 12; i++) {
    const cut = rand(input.length);
    yield [`truncated at ${cut}`, input.subarray(0, cut)];
  }
  for (let i = 0; i < 24; i++) {
    const b = Buffer.from(input);
    const n = 1 + rand(4);
    const spots: number[] = [];
    for (let k = 0; k < n; k++) {
      // Half the flips land in the first 256 bytes, where most headers are.
      const at = rand(2) ? rand(Math.min(256, b.length)) : rand(b.length);
      b[at] ^= 1 + rand(255);
      spots.push(at);
    }
    yield [`bytes flipped at ${spots.join(',')}`, b];
  }
}

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
