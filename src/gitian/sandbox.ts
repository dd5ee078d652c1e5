/**
 * The sandbox backend: bubblewrap over an extracted copy of the base. New PID, IPC, UTS and
 * cgroup namespaces, no network (a new, empty network namespace), the host name given, a private
 * /tmp, /dev and /proc of its own; the script runs as the unprivileged build user (setpriv), with
 * only the environment given. Nothing of the host is visible: the root is the extracted base,
 * into which the runner copied the inputs, and from which it copies the outputs back.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

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
  const command = ['/usr/bin/setpriv', `--reuid=${run.uid}`, `--regid=${run.gid}`, '--clear-groups', '--', '/bin/bash', '-e', run.script];
  return [
    '--bind', run.root, '/',
    '--dev', '/dev',
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

/** Run the build; resolves with the script's exit code (124 when it timed out). */
export function runSandbox(run: SandboxRun): Promise<RunResult> {
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
