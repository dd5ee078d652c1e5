/**
 * rpm packages. Producer: Debian's rpmbuild (rpm 4.18), one spec with a jar, a .gz, a png, a C
 * program, a hard link and a symlink, built at other times (faketime), on other host names (a UTS
 * namespace) and in build directories of other lengths. Oracles: rpm itself (rpm -K, -qp --dump,
 * rpm2cpio, an install into a scratch root verified with rpm -V), cpio, and sha256sum of the
 * extracted files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, missing, runBin, sh, tempDir } from '../../lib/helpers.js';

const T = 1700000000;
const skip = missing('rpmbuild', 'rpm', 'rpm2cpio', 'cpio', 'faketime', 'unshare', 'gcc', 'jar', 'gzip', 'python3');
const MACROS = path.join(ROOT, 'rpm', 'macros.strip-nondeterminism');

const SPEC = (note: string, leakPath = false) => `Name: snd-demo
Version: 1.0
Release: 1
Summary: demo
License: MIT
%description
demo
%build
${leakPath ? "printf '#include <stdio.h>\\nint main(void) { puts(__FILE__); return 0; }\\n' > hello.c\ngcc -O2 -o hello $PWD/hello.c" : "printf 'int main(void) { return 0; }\\n' > hello.c\ngcc -O2 -o hello hello.c"}
mkdir -p j && echo hi > j/a.txt && (cd j && jar cf ../demo.jar a.txt)
echo "${note}" > notes.txt && gzip -9 notes.txt
python3 -c "import zlib,struct,time
def chunk(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d)&0xffffffff)
png=b'\\x89PNG\\r\\n\\x1a\\n'+chunk(b'IHDR',struct.pack('>IIBBBBB',1,1,8,0,0,0,0))+chunk(b'tIME',struct.pack('>HBBBBB',*time.gmtime()[:6]))+chunk(b'IDAT',zlib.compress(b'\\x00\\x00'))+chunk(b'IEND',b'')
open('pic.png','wb').write(png)"
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/share/snd-demo
install -m755 hello %{buildroot}/usr/bin/hello
install -m644 demo.jar notes.txt.gz pic.png %{buildroot}/usr/share/snd-demo/
ln %{buildroot}/usr/share/snd-demo/pic.png %{buildroot}/usr/share/snd-demo/pic2.png
ln -s hello %{buildroot}/usr/bin/hello2
%files
/usr/bin/hello
/usr/bin/hello2
/usr/share/snd-demo
%changelog
* Mon Nov 30 2026 A B <a@example.org> - 1.0-1
- first
`;

interface Build {
  /** faketime's time, or none for now. */
  time?: string;
  host?: string;
  /** `_binary_payload`, rpmbuild's default (gzip 9) when absent. */
  payload?: string;
  note?: string;
  macros?: boolean;
  /** A source package (rpmbuild -bs). */
  source?: boolean;
  /** The program holds its build path (__FILE__ of an absolute name). */
  leakPath?: boolean;
}

let work: string;
let builds = 0;

