// The re-exec into a user namespace (like `buildah unshare`): node is multi-threaded and cannot
// unshare one itself, so the single-threaded helper does, and we write its id maps from outside.
import { spawn, execFile, type ChildProcess, type IOType } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { constants as osConstants, userInfo } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { NbuildError } from '../errors.js';
import { helperPath } from './helper.js';
import { readSubIds, type SubIdRange } from './idmap.js';

const execFileP = promisify(execFile);

/** What the maps of a new user namespace will be for this user. */
export type IdMappingPlan =
  | { kind: 'subordinate'; uid: number; gid: number; uidRange: SubIdRange; gidRange: SubIdRange }
  | { kind: 'single'; uid: number; gid: number; reason: string };

/** Where the subordinate ranges are read from (other files only in tests). */
export interface SubIdFiles {
  subuid: string;
  subgid: string;
}

const SYSTEM_FILES: SubIdFiles = { subuid: '/etc/subuid', subgid: '/etc/subgid' };

export function planIdMapping(files: SubIdFiles = SYSTEM_FILES): IdMappingPlan {
  const { uid, gid, username } = userInfo();
  const uidRange = readSubIds(files.subuid, username, uid);
  const gidRange = readSubIds(files.subgid, username, uid);
  if (uidRange && gidRange) return { kind: 'subordinate', uid, gid, uidRange, gidRange };
  const missing = [uidRange ? '' : files.subuid, gidRange ? '' : files.subgid].filter(Boolean).join(' and ');
  return { kind: 'single', uid, gid, reason: `no range for user "${username}" in ${missing}` };
}

let warned = false;

function warnSingle(reason: string): void {
  if (warned) return;
  warned = true;
  const { username } = userInfo();
  process.stderr.write(
    `nbuild: warning: ${reason}; mapping only your own id (as root) in the user namespace.\n` +
      `  RUN steps that give files to other users (chown, package managers, useradd) will fail.\n` +
      `  Fix: give ${username} a subordinate range, e.g. ` +
      `\`sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${username}\`.\n`,
  );
}

async function writeMaps(pid: number, files: SubIdFiles): Promise<void> {
  const plan = planIdMapping(files);
  let fallback = plan.kind === 'single' ? plan.reason : '';
  let uidDone = false;
  let gidDone = false;
  if (plan.kind === 'subordinate') {
    try {
      await execFileP('newuidmap', [pid, 0, plan.uid, 1, 1, plan.uidRange.start, plan.uidRange.count].map(String));
      uidDone = true;
      await execFileP('newgidmap', [pid, 0, plan.gid, 1, 1, plan.gidRange.start, plan.gidRange.count].map(String));
      gidDone = true;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      fallback = `newuidmap/newgidmap failed (${(err.stderr ?? err.message).trim()})`;
    }
  }
  // An unprivileged process may map its own id only, and gid_map only after denying setgroups.
  if (!uidDone) await writeFile(`/proc/${pid}/uid_map`, `0 ${plan.uid} 1\n`);
  if (!gidDone) {
    await writeFile(`/proc/${pid}/setgroups`, 'deny\n');
    await writeFile(`/proc/${pid}/gid_map`, `0 ${plan.gid} 1\n`);
  }
  if (fallback) warnSingle(fallback);
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const ready = child.stdio[3] as Readable;
    const onExit = (code: number | null): void =>
      reject(new NbuildError('USERNS', `could not enter a user namespace (helper exited with ${code ?? 'a signal'})`));
    child.once('exit', onExit);
    child.once('error', reject);
    ready.once('data', () => {
      child.off('exit', onExit);
      child.off('error', reject);
      resolve();
    });
  });
}

export interface UsernsSpawnOptions {
  /** stdin, stdout, stderr of the command (default: all inherited). */
  stdio?: IOType | [IOType, IOType, IOType];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Read the ranges from these files instead of /etc/subuid and /etc/subgid. */
  subIdFiles?: SubIdFiles;
}

/**
 * Starts `command` as root of a new user (and mount) namespace with the user's subordinate
 * ids mapped; resolves once the maps are in place and the command is being exec'd.
 * The child has NBUILD_USERNS=1 in its environment.
 */
export async function spawnInUserNamespace(
  command: string,
  args: string[],
  options: UsernsSpawnOptions = {},
): Promise<ChildProcess> {
  const io = options.stdio ?? 'inherit';
  const std: [IOType, IOType, IOType] = Array.isArray(io) ? io : [io, io, io];
  const child = spawn(helperPath(), ['userns', '--', command, ...args], {
    stdio: [...std, 'pipe', 'pipe'],
    env: { ...(options.env ?? process.env), NBUILD_USERNS: '1' },
    cwd: options.cwd,
  });
  const go = child.stdio[4] as Writable;
  go.on('error', () => {});
  try {
    await waitReady(child);
    await writeMaps(child.pid as number, options.subIdFiles ?? SYSTEM_FILES);
  } catch (e) {
    child.kill('SIGKILL');
    throw e instanceof NbuildError ? e : new NbuildError('USERNS', `could not set up the user namespace: ${String(e)}`, { cause: e });
  }
  go.end('G');
  (child.stdio[3] as Readable).destroy();
  return child;
}

/**
 * Re-executes this CLI inside a user namespace when it is not root. In the outer process the
 * promise never settles: it relays SIGINT/SIGTERM/SIGHUP and exits with the inner exit status.
 * Returns at once when already root (real root, or inside the namespace).
 */
export async function enterUserNamespace(): Promise<void> {
  if (process.geteuid?.() === 0) {
    if (process.env['NBUILD_USERNS'] === '1') watchOuterProcess();
    return;
  }
  if (process.env['NBUILD_USERNS'] === '1') {
    throw new NbuildError('USERNS', 'NBUILD_USERNS=1 is set but this process is not root of a user namespace');
  }
  const child = await spawnInUserNamespace(process.execPath, [...process.execArgv, ...process.argv.slice(1)]);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (signal ? osConstants.signals[signal] : 1));
  });
  return new Promise<void>(() => {});
}

/**
 * The re-exec'd process outlives a SIGKILLed outer one (nothing sets PDEATHSIG on it), and a build
 * nobody waits for would keep its temp dirs (and the store) busy: when the parent is gone, stop as
 * on SIGTERM, so the build aborts and cleans up.
 */
function watchOuterProcess(): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, 500);
  timer.unref();
}
