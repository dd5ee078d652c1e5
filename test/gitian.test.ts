/**
 * The Gitian-style runner (issue 6), end to end on a real minbase base made by mmdebstrap from
 * Debian's mirror. Oracles: sha256 of the base tarballs, the programs built (run here), tar and
 * unzip reading the outputs, gpg verifying signatures, and two builds' result files.
 * Needs root (bubblewrap over a root-owned tree, mmdebstrap), bwrap, mmdebstrap, qemu, gpg, git.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, missing, sh, tempDir } from './lib/helpers.js';

const notRoot = process.getuid?.() !== 0 ? 'skipped: the runner tests need root (.ci/run runs as root)' : undefined;
if (notRoot) console.warn(notRoot);
const skip = notRoot ?? missing('bwrap', 'mmdebstrap', 'qemu-system-x86_64', 'gpg', 'git', 'mke2fs', 'depmod', 'cpio');
const CACHE = path.join(ROOT, 'var', 'gitian');
const PACKAGES = ['gcc', 'libc6-dev', 'make', 'fastjar', 'zip'];
const LONG = 15 * 60 * 1000;

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function tool(name: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', name), ...args], { cwd, encoding: 'utf8', env: { ...process.env, GITIAN_CACHE: CACHE, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A local git repository with a C program. */
function makeRepo(): { url: string; commit: string } {
  const repo = tempDir('snd-gitian-repo-');
  fs.writeFileSync(path.join(repo, 'hello.c'), '#include <stdio.h>\nint main(void) { printf("hello from %s\\n", __FILE__); return 0; }\n');
  fs.writeFileSync(path.join(repo, 'Makefile'), 'hello: hello.c\n\t$(CC) -g -O2 -o $@ $(CURDIR)/hello.c\n');
  sh('git init -q && git add . && git -c user.name=T -c user.email=t@example.org commit -q -m one --date "2024-03-01 12:00:00 +0000"', repo, { GIT_COMMITTER_DATE: '2024-03-01 12:00:00 +0000' });
  return { url: repo, commit: sh('git rev-parse HEAD', repo).trim() };
}

function descriptor(name: string, url: string, script: string, extra = '', packages = PACKAGES): string {
  const indented = script
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `---\nname: "${name}"\ndistro: "debian"\nsuites:\n- "bookworm"\narchitectures:\n- "amd64"\npackages:\n${packages.map((p) => `- "${p}"`).join('\n')}\nremotes:\n- "url": "${url}"\n  "dir": "src"\nfiles: []\n${extra}script: |\n${indented}\n`;
}

/** A fresh Gitian working directory holding one descriptor. */
function workdir(name: string, url: string, script: string, extra = '', packages = PACKAGES): { dir: string; desc: string } {
  const dir = tempDir(`snd-gitian-${name}-`);
  fs.writeFileSync(path.join(dir, `${name}.yml`), descriptor(name, url, script, extra, packages));
  return { dir, desc: `${name}.yml` };
}

const HELLO = `
cd src
make
chmod 0755 hello
cp hello "$OUTDIR/"
tar -czf "$OUTDIR/hello.tar.gz" hello.c Makefile hello
mkdir -p jar/doc && cp hello.c jar/doc/
fastjar cf "$OUTDIR/hello.jar" -C jar doc
`;

// Date (mtimes, under faketime in the varied build), host name and build path (in an HTML page)
// and file order (shuffled) leak into a tarball and a zip: all of it the normalizer removes.
const LEAKY = `
echo "host=$(hostname) pwd=$PWD user=$(id -un) umask=$(umask) tz=$TZ cpus=$(nproc) year=$(date +%Y)"
mkdir -p pkg/docs
for f in one two three four five six; do echo "$f" > "pkg/$f.txt"; touch -d "$(date)" "pkg/$f.txt"; done
echo "<html><body><p>Built on $(hostname) in $PWD</p></body></html>" > pkg/docs/index.html
chmod -R go-w pkg  # modes are the script's to fix: --vary tries umask 002
find pkg -type f | shuf > list
tar -cf - -T list | gzip > "$OUTDIR/leaky.tar.gz"
zip -q "$OUTDIR/leaky.zip" -@ < list
`;

