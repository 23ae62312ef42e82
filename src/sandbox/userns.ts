// The re-exec into a user namespace (like `buildah unshare`): node is multi-threaded and cannot
// unshare one itself, so the single-threaded native launcher does and writes the id maps
// (native/sandbox/launch.cc; bin/nbuild uses the same launcher before Node starts).
import { type ChildProcess, type IOType } from 'node:child_process';
import { constants as osConstants, userInfo } from 'node:os';
import { NbuildError } from '../errors.js';
import { interruptSignal } from '../interrupt.js';
import { singleIdWarning, systemInputs, userNamespaceFailure } from './diagnose.js';
import { helperPath, spawnHelper } from './helper.js';
import { readSubIds, type SubIdRange } from './idmap.js';
import { selfContainedFiles } from '../package-root.js';

/** What the maps of a new user namespace will be for this user (`nbuild info` shows it). */
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
 * ids mapped (one id and a warning without a range). The native launcher does it (launch.cc,
 * as for bin/nbuild): the returned process is the launcher, which relays SIGINT, SIGTERM and
 * SIGHUP and exits with the command's status (125 when the namespace cannot be made, with the
 * reason on stderr). The command has NBUILD_USERNS=1 in its environment.
 */
export async function spawnInUserNamespace(command: string, args: string[], options: UsernsSpawnOptions = {}): Promise<ChildProcess> {
  const files = options.subIdFiles ? ['--subid-files', `${options.subIdFiles.subuid}:${options.subIdFiles.subgid}`] : [];
  return spawnHelper('launch', ['--userns', ...files, '--', command, ...args], {
    stdio: options.stdio ?? 'inherit',
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
}

/**
 * Re-executes this CLI inside a user namespace when it is not root. In the outer process the
 * promise never settles: it relays SIGINT/SIGTERM/SIGHUP and exits with the inner exit status.
 * Returns at once when already root (real root, or inside the namespace).
 */
export async function enterUserNamespace(): Promise<void> {
  // Inside, the launcher set PDEATHSIG: if the outer process dies, this one gets SIGTERM.
  if (process.geteuid?.() === 0) {
    const single = takeEnv('NBUILD_IDMAP_SINGLE');
    if (single !== undefined) process.stderr.write(`nbuild: ${singleIdWarning(single, systemInputs(helperPath()))}\n`);
    return;
  }
  if (process.env['NBUILD_USERNS'] === '1') {
    throw new NbuildError('USERNS', 'NBUILD_USERNS=1 is set but this process is not root of a user namespace');
  }
  // bin/nbuild's launcher could not make one and started the CLI outside to say why.
  const failed = takeEnv('NBUILD_USERNS_ERROR');
  if (failed !== undefined) throw new NbuildError('USERNS', userNamespaceFailure(failed, systemInputs(helperPath())));
  // The single executable (src/cli/sea-main.ts) is Node with the CLI inside: argv[1] is not a script.
  const args = selfContainedFiles() ? process.argv.slice(2) : [...process.execArgv, ...process.argv.slice(1)];
  const child = await spawnInUserNamespace(process.execPath, args);
  interruptSignal(); // signals do not end this process (src/interrupt.ts): it relays them and waits
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (signal ? osConstants.signals[signal] : 1));
  });
  return new Promise<void>(() => {});
}

/** An environment variable the launcher set for this process only, removed once read. */
function takeEnv(name: string): string | undefined {
  const v = process.env[name];
  delete process.env[name];
  return v;
}

/**
 * For API calls that change the store or run commands (load, tag, rmi, prune, store check, RUN):
 * they need this process to be root of a user namespace. The CLI enters one before calling them;
 * another program calls enterUserNamespace() first (it re-runs the program inside one).
 */
export function requireUserNamespace(operation: string): void {
  if (process.geteuid?.() === 0) return;
  throw new NbuildError('USERNS', `${operation} needs the user namespace: call enterUserNamespace() at the start of the program (it re-runs the program as root of a user namespace)`);
}
