/**
 * Writing results: temp file beside the target, fsync, rename; mode, owner and the file's own
 * times kept (to the microsecond, never earlier); every hard-linked name given sees the new bytes,
 * others keep the old with a warning; unchanged files are not rewritten; a failure
 * mid-write leaves the original byte-identical and no temporary file behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, tempDir, UPSTREAM, FIXTURE_T, whileUnwritable } from './lib/helpers.js';
import { normalizeFile } from '../src/app/pipeline.js';
import type { Handler } from '../src/kit/handler.js';
import { DEFAULT_ENABLED } from '../src/app/registry.js';

const GZ = path.join(UPSTREAM, 'gzip/vimoutliner_vo_readme_txt.gz.in');
const GZ_OUT = fs.readFileSync(path.join(UPSTREAM, 'gzip/vimoutliner_vo_readme_txt.gz.out'));
const OLD = new Date('2001-02-03T04:05:06Z');

function setup(mode = 0o640): { dir: string; target: string } {
  const dir = tempDir();
  const target = path.join(dir, 'doc.gz');
  fs.copyFileSync(GZ, target);
  fs.chmodSync(target, mode);
  fs.utimesSync(target, OLD, OLD);
  return { dir, target };
}

const normalize = (...files: string[]) => runBin(['-T', String(FIXTURE_T), ...files]);

describe('replacing a file', () => {
  it('keeps mode and mtime, leaves no temporary file', () => {
    const { dir, target } = setup(0o4751);
    expect(normalize(target).status).toBe(0);
    const st = fs.statSync(target);
    expect(fs.readFileSync(target).equals(GZ_OUT)).toBe(true);
    expect(st.mode & 0o7777).toBe(0o4751);
    expect(st.mtime.getTime()).toBe(OLD.getTime());
    expect(fs.readdirSync(dir)).toEqual(['doc.gz']);
  });

  it.skipIf(process.getuid?.() !== 0)('keeps the owner (needs root to chown)', () => {
    const { target } = setup();
    fs.chownSync(target, 1234, 5678);
    expect(normalize(target).status).toBe(0);
    const st = fs.statSync(target);
    expect([st.uid, st.gid]).toEqual([1234, 5678]);
  });

  it('gives every hard-linked name the new bytes', () => {
    const { dir, target } = setup();
    const other = path.join(dir, 'other-name.gz');
    fs.linkSync(target, other);
    expect(normalize(target).status).toBe(0);
    expect(fs.readFileSync(other).equals(GZ_OUT)).toBe(true);
    expect(fs.statSync(other).ino).toBe(fs.statSync(target).ino);
    expect(fs.statSync(target).mtime.getTime()).toBe(OLD.getTime());
    expect(fs.readdirSync(dir).sort()).toEqual(['doc.gz', 'other-name.gz']);
  });

  it('leaves a hard link in another directory on the old bytes, and says so', () => {
    const { dir, target } = setup();
    const other = path.join(tempDir(), 'other-name.gz');
    fs.linkSync(target, other);
    const r = normalize(target);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`${target}: 1 other hard link to it, not among the files given, keeps the old bytes`);
    expect(fs.readFileSync(target).equals(GZ_OUT)).toBe(true);
    expect(fs.readFileSync(other).equals(fs.readFileSync(GZ))).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['doc.gz']);
  });

  it('keeps the mtime to the microsecond, never earlier', () => {
    const { target } = setup();
    const ns = 1_600_000_000_123_456_789n;
    const seconds = Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
    fs.utimesSync(target, seconds, seconds);
    const before = fs.statSync(target, { bigint: true }).mtimeNs;
    expect(normalize(target).status).toBe(0);
    const after = fs.statSync(target, { bigint: true }).mtimeNs;
    expect(after >= before).toBe(true);
    expect(after - before < 1000n).toBe(true);
    expect(fs.readFileSync(target).equals(GZ_OUT)).toBe(true);
  });

  it('follows a symlink given on the command line and keeps the link', () => {
    const { dir, target } = setup();
    const link = path.join(dir, 'link.gz');
    fs.symlinkSync('doc.gz', link);
    expect(normalize(link).status).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target).equals(GZ_OUT)).toBe(true);
  });

  it('does not rewrite a file whose bytes would not change', () => {
    const { target } = setup();
    fs.writeFileSync(target, GZ_OUT);
    fs.utimesSync(target, OLD, OLD);
    const before = fs.statSync(target);
    expect(normalize(target).status).toBe(0);
    const after = fs.statSync(target);
    expect(after.ino).toBe(before.ino);
    expect(after.ctimeMs).toBe(before.ctimeMs);
  });

  it('leaves the original intact and no temporary file when the handler fails mid-write', async () => {
    const { dir, target } = setup();
    const failing: Handler = {
      name: 'failing',
      defaultEnabled: true,
      matchName: () => true,
      detect: () => true,
      async normalize(src, sink) {
        await sink.write(Buffer.alloc(300_000, 1)); // past the sink's buffer: a real write happens
        await sink.copyFrom(src, 0, 100);
        throw new Error('simulated failure');
      },
    };
    const r = await normalizeFile(target, { clamp: false, enabled: DEFAULT_ENABLED, verbose: false, forced: failing, timestamp: 1 });
    expect(r.error).toBe('simulated failure');
    expect(r.exitCode).toBe(255);
    expect(fs.readFileSync(target).equals(fs.readFileSync(GZ))).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['doc.gz']);
  });

  it('reports a file it cannot replace, leaving it untouched', (ctx) => {
    const { dir, target } = setup();
    const ran = whileUnwritable(dir, () => {
      const r = normalize(target);
      expect(r.status).toBe(255);
      expect(r.stderr).toContain(`strip-nondeterminism: ${target}: `);
      expect(fs.readFileSync(target).equals(fs.readFileSync(GZ))).toBe(true);
    });
    if (!ran) ctx.skip();
    expect(fs.readdirSync(dir)).toEqual(['doc.gz']);
  });
});
