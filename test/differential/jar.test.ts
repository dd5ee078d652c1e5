/**
 * jar, war, hpi, sym, apk and jmod: archives from the JDK's `jar` and `jmod` tools (data
 * descriptors, the 0xCAFE extra field), python and yazl, exercising MANIFEST.MF headers,
 * javadoc pages, nested jars, .clj members, dropped members and signed jars. The Perl tool's
 * output is the oracle, except for the fixes in docs/compat.md, each shown against Perl here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithPerl, missing, PERL_TOOL, runOurs, sh, standardArgSets, tempDir, FIXTURE_T } from '../lib/helpers.js';
import { yazlZip } from '../lib/zips.js';

const skip = missing(PERL_TOOL, 'jar', 'javac', 'javadoc', 'unzip', 'python3');

/** Insert an APK Signing Block (v2 layout) before the central directory of a zip. */
function withSigningBlock(zip: Buffer): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1'));
  const cdOffset = zip.readUInt32LE(eocd + 16);
  const pair = Buffer.alloc(8 + 4 + 32);
  pair.writeBigUInt64LE(BigInt(4 + 32), 0);
  pair.writeUInt32LE(0x7109871a, 8);
  const size = BigInt(pair.length + 8 + 16);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(size);
  const block = Buffer.concat([head, pair, head, Buffer.from('APK Sig Block 42', 'latin1')]);
  const out = Buffer.concat([zip.subarray(0, cdOffset), block, zip.subarray(cdOffset)]);
  out.writeUInt32LE(cdOffset + block.length, eocd + block.length + 16);
  return out;
}

