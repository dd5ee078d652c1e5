/**
 * The VM backend: qemu, with KVM when a probe boot proves it works, software emulation (TCG)
 * otherwise.
 *
 * Assets (made by `make-base-vm --vm`, cached under <cache>/vm/<kernel version>/, all without
 * mounting anything):
 * - the kernel of Debian's linux-image package (`apt-get download`), as the uncompressed vmlinux
 *   cut out of the xz-compressed bzImage (qemu boots it through its PVH entry, skipping the
 *   decompressor);
 * - an initramfs (newc cpio): busybox from busybox-static, the virtio/ext4/9p modules with their
 *   dependencies from modules.dep (made by `depmod -b` over the package's modules), and an /init
 *   that loads them in order, mounts the ext4 root from /dev/vda and the 9p share `io`, and
 *   switches to the root;
 * - ext4 images made with `mke2fs -d` from a root directory.
 *
 * A build: the prepared root becomes an ext4 image; the share holds the inputs (copied into the
 * build directory by the guest), a runner script, and receives the outputs, the build log and the
 * exit code. The guest has no network card. The host kills qemu at the timeout.
 * Adjustments (environment.ts), applied by the guest runner: the deterministic stream bound over
 * /dev/random and /dev/urandom, setarch in front of the script, one vCPU for one CPU, and for
 * --vary's file order another directory hash seed in the image.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { cacheDir } from './base.js';
import { run } from './command.js';

/** Modules the guest needs; their dependencies come from modules.dep. */
const MODULES = ['virtio_pci', 'virtio_blk', 'ext4', 'crc32c_generic', '9pnet_virtio', '9p'];
const FIXED_UUID = '5e1f0d7a-0b5e-4d1d-9c5e-000000000001';

export interface VmAssets {
  kernel: string;
  initramfs: string;
  version: string;
}

/** Download a package's .deb into `dir` and unpack it into `dir/root`. */
function fetchPackage(name: string, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o777); // apt's _apt user writes the download
  run('apt-get', ['download', '-q', name], { cwd: dir });
  const deb = fs.readdirSync(dir).find((f) => f.endsWith('.deb') && f.startsWith(`${name}_`));
  if (!deb) throw new Error(`apt-get download ${name} gave no .deb`);
  const root = path.join(dir, 'root');
  run('dpkg-deb', ['-x', path.join(dir, deb), root]);
  return root;
}

/** The uncompressed kernel (ELF) inside a bzImage: the first xz stream that decodes to ELF. */
export function extractVmlinux(bzImage: Buffer): Buffer {
  const magic = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  for (let at = bzImage.indexOf(magic); at >= 0; at = bzImage.indexOf(magic, at + 1)) {
    const r = spawnSync('xz', ['-dc', '--single-stream'], { input: bzImage.subarray(at), maxBuffer: 1 << 30 });
    if (r.stdout && r.stdout.length > 4 && r.stdout.toString('latin1', 0, 4) === '\x7fELF') return r.stdout;
  }
  throw new Error('no xz-compressed ELF kernel found in the bzImage');
}

