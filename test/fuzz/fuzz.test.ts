/**
 * The in-process fuzz suite: seeded mutations of valid inputs of every format (test/fuzz/
 * seeds.ts, cases.ts), each normalized by the pipeline with every normalizer on (and a build
 * path, so elf runs). For every case: no fault of this program (TypeError, RangeError, ...); on
 * an error the input is byte-identical and no temporary file is left; on success, an output
 * that changed is accepted by the format's reader whenever the input was, and a second pass
 * changes nothing. `npm test` runs 3,000 cases; `npm run fuzz` 100,000 (FUZZ_CASES), and
 * FUZZ_SEED replays a run. A failure names the seed, the case number and the mutation, and
 * leaves its input in var/fuzz-failure/; FUZZ_ONLY=N runs that case alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_T, ROOT, tempDir } from '../lib/helpers.js';
import { normalizeFile } from '../../src/app/pipeline.js';
import { NORMALIZER_NAMES } from '../../src/app/registry.js';
import { accepts, mutate, rng } from './cases.js';
import { seeds } from './seeds.js';

const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
/** FUZZ_ONLY=N runs case N alone (with the same FUZZ_SEED). */
const ONLY = process.env.FUZZ_ONLY === undefined ? undefined : Number(process.env.FUZZ_ONLY);
/** A failing case's input is kept here, to replay by hand. */
const FAILURE = path.join(ROOT, 'var', 'fuzz-failure');

describe(`fuzz: ${CASES} cases, FUZZ_SEED=${SEED}`, () => {
  it('never faults, never changes an input it rejects, never accepts an output its reader rejects, and reaches a fixed point', async () => {
    const all = seeds();
    const dir = tempDir('snd-fuzz-');
    const options = { timestamp: FIXTURE_T, clamp: false, enabled: new Set(NORMALIZER_NAMES), verbose: false, buildPaths: [{ from: '/tmp', to: '/b' }], maxMemberBytes: 16 << 20 };
    const stats = { errors: 0, changed: 0, unchanged: 0, judged: 0 };
    for (let n = ONLY ?? 0; n < (ONLY === undefined ? CASES : ONLY + 1); n++) {
      const seed = all[n % all.length];
      const rand = rng(SEED ^ Math.imul(n + 1, 0x9e3779b1));
      const { what, bytes, name } = mutate(seed, rand);
      const where = `FUZZ_SEED=${SEED} case ${n} (${seed.label}, ${what}, as ${name})`;
      const target = path.join(dir, name);
      fs.writeFileSync(target, bytes);
      fs.rmSync(FAILURE, { recursive: true, force: true });
      fs.mkdirSync(FAILURE, { recursive: true });
      fs.writeFileSync(path.join(FAILURE, name), bytes); // removed again when the case passes
      const report = await normalizeFile(target, options);
      expect(report.internal, `${where}: fault: ${report.error}`).toBeUndefined();
      expect(fs.readdirSync(dir), `${where}: leftover files`).toEqual([name]);
      if (report.error !== undefined) {
        stats.errors++;
        expect(fs.readFileSync(target).equals(bytes), `${where}: changed despite "${report.error}"`).toBe(true);
      } else if (report.changed) {
        stats.changed++;
        if (seed.reader !== 'none' && name === seed.name) {
          const input = path.join(dir, `input-${name}`);
          fs.writeFileSync(input, bytes);
          const inputOk = accepts(seed.reader, input);
          fs.rmSync(input);
          if (inputOk) {
            stats.judged++;
            expect(accepts(seed.reader, target), `${where}: the ${seed.reader} reader accepts the input but rejects the output`).toBe(true);
          }
        }
        const second = await normalizeFile(target, options);
        expect(second.error, `${where}: second pass failed`).toBeUndefined();
        expect(second.changed, `${where}: second pass changed it again`).toBe(false);
      } else {
        stats.unchanged++;
        expect(fs.readFileSync(target).equals(bytes), `${where}: reported unchanged but changed`).toBe(true);
      }
      fs.rmSync(target);
      fs.rmSync(FAILURE, { recursive: true, force: true });
    }
    console.log(`fuzz: ${CASES} cases over ${all.length} seeds: ${stats.errors} clean errors, ${stats.changed} changed (${stats.judged} judged by their reader), ${stats.unchanged} unchanged`);
  }, 3_600_000);
});