/** rpmbuild the spec once, in a build directory of its own (each one a different length). */
function rpmbuild(b: Build = {}): string {
  const top = path.join(work, `top-${'x'.repeat(++builds)}`);
  fs.mkdirSync(top);
  const spec = path.join(top, 'demo.spec');
  fs.writeFileSync(spec, SPEC(b.note ?? 'some text', b.leakPath));
  const defines = [`--define '_topdir ${top}'`, b.payload ? `--define '_binary_payload ${b.payload}'` : '', b.macros ? `--load '${MACROS}'` : ''].join(' ');
  const build = `rpmbuild ${defines} ${b.source ? '-bs' : '-bb'} '${spec}'`;
  const timed = b.time ? `faketime '${b.time}' ${build}` : build;
  const cmd = b.host ? `unshare -u sh -c "hostname ${b.host} && ${timed.replace(/"/g, '\\"')}"` : timed;
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', env: { ...process.env, PATH: `${path.join(ROOT, 'bin')}:${process.env.PATH}` } });
  if (r.status !== 0) throw new Error(`rpmbuild failed: ${r.stdout}\n${r.stderr}`);
  const rpm = sh(`find '${top}/${b.source ? 'SRPMS' : 'RPMS'}' -name '*.rpm'`).trim();
  const out = path.join(work, `build${builds}.rpm`);
  fs.copyFileSync(rpm, out);
  return out;
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const copy = (file: string, name: string) => {
  const to = path.join(work, name);
  fs.copyFileSync(file, to);
  return to;
};

interface DumpLine {
  path: string;
  size: number;
  mtime: number;
  digest: string;
  mode: string;
}

function dump(rpm: string): DumpLine[] {
  return sh(`rpm -qp --dump '${rpm}'`).trim().split('\n').map((l) => {
    const [p, size, mtime, digest, mode] = l.split(' ');
    return { path: p, size: Number(size), mtime: Number(mtime), digest, mode };
  });
}

/** The payload, extracted by rpm2cpio and cpio. */
function extract(rpm: string): string {
  const dir = tempDir('snd-rpmx-');
  sh(`rpm2cpio '${rpm}' | cpio -idm --quiet`, dir);
  return dir;
}

/** What rpm itself checks: digests, the file list against the payload, an install that verifies. */
function expectVerifies(rpm: string): void {
  expect(sh(`rpm -K --nosignature '${rpm}'`)).toMatch(/digests OK/);
  const dir = extract(rpm);
  for (const f of dump(rpm)) {
    const on = path.join(dir, f.path);
    if (f.mode.startsWith('0100')) {
      expect(fs.statSync(on).size, f.path).toBe(f.size);
      expect(sha256(on), f.path).toBe(f.digest);
    }
    // cpio -m sets a regular file's mtime only (a directory's moves as files land in it).
    if (f.mode.startsWith('0100')) expect(fs.statSync(on).mtimeMs / 1000, f.path).toBe(f.mtime);
  }
  const root = tempDir('snd-rpmroot-');
  sh(`rpm --root '${root}' -i --nodeps --nosignature '${rpm}' 2>/dev/null`);
  const v = spawnSync('rpm', ['--root', root, '-V', '--nodeps', 'snd-demo'], { encoding: 'utf8' });
  expect(v.stdout + v.stderr, 'rpm -V').toBe('');
  expect(v.status).toBe(0);
}

const cpioList = (rpm: string) => sh(`rpm2cpio '${rpm}' | cpio -it --quiet`);

describe.skipIf(skip)('rpm', () => {
  let first: string;
  let second: string;
  beforeAll(() => {
    work = tempDir('snd-rpm-');
    first = rpmbuild();
    second = rpmbuild({ time: '2025-03-04 05:06:07', host: 'otherhost' });
  }, 120_000);

  it('two builds at other times, on other hosts, in other directories normalize to identical packages rpm verifies and installs', () => {
    expect(sha256(first)).not.toBe(sha256(second));
    const [a, b] = [copy(first, 'a.rpm'), copy(second, 'b.rpm')];
    const r = runBin(['-T', String(T), a, b]);
    expect(r.status, r.stderr).toBe(0);
    expect(sha256(a)).toBe(sha256(b));
    expectVerifies(a);
    expect(cpioList(a)).toBe(cpioList(first));
    expect(sh(`rpm -qp --qf '%{BUILDTIME} %{BUILDHOST}' '${a}'`)).toBe(`${T} build`);
    expect(sh(`rpm -qpl '${a}'`)).toBe(sh(`rpm -qpl '${first}'`));
    // The members went through their own normalizers: the jar's entries carry T, the .gz no name.
    const x = extract(a);
    expect(sh(`unzip -Z -T '${x}/usr/share/snd-demo/demo.jar'`)).toMatch(/20231114\.221320/);
    expect(sh(`file '${x}/usr/share/snd-demo/notes.txt.gz'`)).not.toMatch(/was "/);
    // A second run changes nothing.
    const again = runBin(['-T', String(T), '--check', a]);
    expect(again.status, again.stdout + again.stderr).toBe(0);
  });

  it.each([
    ['xz', 'w2.xzdio'],
    ['zstd', 'w19.zstdio'],
    ['bzip2', 'w9.bzdio'],
    ['lzma', 'w6.lzdio'],
    ['no compression', 'w.ufdio'],
  ])('payloads compressed with %s: identical after normalizing, verified, compressor and level kept', (_label, payload) => {
    const [a, b] = [rpmbuild({ payload }), rpmbuild({ payload, time: '2024-01-02 03:04:05', host: 'h2' })];
    const r = runBin(['-T', String(T), a, b]);
    expect(r.status, r.stderr).toBe(0);
    expect(sha256(a)).toBe(sha256(b));
    expectVerifies(a);
    const qf = `rpm -qp --qf '%{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS}'`;
    expect(sh(`${qf} '${a}'`)).toBe(sh(`${qf} '${first}'`.replace(first, a)));
  }, 60_000);

  it('--identity: equal for the two raw builds and for another compressor, different when a file differs; diff names the member', () => {
    const other = rpmbuild({ note: 'other text' });
    const xz = rpmbuild({ payload: 'w2.xzdio' });
    const r = runBin(['--identity', first, second, other, xz]);
    expect(r.status, r.stderr).toBe(0);
    const ids = r.stdout.trim().split('\n').map((l) => l.split('  ')[0]);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(ids[3]).toBe(ids[0]); // rpmlib(PayloadIsXz) and the compressor are packing
    const d = runBin(['diff', first, other]);
    expect(d.status).toBe(1);
    expect(d.stdout.trim().split('\n')).toEqual([expect.stringMatching(/\/usr\/share\/snd-demo\/notes\.txt\.gz: content differs/)]);
    expect(runBin(['diff', first, second]).stdout.trim()).toBe('identical after normalization');
  }, 60_000);

  it('the macros file: rpmbuild runs --brp over the build root, and the package needs no normalizing after', () => {
    const built = rpmbuild({ macros: true, time: '2025-06-07 08:09:10' });
    const sde = sh(`rpm -qp --qf '%{BUILDTIME}' '${built}'`);
    expect(Number(sde)).toBe(Date.UTC(2026, 10, 30) / 1000); // the changelog's date
    expect(sh(`rpm -qp --qf '%{BUILDHOST}' '${built}'`)).toBe('build');
    const x = extract(built);
    expect(sh(`unzip -Z -T '${x}/usr/share/snd-demo/demo.jar'`)).toMatch(/20261130\.000000/);
    const r = runBin(['--check', '--clamp-timestamp', '-T', sde, built]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 60_000);

  it('source packages: COOKIE and the build root in SPEC (with --build-path) normalize; the spec stays as written', () => {
    const [a, b] = [rpmbuild({ source: true }), rpmbuild({ source: true, time: '2025-03-04 05:06:07', host: 'otherhost' })];
    const tops = [a, b].map((f) => path.join(work, `top-${'x'.repeat(Number(/build(\d+)/.exec(f)![1]))}`));
    expect(sh(`rpm -qp --qf '%{SPEC}' '${a}'`)).toContain(`${tops[0]}/BUILDROOT`);
    for (const [i, f] of [a, b].entries()) {
      const r = runBin(['-T', String(T), '--build-path', tops[i], f]);
      expect(r.status, r.stderr).toBe(0);
    }
    expect(sha256(a)).toBe(sha256(b));
    expect(sh(`rpm -K --nosignature '${a}'`)).toMatch(/digests OK/);
    expect(sh(`rpm -qp --qf '%{COOKIE}|%{BUILDHOST}|%{BUILDTIME}' '${a}'`)).toBe(`build ${T}|build|${T}`);
    expect(sh(`rpm -qp --qf '%{SPEC}' '${a}'`)).toContain('/build/BUILDROOT/snd-demo');
    expect(sh(`rpm2cpio '${a}' | cpio -i --quiet --to-stdout demo.spec`)).toBe(SPEC('some text'));
  }, 60_000);

  it('--build-path scrubs a binary; its new build-id is said not to match the .build-id link', () => {
    const rpm = rpmbuild({ leakPath: true });
    const top = path.join(work, `top-${'x'.repeat(Number(/build(\d+)/.exec(rpm)![1]))}`);
    const r = runBin(['-T', String(T), '--build-path', top, rpm]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/usr\/bin\/hello and maybe other ELF files got new build-ids; the package's \/usr\/lib\/\.build-id links keep the old ones/);
    expectVerifies(rpm);
    const x = extract(rpm);
    expect(sh(`strings '${x}/usr/bin/hello'`)).toMatch(/^\/build\/+BUILD\/hello\.c$/m); // same length, padded with slashes
  }, 60_000);

  it('--brp: RPM_BUILD_ROOT must be set, and every path must lie inside it', () => {
    const root = tempDir('snd-brp-');
    fs.mkdirSync(path.join(root, 'usr'));
    const outside = tempDir('snd-brp-out-');
    fs.symlinkSync(outside, path.join(root, 'link'));
    expect(runBin(['--brp', root]).stderr).toMatch(/RPM_BUILD_ROOT is not set/);
    const env = { RPM_BUILD_ROOT: root };
    expect(runBin(['--brp', outside], env).stderr).toMatch(/is not inside RPM_BUILD_ROOT/);
    expect(runBin(['--brp', path.join(root, 'link', 'x')], env).stderr).toMatch(/is not inside RPM_BUILD_ROOT/);
    expect(runBin(['--brp', path.join(root, 'usr', '..', '..')], env).stderr).toMatch(/is not inside RPM_BUILD_ROOT/);
    const ok = runBin(['--brp'], env);
    expect(ok.status, ok.stderr).toBe(0);
    expect(runBin(['--brp', path.join(root, 'usr')], env).status).toBe(0);
  });

  it.skipIf(missing('rpmsign', 'gpg'))('a signed package is left alone with its warning; --rpm-strip-signatures normalizes it', () => {
    const home = tempDir('snd-gpg-');
    const env = { ...process.env, GNUPGHOME: home };
    spawnSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'snd test <t@example.org>', 'rsa2048', 'sign', 'never'], { env });
    const signed = copy(first, 'signed.rpm');
    const s = spawnSync('rpmsign', ['--addsign', '--define', '_gpg_name snd test', '--define', '__gpg /usr/bin/gpg', signed], { env, encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
    const before = sha256(signed);
    const r = runBin(['-T', String(T), signed]);
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/signed package \(RSA header signature\); left unchanged/);
    expect(sha256(signed)).toBe(before);
    const stripped = runBin(['-T', String(T), '--rpm-strip-signatures', signed]);
    expect(stripped.status, stripped.stderr).toBe(0);
    expect(sh(`rpm -qp --qf '%{RSAHEADER:pgpsig}' '${signed}'`)).toBe('(none)');
    expectVerifies(signed);
    const plain = copy(first, 'plain.rpm');
    runBin(['-T', String(T), plain]);
    expect(fs.statSync(signed).size).toBe(fs.statSync(plain).size); // the signature's room is reserved space again
    expect(sh(`rpm -qp --dump '${signed}'`)).toBe(sh(`rpm -qp --dump '${plain}'`));
  }, 60_000);

  describe('damaged packages: a clean error naming the file and the problem, the file unchanged', () => {
    /** Where the main header starts, and its index count. */
    const layout = (b: Buffer) => {
      const sigSize = 16 + b.readUInt32BE(96 + 8) * 16 + b.readUInt32BE(96 + 12);
      const main = 96 + sigSize + ((8 - (sigSize % 8)) % 8);
      return { main, il: b.readUInt32BE(main + 8), dl: b.readUInt32BE(main + 12) };
    };
    const cases: [string, (b: Buffer) => Buffer, RegExp][] = [
      ['a truncated signature header', (b) => b.subarray(0, 96 + 40), /truncated rpm signature header/],
      ['a truncated main header', (b) => b.subarray(0, layout(b).main + 200), /truncated rpm main header/],
      ['an index entry pointing past the data store', (b) => {
        const { main } = layout(b);
        b.writeUInt32BE(0x7ffffff0, main + 16 + 16 + 8);
        return b;
      }, /offset \d+ is outside the data store/],
      ['a string array count running past the store', (b) => {
        const { main, il } = layout(b);
        for (let i = 0; i < il; i++) if (b.readUInt32BE(main + 16 + i * 16 + 4) === 8) b.writeUInt32BE(100000, main + 16 + i * 16 + 12);
        return b;
      }, /not terminated inside the data store/],
      ['an index count of 70000', (b) => {
        b.writeUInt32BE(70000, layout(b).main + 8);
        return b;
      }, /70000 index entries/],
      ['a damaged payload', (b) => {
        b[b.length - 100] ^= 0xff;
        return b;
      }, /payload does not match its PAYLOADDIGEST/],
      ['a cut payload', (b) => b.subarray(0, b.length - 300), /payload does not match|truncated/],
      ['a changed header value', (b) => {
        const { main, il, dl } = layout(b);
        const store = main + 16 + il * 16;
        b[store + dl - 20] ^= 0x01;
        return b;
      }, /does not match its SHA256 digest|not terminated|bad region/],
    ];
    it.each(cases)('%s', (_label, damage, message) => {
      const file = path.join(work, 'damaged.rpm');
      fs.writeFileSync(file, damage(Buffer.from(fs.readFileSync(first))));
      const before = sha256(file);
      const r = runBin(['-T', String(T), file]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(message);
      expect(sha256(file)).toBe(before);
    });
  });
});