/** Module file names in load order (dependencies first), from modules.dep. */
export function moduleOrder(modulesDep: string, wanted: readonly string[]): string[] {
  const deps = new Map<string, string[]>();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    deps.set(line.slice(0, colon), line.slice(colon + 1).trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map([...deps.keys()].map((p) => [path.basename(p).replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_'), p]));
  const order: string[] = [];
  const visit = (p: string) => {
    if (order.includes(p)) return;
    // modules.dep lists every (indirect) dependency; the last ones are loaded first.
    for (const d of [...(deps.get(p) ?? [])].reverse()) visit(d);
    order.push(p);
  };
  for (const w of wanted) {
    const p = byName.get(w.replace(/-/g, '_'));
    if (!p) throw new Error(`kernel module ${w} not found in modules.dep`);
    visit(p);
  }
  return order;
}

const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /newroot /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules); do insmod /lib/modules/$m || echo "gbuild-init: insmod $m failed"; done
if grep -q gbuild.probe /proc/cmdline; then echo GBUILD-PROBE-OK; poweroff -f; fi
i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
mount -t ext4 /dev/vda /newroot || { echo "gbuild-init: cannot mount the root"; poweroff -f; }
mkdir -p /newroot/mnt/io
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 io /newroot/mnt/io || { echo "gbuild-init: cannot mount the share"; poweroff -f; }
umount /proc /sys /dev
exec switch_root /newroot /bin/bash /mnt/io/guest-run
`;

/** Kernel and initramfs, made once per kernel version. */
export function ensureVmAssets(log: (s: string) => void, arch = 'amd64'): VmAssets {
  const top = path.join(cacheDir(), 'vm');
  const meta = `linux-image-${arch}`;
  const depends = run('apt-cache', ['depends', meta]).toString();
  const pkg = /Depends: (linux-image-[^\s]+)/.exec(depends)?.[1];
  if (!pkg) throw new Error(`cannot resolve ${meta} (apt-get update first?)`);
  const version = pkg.replace(/^linux-image-/, '');
  const dir = path.join(top, version);
  const assets = { kernel: path.join(dir, 'vmlinux'), initramfs: path.join(dir, 'initramfs.cpio'), version };
  if (fs.existsSync(assets.kernel) && fs.existsSync(assets.initramfs)) return assets;
  log(`Preparing VM assets for kernel ${version}`);
  const work = path.join(top, `work-${process.pid}`);
  fs.rmSync(work, { recursive: true, force: true });
  try {
    const kroot = fetchPackage(pkg, path.join(work, 'kernel'));
    const vmlinuz = fs.readFileSync(path.join(kroot, 'boot', `vmlinuz-${version}`));
    run('depmod', ['-b', kroot, version]);
    const modDir = path.join(kroot, 'lib', 'modules', version);
    const order = moduleOrder(fs.readFileSync(path.join(modDir, 'modules.dep'), 'utf8'), MODULES);
    const busybox = path.join(fetchPackage('busybox-static', path.join(work, 'busybox')), 'bin', 'busybox');

    const tree = path.join(work, 'initramfs');
    fs.mkdirSync(path.join(tree, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'lib', 'modules'), { recursive: true });
    fs.copyFileSync(busybox, path.join(tree, 'bin', 'busybox'));
    fs.chmodSync(path.join(tree, 'bin', 'busybox'), 0o755);
    const names = order.map((p) => {
      let data: Buffer = fs.readFileSync(path.join(modDir, p));
      if (p.endsWith('.xz')) data = run('xz', ['-dc'], { input: data });
      if (p.endsWith('.zst')) data = run('zstd', ['-dc'], { input: data });
      const name = path.basename(p).replace(/\.ko\.\w+$/, '.ko');
      fs.writeFileSync(path.join(tree, 'lib', 'modules', name), data);
      return name;
    });
    fs.writeFileSync(path.join(tree, 'modules'), names.join('\n') + '\n');
    fs.writeFileSync(path.join(tree, 'init'), INIT, { mode: 0o755 });
    const list = run('sh', ['-c', 'find . | LC_ALL=C sort'], { cwd: tree });
    const cpio = run('cpio', ['--quiet', '--reproducible', '-o', '-H', 'newc', '-R', '0:0'], { cwd: tree, input: list });

    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${assets.initramfs}.tmp`, cpio);
    fs.writeFileSync(path.join(dir, 'vmlinuz'), vmlinuz);
    fs.writeFileSync(`${assets.kernel}.tmp`, extractVmlinux(vmlinuz));
    fs.renameSync(`${assets.initramfs}.tmp`, assets.initramfs);
    fs.renameSync(`${assets.kernel}.tmp`, assets.kernel);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return assets;
}

/** An ext4 image of `root` (mke2fs -d), with room to build in; fixed UUID and directory hash
 *  seed (readdir order follows the seed: --vary gives its build another). */
export function makeExt4(root: string, image: string, extraMiB: number, hashSeed = FIXED_UUID): void {
  const used = Number(run('du', ['-s', '-B1M', root]).toString().split(/\s/)[0]);
  const size = Math.ceil(used * 1.2) + extraMiB;
  fs.rmSync(image, { force: true });
  run('mke2fs', ['-q', '-t', 'ext4', '-d', root, '-U', FIXED_UUID, '-E', `hash_seed=${hashSeed},root_owner=0:0`, '-L', 'gbuild', '-F', image, `${size}M`], {
    env: { ...process.env, E2FSPROGS_FAKE_TIME: process.env.SOURCE_DATE_EPOCH ?? '0' },
  });
}

interface QemuRun {
  assets: VmAssets;
  accel: 'kvm' | 'tcg';
  memory: number;
  cpus: number;
  image?: string;
  share?: string;
  append?: string;
  timeoutSeconds: number;
  console: string;
}

function qemu(q: QemuRun): Promise<{ code: number; timedOut: boolean }> {
  const args = [
    '-machine', 'q35', '-accel', q.accel, ...(q.accel === 'kvm' ? ['-cpu', 'host'] : ['-cpu', 'max']),
    '-m', String(q.memory), '-smp', String(q.cpus),
    '-kernel', q.assets.kernel, '-initrd', q.assets.initramfs,
    '-append', `console=ttyS0 panic=-1 quiet loglevel=3 ${q.append ?? ''}`.trim(),
    '-nographic', '-no-reboot', '-nic', 'none', '-serial', `file:${q.console}`, '-monitor', 'none',
    ...(q.image ? ['-drive', `file=${q.image},format=raw,if=virtio`] : []),
    ...(q.share ? ['-virtfs', `local,path=${q.share},mount_tag=io,security_model=none,id=io`] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, q.timeoutSeconds * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run qemu-system-x86_64: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (err.trim()) fs.appendFileSync(q.console, `\n[qemu] ${err.trim()}\n`);
      resolve({ code: code ?? 1, timedOut });
    });
  });
}

