// First-run diagnostics: why this host cannot give nbuild a user namespace, or only a single-id
// one, each as one cause and the exact command that fixes it. The inputs (PATH, the subordinate
// id files, /proc/sys, /etc/os-release) come from HostInputs so that a test can simulate a host.
// The launcher passes its failures on in the environment (native/sandbox/launch.cc):
// NBUILD_USERNS_ERROR (no namespace at all) and NBUILD_IDMAP_SINGLE (only the user's own id).
import { accessSync, constants, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { readSubIds } from './idmap.js';

export interface HostInputs {
  /** searched for newuidmap and newgidmap, as the launcher's execvp does */
  path: string;
  subuid: string;
  subgid: string;
  /** where kernel/… and user/… sysctl files are (/proc/sys) */
  procSys: string;
  osRelease: string;
  user: { name: string; uid: number };
  /** the helper that unshares (an AppArmor profile must name it) */
  helper: string;
}

export type FindingCode = 'NO_NEWUIDMAP' | 'NO_SUBID_RANGE' | 'USERNS_CLONE_DISABLED' | 'USERNS_MAX_ZERO' | 'APPARMOR_USERNS';

export interface Finding {
  code: FindingCode;
  /** true: no user namespace at all; false: one with only the user's own id */
  fatal: boolean;
  cause: string;
  fix: string;
}

export function systemInputs(helper: string): HostInputs {
  const me = userInfo();
  return {
    path: process.env['PATH'] ?? '/usr/bin:/bin',
    subuid: '/etc/subuid',
    subgid: '/etc/subgid',
    procSys: '/proc/sys',
    osRelease: '/etc/os-release',
    user: { name: me.username, uid: me.uid },
    helper,
  };
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function sysctl(inputs: HostInputs, name: string): number | undefined {
  const text = readText(join(inputs.procSys, ...name.split('.')));
  const n = text === undefined ? NaN : Number(text.trim());
  return Number.isInteger(n) ? n : undefined;
}

function onPath(inputs: HostInputs, tool: string): boolean {
  return inputs.path.split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The package-manager command that installs newuidmap/newgidmap on this distribution. */
function installUidmap(inputs: HostInputs): string {
  const release = readText(inputs.osRelease) ?? '';
  const field = (k: string): string[] => (new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(release)?.[1] ?? '').split(/\s+/);
  const ids = [...field('ID'), ...field('ID_LIKE')];
  if (ids.some((i) => ['fedora', 'rhel', 'centos', 'rocky', 'almalinux', 'amzn'].includes(i))) return 'sudo dnf install -y shadow-utils';
  if (ids.some((i) => ['opensuse', 'suse', 'sles', 'opensuse-leap', 'opensuse-tumbleweed'].includes(i))) return 'sudo zypper install -y shadow';
  if (ids.includes('arch')) return 'sudo pacman -S --needed shadow';
  if (ids.includes('alpine')) return 'sudo apk add shadow-uidmap';
  return 'sudo apt-get install -y uidmap';
}

/** A free 65536-id range after every range already given out (as useradd picks one). */
function freeRange(inputs: HostInputs): string {
  let end = 100000;
  for (const file of [inputs.subuid, inputs.subgid]) {
    for (const line of (readText(file) ?? '').split('\n')) {
      const [, start, count] = line.trim().split(':');
      const e = Number(start) + Number(count);
      if (Number.isInteger(e) && e > end) end = e;
    }
  }
  return `${end}-${end + 65535}`;
}

function sysctlFix(setting: string): string {
  const file = '/etc/sysctl.d/60-nbuild-userns.conf';
  return `echo '${setting}' | sudo tee ${file} && sudo sysctl -p ${file}`;
}

/**
 * What keeps nbuild from a (full) user namespace here. `userNamespaceWorks`: what the probe saw,
 * when known; AppArmor's restriction is reported unless a namespace was seen to work (a profile
 * that allows nbuild-sandbox lifts it).
 */
export function diagnoseHost(inputs: HostInputs, userNamespaceWorks?: boolean): Finding[] {
  const found: Finding[] = [];
  if (sysctl(inputs, 'kernel.unprivileged_userns_clone') === 0) {
    found.push({
      code: 'USERNS_CLONE_DISABLED',
      fatal: true,
      cause: 'unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone = 0)',
      fix: sysctlFix('kernel.unprivileged_userns_clone=1'),
    });
  }
  if (sysctl(inputs, 'user.max_user_namespaces') === 0) {
    found.push({
      code: 'USERNS_MAX_ZERO',
      fatal: true,
      cause: 'user namespaces are disabled (sysctl user.max_user_namespaces = 0)',
      fix: sysctlFix('user.max_user_namespaces=28633'),
    });
  }
  if (sysctl(inputs, 'kernel.apparmor_restrict_unprivileged_userns') === 1 && userNamespaceWorks !== true) {
    const profile = '/etc/apparmor.d/nbuild-sandbox';
    const text = `abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile nbuild-sandbox ${inputs.helper} flags=(unconfined) {\\n  userns,\\n}\\n`;
    found.push({
      code: 'APPARMOR_USERNS',
      fatal: true,
      cause: `AppArmor restricts unprivileged user namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns = 1, as on Ubuntu 24.04) and no profile allows ${inputs.helper}`,
      fix: `printf '${text}' | sudo tee ${profile} && sudo apparmor_parser -r ${profile}`,
    });
  }
  const missing = ['newuidmap', 'newgidmap'].filter((t) => !onPath(inputs, t));
  if (missing.length > 0) {
    found.push({
      code: 'NO_NEWUIDMAP',
      fatal: false,
      cause: `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed (not on PATH), so only your own id can be mapped: RUN steps that give files to other users (chown, package managers, useradd) fail`,
      fix: installUidmap(inputs),
    });
  }
  const { name, uid } = inputs.user;
  const noUid = !readSubIds(inputs.subuid, name, uid);
  const noGid = !readSubIds(inputs.subgid, name, uid);
  if (noUid || noGid) {
    const files = [noUid ? inputs.subuid : '', noGid ? inputs.subgid : ''].filter(Boolean).join(' and ');
    const range = freeRange(inputs);
    found.push({
      code: 'NO_SUBID_RANGE',
      fatal: false,
      cause: `user "${name}" has no subordinate id range in ${files}, so only your own id can be mapped: RUN steps that give files to other users (chown, package managers, useradd) fail`,
      fix: `sudo usermod --add-subuids ${range} --add-subgids ${range} ${name}`,
    });
  }
  return found;
}

/** One line: the cause and the fix. */
export function describeFinding(f: Finding): string {
  return `${f.cause}. Fix: ${f.fix}`;
}

/**
 * The message for a user namespace the launcher could not make (`why`: the kernel's error):
 * the first fatal cause found, else the kernel's words.
 */
export function userNamespaceFailure(why: string, inputs: HostInputs): string {
  const fatal = diagnoseHost(inputs).find((f) => f.fatal);
  return fatal ? `cannot create a user namespace (${why}): ${describeFinding(fatal)}` : `cannot create a user namespace: ${why}`;
}

/** The warning for a namespace with only the user's own id (`why`: the launcher's reason). */
export function singleIdWarning(why: string, inputs: HostInputs): string {
  const f = diagnoseHost(inputs).find((x) => !x.fatal);
  return `warning: ${f ? describeFinding(f) : `${why}: only your own id is mapped, so RUN steps that give files to other users fail`}`;
}
