/**
 * The sandbox backend: bubblewrap over an extracted copy of the base. New PID, IPC, UTS and
 * cgroup namespaces, no network (a new, empty network namespace), the host name given, a private
 * /tmp, /dev and /proc of its own; the script runs as the unprivileged build user (setpriv), with
 * only the environment given. Nothing of the host is visible: the root is the extracted base,
 * into which the runner copied the inputs, and from which it copies the outputs back.
 * Adjustments (environment.ts): a file of the deterministic stream bound over /dev/random and
 * /dev/urandom, setarch in front of the script (ASLR, kernel release), taskset for the CPUs, and
 * the build directory behind disorderfs (reversed readdir) for --vary.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface SandboxRun {
  /** Extracted root directory (writable, thrown away after the build). */
  root: string;
  /** Working directory inside the root. */
  cwd: string;
  /** Script path inside the root, run with `bash -e`. */
  script: string;
  env: Record<string, string>;
  uid: number;
  gid: number;
  hostname: string;
  /** CPUs the build may use (taskset list), all when unset. */
  cpus?: string;
  /** Commands in front of the script (setarch and its flags). */
  prefix?: readonly string[];
  /** A file inside the root holding the deterministic stream: bound over /dev/(u)random. */
  randomStream?: string;
  /** Show the working directory in reversed readdir order (disorderfs). */
  reverseReaddir?: boolean;
  /** Kill the build after this many seconds. */
  timeoutSeconds?: number;
  /** Where the build's stdout and stderr go. */
  log: string;
}

export interface RunResult {
  code: number;
  timedOut: boolean;
}

export function sandboxArgs(run: SandboxRun): string[] {
  const env = Object.entries(run.env).flatMap(([k, v]) => ['--setenv', k, v]);
  const command = [...(run.prefix ?? []), '/usr/bin/setpriv', `--reuid=${run.uid}`, `--regid=${run.gid}`, '--clear-groups', '--', '/bin/bash', '-e', run.script];
  const stream = run.randomStream ? path.join(run.root, run.randomStream) : undefined;
  return [
    '--bind', run.root, '/',
    '--dev', '/dev',
    ...(stream ? ['--ro-bind', stream, '/dev/urandom', '--ro-bind', stream, '/dev/random'] : []),
    '--perms', '1777', '--tmpfs', '/dev/shm', // libfaketime shares its clock there
    '--proc', '/proc',
    '--perms', '1777', '--tmpfs', '/tmp',
    '--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup-try', '--unshare-net',
    '--hostname', run.hostname,
    '--die-with-parent',
    '--new-session',
    '--clearenv', ...env,
    '--chdir', run.cwd,
    '--',
    ...(run.cpus ? ['/usr/bin/taskset', '-c', run.cpus] : []),
    ...command,
  ];
}

/** Run `fn` with `dir` shown in reversed readdir order: it moves to a backing directory, which
 *  disorderfs mounts back at `dir` for everyone. disorderfs acts as the calling user on the
 *  backing path, so that lies where the build user can reach it: in $TMPDIR, under a directory
 *  others may traverse but not list (the Gitian working directory may be private). */
async function withReversedReaddir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const stat = fs.statSync(dir);
  const holder = fs.mkdtempSync(path.join(os.tmpdir(), 'gbuild-readdir-'));
  fs.chmodSync(holder, 0o711);
  const backing = path.join(holder, 'dir');
  move(dir, backing);
  fs.mkdirSync(dir, { mode: stat.mode & 0o7777 });
  fs.chownSync(dir, stat.uid, stat.gid);
  const mounted = spawnSync('disorderfs', ['--multi-user=yes', '--reverse-dirents=yes', '--shuffle-dirents=no', backing, dir], { encoding: 'utf8' });
  try {
    if (mounted.status !== 0) throw new Error(`disorderfs failed: ${(mounted.stderr || mounted.error?.message || '').trim()}`);
    return await fn();
  } finally {
    if (mounted.status === 0) spawnSync('fusermount3', ['-u', dir]).status === 0 || spawnSync('umount', ['-l', dir]);
    fs.rmdirSync(dir);
    move(backing, dir);
    fs.rmSync(holder, { recursive: true, force: true });
  }
}

/** rename(2), or mv across file systems. */
function move(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    const r = spawnSync('mv', ['--', from, to], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mv ${from} ${to}: ${r.stderr.trim()}`);
  }
}

/** Run the build; resolves with the script's exit code (124 when it timed out). */
export function runSandbox(run: SandboxRun): Promise<RunResult> {
  if (!run.reverseReaddir) return spawnBuild(run);
  const dir = path.join(run.root, run.cwd);
  return withReversedReaddir(dir, () => spawnBuild(run));
}

function spawnBuild(run: SandboxRun): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(run.log, 'a');
    const child = spawn('bwrap', sandboxArgs(run), { stdio: ['ignore', log, log] });
    let timedOut = false;
    const timer = run.timeoutSeconds
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, run.timeoutSeconds * 1000)
      : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      fs.closeSync(log);
      reject(new Error(`cannot run bwrap: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      fs.closeSync(log);
      resolve({ code: timedOut ? 124 : (code ?? (signal ? 128 : 1)), timedOut });
    });
  });
}