// What a build can read that is random: the devices, python, getrandom(3), getentropy(3) and
// arc4random(3) from C, the CPUs, a stack address. Into the outputs. What escapes the preloaded
// library (the kernel's AT_RANDOM, the raw syscall) goes to the log, to be measured.
const PROBE = `
cat > probe.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>
static void hex(const char *what, const unsigned char *b, int n) {
  printf("%s ", what);
  for (int i = 0; i < n; i++) printf("%02x", b[i]);
  printf("\\n");
}
int main(void) {
  unsigned char a[16], b[16], raw[16];
  int local;
  if (getrandom(a, sizeof a, 0) != sizeof a || getentropy(b, sizeof b) != 0) return 1;
  hex("getrandom", a, 16);
  hex("getentropy", b, 16);
  printf("arc4random %08x\\nstack %p\\n", arc4random(), (void *)&local);
  syscall(SYS_getrandom, raw, sizeof raw, 0);
  const unsigned char *at = (const unsigned char *)getauxval(AT_RANDOM);
  fprintf(stderr, "escapes: raw-syscall %02x%02x%02x%02x AT_RANDOM %02x%02x%02x%02x\\n", raw[0], raw[1], raw[2], raw[3], at[0], at[1], at[2], at[3]);
  return 0;
}
C
gcc -O2 -o probe probe.c
{
  echo "urandom $(od -An -N16 -tx1 /dev/urandom | tr -d ' \\n')"
  echo "random $(od -An -N16 -tx1 /dev/random | tr -d ' \\n')"
  if command -v python3 >/dev/null; then python3 -c 'import os; print("python", os.urandom(16).hex())'; fi
  ./probe
  echo "nproc $(nproc)"
} > "$OUTDIR/probe.txt"
`;
// A listing in readdir order, and what the other variations change, into the log.
const ORDER = `
mkdir d
for f in one two three four five six seven; do echo $f > d/$f; done
ls -U d > "$OUTDIR/listing.txt"
echo "uname=$(uname -r) home=$HOME capture=\${CAPTURE_ENVIRONMENT:-} personality=$(cat /proc/self/personality) nproc=$(nproc)"
`;
const PINNED = 'random: deterministic\nsingle_cpu: true\naslr: false\n';
const PROBE_PACKAGES = [...PACKAGES, 'python3'];

/** The deterministic stream's first bytes, computed here from its definition (docs/gitian.md). */
function stream(seedText: string, bytes: number): string {
  const seed = crypto.createHash('sha256').update(seedText).digest();
  const blocks = Array.from({ length: Math.ceil(bytes / 32) }, (_, i) => {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(i));
    return crypto.createHash('sha256').update(seed).update(counter).digest();
  });
  return Buffer.concat(blocks).subarray(0, bytes).toString('hex');
}