describe.skipIf(skip)('jar family: parity with the Perl tool', () => {
  const dir = tempDir();
  const src = path.join(dir, 'src', 'org', 'example');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'Greeter.java'), 'package org.example;\n/** Says hello. */\npublic class Greeter {\n  /** @return hi */\n  public String hello() { return "hi"; }\n}\n');
  sh('javac -d classes src/org/example/Greeter.java && javadoc -quiet -d classes/docs -sourcepath src org.example >/dev/null 2>&1', dir);
  fs.writeFileSync(path.join(dir, 'classes', 'core.clj'), '(ns core)\n');
  fs.writeFileSync(path.join(dir, 'classes', 'javac.sh'), 'javac ...\n');
  fs.writeFileSync(path.join(dir, 'classes', 'org.codehaus.plexus.compiler.javac.JavacCompiler123arguments'), '-g\n');
  fs.writeFileSync(path.join(dir, 'manifest.txt'), 'Built-By: builder\nBnd-LastModified: 1600000000000\nImplementation-Title: example\n');
  sh('jar cfm inner.jar manifest.txt -C classes org && jar cf plain.jar -C classes . && jar cfm app.jar manifest.txt -C classes . inner.jar', dir);
  sh('mkdir -p nest && cp app.jar nest/ && cp app.jar nest/app.war && cp inner.jar nest/plugin.hpi && jar cf0 stored.jar -C classes org', dir);
  fs.writeFileSync(path.join(dir, 'not-a-jar.jar.txt'), 'not a zip');
  const inputs = ['plain.jar', 'app.jar', 'inner.jar', 'stored.jar', 'nest/app.war', 'nest/plugin.hpi'].map((f) => path.join(dir, f));

  it('normalizes JDK jars byte-identically (manifest, javadoc, nested jars, .clj, dropped members)', async () => {
    expect(await compareWithPerl(inputs, standardArgSets())).toEqual([]);
  });

  it('agrees on python- and yazl-made jars, signed jars and bad nested members', async () => {
    const more = [
      await yazlZip(path.join(dir, 'yazl.sym'), [
        ['META-INF/MANIFEST.MF', Buffer.from('Manifest-Version: 1.0\r\nBuilt-By: me\r\n\r\n')],
        ['META-INF/', null],
        ['a/B.class', Buffer.from('cafebabe'.repeat(20))],
        ['lib/broken.jar', Buffer.from('this is not a zip file at all')],
      ]),
      await yazlZip(path.join(dir, 'signed.jar'), [
        ['META-INF/MANIFEST.MF', Buffer.from('Manifest-Version: 1.0\r\nBuilt-By: me\r\n\r\n')],
        ['META-INF/KEY.SF', Buffer.from('Signature-Version: 1.0\r\n')],
        ['a.txt', Buffer.from('a')],
      ]),
    ];
    expect(await compareWithPerl(more, standardArgSets())).toEqual([]);
  });

  it.skipIf(missing('jmod'))('jmod files from the JDK keep their header and normalize as jars', async () => {
    fs.mkdirSync(path.join(dir, 'mod', 'org', 'example'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'mod', 'module-info.java'), 'module org.example { exports org.example; }\n');
    fs.copyFileSync(path.join(src, 'Greeter.java'), path.join(dir, 'mod', 'org', 'example', 'Greeter.java'));
    sh('javac -d modclasses mod/module-info.java mod/org/example/Greeter.java && jmod create --class-path modclasses example.jmod', dir);
    expect(await compareWithPerl([path.join(dir, 'example.jmod')], standardArgSets())).toEqual([]);
  });

  it('outputs pass unzip -t, and MANIFEST.MF loses its build-machine headers', async () => {
    const work = tempDir();
    const target = path.join(work, 'app.jar');
    fs.copyFileSync(path.join(dir, 'app.jar'), target);
    expect((await runOurs(['-T', String(FIXTURE_T), target])).status).toBe(0);
    sh(`unzip -tq '${target}'`);
    const manifest = sh(`unzip -p '${target}' META-INF/MANIFEST.MF`);
    expect(manifest).not.toMatch(/Built-By|Bnd-LastModified/);
    expect(manifest).toContain('Implementation-Title: example');
    expect(sh(`unzip -Z1 '${target}'`).split('\n').slice(0, 2)).toEqual(['META-INF/', 'META-INF/MANIFEST.MF']);
    expect(sh(`unzip -Z1 '${target}'`)).not.toMatch(/javac\.sh|JavacCompiler123arguments/);
    const inner = path.join(work, 'inner.jar');
    fs.writeFileSync(inner, Buffer.from(sh(`unzip -p '${target}' inner.jar | base64 -w0`), 'base64'));
    sh(`unzip -tq '${inner}'`);
    expect(sh(`TZ=UTC unzip -Z -T '${inner}' | awk '/^[-dl]/ {print $7}' | sort -u`).trim()).toBe('20150205.180930');
  });

  it('fix: Built-By continuation lines are dropped with their header', async () => {
    const m = Buffer.from('Manifest-Version: 1.0\r\nBuilt-By: a-very-long-user-name-that-the-jar-tool-wraps-onto-a-continuation-line-\r\n here\r\nMain-Class: x.Y\r\n\r\n');
    const f = await yazlZip(path.join(dir, 'continued.jar'), [['META-INF/MANIFEST.MF', m]]);
    const work = tempDir();
    const target = path.join(work, 'continued.jar');
    fs.copyFileSync(f, target);
    expect((await runOurs(['-T', String(FIXTURE_T), target])).status).toBe(0);
    expect(sh(`unzip -p '${target}' META-INF/MANIFEST.MF`)).toBe('Manifest-Version: 1.0\r\nMain-Class: x.Y\r\n\r\n');
    const perl = path.join(work, 'perl.jar');
    fs.copyFileSync(f, perl);
    sh(`'${PERL_TOOL}' -T ${FIXTURE_T} '${perl}'`);
    expect(sh(`unzip -p '${perl}' META-INF/MANIFEST.MF`)).toContain(' here');
  });

  it('fix: .apk files are found by their bytes (Perl skips what file(1) calls "Android package")', async () => {
    const apk = await yazlZip(path.join(dir, 'app.apk'), [
      ['AndroidManifest.xml', Buffer.from('binary xml'.repeat(5))],
      ['classes.dex', Buffer.from('dex\n035\0'.repeat(10))],
    ]);
    const work = tempDir();
    const [ours, perl] = ['ours.apk', 'perl.apk'].map((n) => path.join(work, n));
    fs.copyFileSync(apk, ours);
    fs.copyFileSync(apk, perl);
    expect((await runOurs(['-T', String(FIXTURE_T), ours])).status).toBe(0);
    sh(`'${PERL_TOOL}' -T ${FIXTURE_T} '${perl}'`);
    expect(fs.readFileSync(perl).equals(fs.readFileSync(apk))).toBe(true);
    expect(fs.readFileSync(ours).equals(fs.readFileSync(apk))).toBe(false);
    sh(`unzip -tq '${ours}'`);
  });

  it('fix: an APK Signing Block is never silently stripped (Perl drops it)', async () => {
    const base = await yazlZip(path.join(dir, 'base.apk'), [['res/raw/a.txt', Buffer.from('resource data here')], ['AndroidManifest.xml', Buffer.from('x'.repeat(40))]]);
    const signed = path.join(dir, 'signed.apk');
    fs.writeFileSync(signed, withSigningBlock(fs.readFileSync(base)));
    const work = tempDir();
    const [ours, perl] = ['ours.apk', 'perl.apk'].map((n) => path.join(work, n));
    fs.copyFileSync(signed, ours);
    fs.copyFileSync(signed, perl);
    // file(1) calls it an APK so Perl's detection skips it; forced with -t jar, Perl strips it.
    const r = await runOurs(['-t', 'jar', '-T', String(FIXTURE_T), ours]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('APK Signing Block');
    expect(fs.readFileSync(ours).equals(fs.readFileSync(signed))).toBe(true);
    sh(`'${PERL_TOOL}' -t jar -T ${FIXTURE_T} '${perl}'`);
    expect(fs.readFileSync(perl).includes('APK Sig Block 42')).toBe(false);
  });
});