let probed: 'kvm' | 'tcg' | undefined;

/** KVM if a probe boot under it reaches the initramfs and powers off; else TCG. */
export async function chooseAccel(assets: VmAssets, log: (s: string) => void): Promise<'kvm' | 'tcg'> {
  if (probed) return probed;
  probed = 'tcg';
  if (process.env.GBUILD_VM_ACCEL === 'tcg') return probed;
  if (fs.existsSync('/dev/kvm')) {
    const consoleFile = path.join(cacheDir(), 'vm', `probe-${process.pid}.log`);
    fs.writeFileSync(consoleFile, '');
    try {
      const r = await qemu({ assets, accel: 'kvm', memory: 256, cpus: 1, append: 'gbuild.probe', timeoutSeconds: 20, console: consoleFile });
      if (!r.timedOut && fs.readFileSync(consoleFile, 'utf8').includes('GBUILD-PROBE-OK')) probed = 'kvm';
    } finally {
      fs.rmSync(consoleFile, { force: true });
    }
  }
  log(`VM acceleration: ${probed === 'kvm' ? 'KVM (probe boot succeeded)' : 'none, software emulation (TCG)'}`);
  return probed;
}

export interface VmRun {
  root: string;
  workdir: string;
  script: string;
  env: Record<string, string>;
  uid: number;
  hostname: string;
  log: string;
  timeoutSeconds: number;
  memory: number;
  cpus: number;
  arch: string;
  /** setarch and its flags, in front of the script. */
  prefix: readonly string[];
  /** A file inside the root holding the deterministic stream: bound over /dev/(u)random. */
  randomStream?: string;
  /** The image's directory hash seed (default: the fixed one). */
  hashSeed?: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function guestRunner(r: VmRun): string {
  const env = Object.entries(r.env).map(([k, v]) => q(`${k}=${v}`)).join(' ');
  return `#!/bin/bash
# Runs inside the VM as root, after switch_root (written by gbuild).
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
echo ${q(r.hostname)} > /proc/sys/kernel/hostname
${r.randomStream ? `mount --bind ${q(r.randomStream)} /dev/urandom; mount --bind ${q(r.randomStream)} /dev/random
` : ''}cp -a /mnt/io/in/. ${q(r.workdir)}/
chown -R ${r.uid}:${r.uid} /home/build
cd ${q(r.workdir)}
env -i ${env} ${r.prefix.map(q).join(' ')} /usr/bin/setpriv --reuid=${r.uid} --regid=${r.uid} --clear-groups -- /bin/bash -e ${q(r.script)} > /mnt/io/build.log 2>&1
code=$?
mkdir -p /mnt/io/out
cp -a /home/build/out/. /mnt/io/out/
echo $code > /mnt/io/exit-code
sync
echo o > /proc/sysrq-trigger
sleep 10
`;
}

/** Build in a VM: same inputs and results as the sandbox backend. */
export async function runVm(r: VmRun): Promise<{ code: number; timedOut: boolean }> {
  const log = (s: string) => fs.appendFileSync(r.log, `${s}\n`);
  if (r.arch !== 'amd64') throw new Error(`the VM backend runs amd64 guests only, not ${r.arch}`);
  const assets = ensureVmAssets(log);
  const accel = await chooseAccel(assets, log);
  const io = `${r.root}-io`;
  fs.rmSync(io, { recursive: true, force: true });
  fs.mkdirSync(path.join(io, 'in'), { recursive: true });
  // The inputs travel through the share; the image holds the system.
  const hostWork = path.join(r.root, r.workdir);
  for (const e of fs.readdirSync(hostWork)) fs.renameSync(path.join(hostWork, e), path.join(io, 'in', e));
  fs.writeFileSync(path.join(io, 'guest-run'), guestRunner(r), { mode: 0o755 });
  const image = `${r.root}.ext4`;
  makeExt4(r.root, image, 2048, r.hashSeed);
  const consoleFile = path.join(io, 'console.log');
  try {
    const result = await qemu({ assets, accel, memory: r.memory, cpus: r.cpus, image, share: io, timeoutSeconds: r.timeoutSeconds, console: consoleFile });
    for (const f of ['build.log', 'console.log']) if (fs.existsSync(path.join(io, f))) fs.appendFileSync(r.log, fs.readFileSync(path.join(io, f)));
    if (result.timedOut) return { code: 124, timedOut: true };
    const codeFile = path.join(io, 'exit-code');
    if (!fs.existsSync(codeFile)) return { code: 125, timedOut: false };
    const out = path.join(r.root, '/home/build/out');
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    if (fs.existsSync(path.join(io, 'out'))) run('cp', ['-a', '--', `${path.join(io, 'out')}/.`, out]);
    return { code: Number(fs.readFileSync(codeFile, 'utf8').trim()), timedOut: false };
  } finally {
    fs.rmSync(image, { force: true });
    fs.rmSync(io, { recursive: true, force: true });
  }
}