describe.skipIf(skip)('gbuild, gsign, gverify', () => {
  let repo: { url: string; commit: string };
  beforeAll(() => {
    repo = makeRepo();
    // The shared base (cached in var/gitian across runs): made here once, timed separately.
    const r = tool('make-base-vm', ['--suite', 'bookworm', '--arch', 'amd64', '--packages', PACKAGES.join(',')], ROOT);
    expect(r.status, r.stderr).toBe(0);
  }, LONG);

  it('make-base-vm makes a bit-reproducible base under SOURCE_DATE_EPOCH, keyed and cached', () => {
    const sums = [0, 1].map(() => {
      const cache = tempDir('snd-gitian-base-');
      const r = tool('make-base-vm', ['--suite', 'bookworm'], ROOT, { GITIAN_CACHE: cache, SOURCE_DATE_EPOCH: '1700000000' });
      expect(r.status, r.stderr).toBe(0);
      const tarball = r.stdout.trim();
      expect(path.dirname(tarball)).toBe(cache);
      expect(fs.existsSync(tarball.replace(/\.tar$/, '.manifest'))).toBe(true);
      // Asked again: the cached file, not a new one.
      const again = tool('make-base-vm', ['--suite', 'bookworm'], ROOT, { GITIAN_CACHE: cache, SOURCE_DATE_EPOCH: '1700000000' });
      expect(again.stderr).toContain('Using cached base');
      expect(sh(`tar -tvf '${tarball}' ./home/build/`)).toContain('1000/1000');
      return sh(`sha256sum < '${tarball}'`);
    });
    expect(sums[0]).toBe(sums[1]);
  }, LONG);

  it('builds a C program, a tar.gz and a jar from a local git repository; two builds give identical result files', () => {
    const { dir, desc } = workdir('hello', repo.url, HELLO);
    const results = [0, 1].map(() => {
      const r = tool('gbuild', ['--commit', `src=${repo.commit}`, desc], dir);
      expect(r.status, r.stderr).toBe(0);
      return fs.readFileSync(path.join(dir, 'result', 'hello-res.yml'), 'utf8');
    });
    expect(results[0]).toBe(results[1]);
    const out = path.join(dir, 'build', 'out');
    // The manifest lists the outputs with their real digests.
    for (const f of ['hello', 'hello.jar', 'hello.tar.gz']) expect(results[0]).toContain(`${sh(`sha256sum < '${out}/${f}'`).split(' ')[0]}  ${f}\n`);
    expect(results[0]).toContain(`git:${repo.commit} src\n`);
    expect(results[0]).toMatch(/- base_manifests: !omap\n  - bookworm-amd64: \|\n {6}[0-9a-f]{64} {2}\S+\.deb\n/);
    // The program runs and shows the canonical build path; the archives carry the commit's time.
    expect(sh(`'${out}/hello'`)).toMatch(/^hello from \/build\/hello\/+src\/hello\.c\n$/);
    expect(sh(`TZ=UTC tar -tvzf '${out}/hello.tar.gz'`)).toContain('root/root');
    expect(sh(`TZ=UTC tar -tvzf '${out}/hello.tar.gz'`)).toContain('2024-03-01 12:00');
    expect(sh(`unzip -t '${out}/hello.jar'`)).toContain('No errors detected');
    expect(sh(`TZ=UTC unzip -l '${out}/hello.jar'`)).toContain('2024-03-01 12:00');
  }, LONG);

  it('a script leaking date, host name, build path and file order gives identical outputs, and --vary says so', () => {
    const { dir, desc } = workdir('leaky', repo.url, LEAKY);
    const manifests = [0, 1].map(() => {
      const r = tool('gbuild', ['--commit', `src=${repo.commit}`, desc], dir);
      expect(r.status, r.stderr).toBe(0);
      return fs.readFileSync(path.join(dir, 'result', 'leaky-res.yml'), 'utf8');
    });
    expect(manifests[0]).toBe(manifests[1]);
    const vary = tool('gbuild', ['--vary', '--commit', `src=${repo.commit}`, desc], dir);
    expect(vary.status, vary.stderr).toBe(0);
    expect(vary.stderr).toContain('normalized outputs identical (2 files)');
    // The varied build really ran elsewhere, as someone else, at another time.
    const normal = fs.readFileSync(path.join(dir, 'var', 'build.log'), 'utf8');
    const varied = fs.readFileSync(path.join(dir, 'var', 'build-vary.log'), 'utf8');
    expect(normal).toMatch(/host=build pwd=\/home\/build\/build\/leaky user=build umask=0022 tz=UTC cpus=\d+ year=\d+/);
    expect(varied).toMatch(/host=gvary pwd=\/home\/build\/varyb\/leaky user=varied umask=0002 tz=VRY-14 cpus=1 year=2025/);
    const page = sh(`unzip -p '${dir}/build/out/leaky.zip' pkg/docs/index.html`);
    expect(page).toBe('<html><body><p>Built on build in /build/leaky</p></body></html>\n');
  }, LONG);

  it('--vary names the file and the archive members and fields the normalizer cannot fix', () => {
    const script = `
umask 022
date +%s%N > "$OUTDIR/stamp.txt"
mkdir -p t && echo same > t/a && echo "$(id -un)" > t/who
tar -czf "$OUTDIR/t.tar.gz" t
`;
    const { dir, desc } = workdir('unfixable', repo.url, script);
    const r = tool('gbuild', ['--vary', '--commit', `src=${repo.commit}`, desc], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('outputs differ');
    expect(r.stderr).toContain('stamp.txt: differs');
    // The one comparison in the project (strip-nondeterminism diff) names the nested member.
    expect(r.stderr).toMatch(/t\.tar\.gz: differs\n(?: {2}.*\n)* {2}t\.tar\.gz\/t\/who: content differs at offset 0 \(sizes \d+ and \d+\): "build\\n" vs "varied\\n"/);
    expect(r.stderr).not.toContain('t.tar.gz/t/a');
  }, LONG);

  it('gsign and gverify: two signers agree; a tampered manifest or a different result fails', () => {
    const gnupg = tempDir('snd-gitian-gpg-');
    fs.chmodSync(gnupg, 0o700);
    const env = { GNUPGHOME: gnupg };
    for (const s of ['alice@example.org', 'bob@example.org', 'eve@example.org']) {
      sh(`gpg --batch --passphrase '' --quick-gen-key '${s}' ed25519 sign never`, undefined, env);
    }
    const { dir, desc } = workdir('signed', repo.url, HELLO);
    expect(tool('gbuild', ['--commit', `src=${repo.commit}`, desc], dir).status).toBe(0);
    for (const s of ['alice@example.org', 'bob@example.org']) {
      const r = tool('gsign', ['--signer', s, '--release', '1.0', desc], dir, env);
      expect(r.status, r.stderr).toBe(0);
    }
    const assertFile = (s: string) => path.join(dir, 'sigs', 'signed', '1.0', s, 'signed-build.assert');
    expect(sh(`gpg --batch --verify '${assertFile('bob@example.org')}.sig' '${assertFile('bob@example.org')}' 2>&1`, undefined, env)).toContain('Good signature');
    let v = tool('gverify', ['--release', '1.0', desc], dir, env);
    expect(v.status, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toContain('alice@example.org: OK\nbob@example.org: OK\n');
    expect(tool('gverify', ['--release', '1.0', '--compare-to', 'bob@example.org', desc], dir, env).status).toBe(0);

    // eve signs a different result: a valid signature, but a MISMATCH.
    const res = path.join(dir, 'result', 'signed-res.yml');
    const honest = fs.readFileSync(res, 'utf8');
    fs.writeFileSync(res, honest.replace(/^( {4})[0-9a-f]/m, '$10'));
    expect(tool('gsign', ['--signer', 'eve@example.org', '--release', '1.0', desc], dir, env).status).toBe(0);
    v = tool('gverify', ['--release', '1.0', desc], dir, env);
    expect(v.status).toBe(1);
    expect(v.stdout).toContain('eve@example.org: MISMATCH');
    expect(v.stdout).toContain('alice@example.org: OK');
    fs.rmSync(path.join(dir, 'sigs', 'signed', '1.0', 'eve@example.org'), { recursive: true });

    // bob's manifest edited after signing: BAD SIGNATURE.
    const bob = assertFile('bob@example.org');
    fs.writeFileSync(bob, fs.readFileSync(bob, 'utf8').replace(/^( {4})[0-9a-f]/m, '$10'));
    v = tool('gverify', ['--release', '1.0', desc], dir, env);
    expect(v.status).toBe(1);
    expect(v.stdout).toContain('bob@example.org: BAD SIGNATURE');
  }, LONG);

  it('rejects a bad descriptor naming the field', () => {
    const dir = tempDir('snd-gitian-bad-');
    const cases: [string, RegExp][] = [
      [descriptor('bad', repo.url, 'true').replace('- "amd64"', '- "arm64"'), /field architectures\[0\]/],
      [descriptor('bad', repo.url, 'true').replace('"dir": "src"', '"dir": "../src"'), /field remotes\[0\]\.dir/],
      [descriptor('bad', repo.url, 'true').replace(/script: \|\n.*\n/, ''), /field script/],
      [descriptor('bad', repo.url, 'true').replace('name: "bad"', 'name: "a b"'), /field name/],
      [descriptor('bad', repo.url, 'true') + 'unknown_field: 1\n', /unknown_field/],
      [descriptor('bad', repo.url, 'true', 'random: always\n'), /field random: random: "system" or "deterministic"/],
      [descriptor('bad', repo.url, 'true', 'random_seed: abc\n'), /field random_seed: random_seed needs random: deterministic/],
      [descriptor('bad', repo.url, 'true', 'aslr: "off"\n'), /field aslr/],
    ];
    for (const [text, field] of cases) {
      fs.writeFileSync(path.join(dir, 'bad.yml'), text);
      const r = tool('gbuild', ['bad.yml'], dir);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(field);
      expect(r.stderr).toContain('bad.yml');
    }
  });

  it('the VM backend boots, builds, returns the outputs and the exit code, and honours its timeout', () => {
    const vm = tool('make-base-vm', ['--suite', 'bookworm', '--packages', PACKAGES.join(','), '--vm'], ROOT);
    expect(vm.status, vm.stderr).toBe(0);
    expect(vm.stdout).toMatch(/vmlinux\n.*initramfs\.cpio\n.*\.ext4\n$/);
    expect(sh(`file -b '${vm.stdout.split('\n')[1]}'`)).toMatch(/^ELF 64-bit/);

    const { dir, desc } = workdir('hello', repo.url, HELLO);
    const sandboxRun = tool('gbuild', ['--commit', `src=${repo.commit}`, desc], dir);
    expect(sandboxRun.status, sandboxRun.stderr).toBe(0);
    const sandboxResult = fs.readFileSync(path.join(dir, 'result', 'hello-res.yml'), 'utf8');
    const r = tool('gbuild', ['--backend', 'vm', '--commit', `src=${repo.commit}`, desc], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'var', 'build.log'), 'utf8')).toContain('VM acceleration:');
    // Same outputs as the sandbox build.
    expect(fs.readFileSync(path.join(dir, 'result', 'hello-res.yml'), 'utf8')).toBe(sandboxResult);

    const failing = workdir('fails', repo.url, 'echo partial > "$OUTDIR/partial.txt"\nexit 3');
    const f = tool('gbuild', ['--backend', 'vm', '--commit', `src=${repo.commit}`, failing.desc], failing.dir);
    expect(f.status).toBe(1);
    expect(f.stderr).toContain('build script failed with exit code 3');

    const slow = workdir('slow', repo.url, 'sleep 600');
    const started = Date.now();
    const t = tool('gbuild', ['--backend', 'vm', '--timeout', '60', '--commit', `src=${repo.commit}`, slow.desc], slow.dir);
    expect(t.status).toBe(1);
    expect(t.stderr).toContain('timed out after 60 s');
    expect(Date.now() - started).toBeLessThan(240_000);
  }, LONG);
  it('random: deterministic, single_cpu and aslr: false give identical results; without them the results differ', () => {
    const pinned = workdir('probe', repo.url, PROBE, PINNED, PROBE_PACKAGES);
    const results = [0, 1].map(() => {
      const r = tool('gbuild', ['--commit', `src=${repo.commit}`, pinned.desc], pinned.dir);
      expect(r.status, r.stderr).toBe(0);
      return { res: fs.readFileSync(path.join(pinned.dir, 'result', 'probe-res.yml'), 'utf8'), probe: fs.readFileSync(path.join(pinned.dir, 'build', 'out', 'probe.txt'), 'utf8'), log: fs.readFileSync(path.join(pinned.dir, 'var', 'build.log'), 'utf8') };
    });
    expect(results[0].res).toBe(results[1].res);
    // The stream as defined: SHA-256(seed || counter), the seed from the name and the commit.
    const bytes = stream(['gbuild-random', 'probe', repo.commit].join('\0'), 48);
    const probe = Object.fromEntries(results[0].probe.trim().split('\n').map((l) => l.split(' ')));
    expect(probe.urandom).toBe(bytes.slice(0, 32));
    expect(probe.random).toBe(bytes.slice(0, 32));
    expect(probe.getrandom).toBe(bytes.slice(0, 32));
    expect(probe.getentropy).toBe(bytes.slice(32, 64));
    expect(probe.python).toBe(bytes.slice(48, 80)); // CPython reads 24 bytes for its hash seed first
    expect(probe.nproc).toBe('1');
    expect(probe.stack).toMatch(/^0x7fff/);
    // Measured escapes (docs/gitian.md): the raw syscall and the kernel's AT_RANDOM.
    const escapes = results.map((r) => /escapes: (.*)/.exec(r.log)![1]);
    expect(escapes[0]).not.toBe(escapes[1]);

    const free = workdir('probefree', repo.url, PROBE);
    const freeResults = [0, 1].map(() => {
      const r = tool('gbuild', ['--commit', `src=${repo.commit}`, free.desc], free.dir);
      expect(r.status, r.stderr).toBe(0);
      return fs.readFileSync(path.join(free.dir, 'result', 'probefree-res.yml'), 'utf8');
    });
    expect(freeResults[0]).not.toBe(freeResults[1]);
  }, LONG);

  it('the VM backend honours random, single_cpu and aslr: two builds give identical results', () => {
    const pinned = workdir('probevm', repo.url, PROBE, PINNED, PROBE_PACKAGES);
    const results = [0, 1].map(() => {
      const r = tool('gbuild', ['--backend', 'vm', '--commit', `src=${repo.commit}`, pinned.desc], pinned.dir);
      expect(r.status, r.stderr).toBe(0);
      return fs.readFileSync(path.join(pinned.dir, 'result', 'probevm-res.yml'), 'utf8');
    });
    expect(results[0]).toBe(results[1]);
    const probe = fs.readFileSync(path.join(pinned.dir, 'build', 'out', 'probe.txt'), 'utf8');
    expect(probe).toContain(`getrandom ${stream(['gbuild-random', 'probevm', repo.commit].join('\0'), 16)}\n`);
    expect(probe).toContain('nproc 1\n');
    // --vary in the VM: another directory hash seed changes the readdir order.
    const order = workdir('ordervm', repo.url, ORDER);
    const v = tool('gbuild', ['--backend', 'vm', '--vary', '--commit', `src=${repo.commit}`, order.desc], order.dir);
    expect(v.status).toBe(1);
    expect(v.stderr).toContain('file order: another ext4 directory hash seed');
    expect(v.stderr).toMatch(/outputs differ:\nlisting\.txt: differs\n/);
    expect(fs.readFileSync(path.join(order.dir, 'var', 'build-vary.log'), 'utf8')).toMatch(/uname=2\.6\.\d+\S* home=\/home\/gvary capture=i_capture_the_environment personality=00060000 nproc=1/);
  }, LONG);

  it('--vary catches a readdir-order leak, names the file, and lists what it varied', () => {
    const { dir, desc } = workdir('order', repo.url, ORDER);
    const r = tool('gbuild', ['--vary', '--commit', `src=${repo.commit}`, desc], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/outputs differ:\nlisting\.txt: differs\n {2}listing\.txt: content differs at offset 0/);
    for (const line of ['file order: readdir reversed over the build directory (disorderfs)', 'ASLR: on -> off (setarch)', 'kernel release (uname -r): the host\'s -> 2.6.x', 'home: /home/build -> /home/gvary', 'environment: + CAPTURE_ENVIRONMENT=i_capture_the_environment', 'CPUs: all -> 1']) {
      expect(r.stderr).toContain(line);
    }
    const varied = fs.readFileSync(path.join(dir, 'var', 'build-vary.log'), 'utf8');
    expect(varied).toMatch(/uname=2\.6\.\d+\S* home=\/home\/gvary capture=i_capture_the_environment personality=00060000 nproc=1/);
    expect(fs.readFileSync(path.join(dir, 'var', 'build.log'), 'utf8')).toMatch(/home=\/home\/build capture= personality=00000000/);
  }, LONG);
});
