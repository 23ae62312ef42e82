// The isolation ladder: the best way to run RUN steps that this host allows, and why not the others.
import { NbuildError } from '../errors.js';
import { probeHost, type HostProbe, type ProbeOptions } from './probe.js';

export type IsolationMode = 'overlay' | 'fuse-overlayfs' | 'copy' | 'chroot';

export const LADDER: readonly IsolationMode[] = ['overlay', 'fuse-overlayfs', 'copy', 'chroot'];

export interface ModeVerdict {
  mode: IsolationMode;
  available: boolean;
  /** Why it is not available, or what it needs; empty when available without remarks. */
  reason: string;
}

export interface IsolationReport {
  chosen: IsolationMode | undefined;
  modes: ModeVerdict[];
}

const DESCRIPTIONS: Record<IsolationMode, string> = {
  overlay: 'kernel overlayfs in a user namespace (fast: layers are shared, the upper dir is the diff)',
  'fuse-overlayfs': 'fuse-overlayfs in a user namespace (for kernels without unprivileged overlayfs)',
  copy: 'copy-based snapshot: the layers are copied into a private root and diffed afterwards',
  chroot: 'chroot-like: for root in a container that refuses namespaces; no PID or mount isolation',
};

export function describeMode(mode: IsolationMode): string {
  return DESCRIPTIONS[mode];
}

function namespacesOk(p: HostProbe): string {
  if (!p.userNamespace.ok) return `user namespaces refused: ${p.userNamespace.error}`;
  if (!p.mountNamespace.ok) return `mount namespaces refused: ${p.mountNamespace.error}`;
  if (!p.pidNamespace.ok) return `PID namespaces refused: ${p.pidNamespace.error}`;
  return '';
}

function verdict(mode: IsolationMode, p: HostProbe): ModeVerdict {
  const ns = namespacesOk(p);
  const no = (reason: string): ModeVerdict => ({ mode, available: false, reason });
  switch (mode) {
    case 'overlay':
      if (ns) return no(ns);
      if (!p.overlay.ok) return no(`overlay mount refused: ${p.overlay.error}`);
      if (!p.whiteout.ok) return no(`whiteouts cannot be created: ${p.whiteout.error}`);
      return { mode, available: true, reason: '' };
    case 'fuse-overlayfs':
      if (ns) return no(ns);
      if (!p.fuseOverlayfs.binary) return no('fuse-overlayfs is not installed (Debian: apt-get install fuse-overlayfs)');
      if (!p.fuseOverlayfs.devFuse.ok)
        return no(`${p.fuseOverlayfs.devFuse.error}: /dev/fuse is not open to this user (an administrator can chmod 0666 /dev/fuse)`);
      return { mode, available: true, reason: '' };
    case 'copy':
      if (ns) return no(ns);
      return { mode, available: true, reason: '' };
    case 'chroot':
      // Root of nbuild's own re-exec namespace cannot mknod or do what chroot mode needs.
      if (p.euid !== 0 || process.env['NBUILD_USERNS'] === '1')
        return no('only for root (nbuild re-executes unprivileged users into a user namespace instead)');
      if (!p.chroot.ok) return no(`chroot refused: ${p.chroot.error}`);
      return { mode, available: true, reason: '' };
    default: {
      const never: never = mode;
      return never;
    }
  }
}

/** `--isolation` / NBUILD_ISOLATION text as a mode; empty or undefined: none forced. */
export function parseIsolation(text: string | undefined): IsolationMode | undefined {
  if (!text) return undefined;
  const mode = LADDER.find((m) => m === text);
  if (!mode) throw new NbuildError('ISOLATION', `unknown isolation "${text}"; use one of ${LADDER.join(', ')}`, { exitCode: 2 });
  return mode;
}

/** Ranks the modes for this host; `forced` (--isolation, NBUILD_ISOLATION) picks one if it is available. */
export function chooseIsolation(probe: HostProbe, forced: string | undefined): IsolationReport {
  const modes = LADDER.map((m) => verdict(m, probe));
  const mode = parseIsolation(forced);
  if (mode) {
    const v = modes.find((m) => m.mode === mode) as ModeVerdict;
    if (!v.available) throw new NbuildError('ISOLATION', `isolation "${mode}" is not available here: ${v.reason}`);
    return { chosen: v.mode, modes };
  }
  return { chosen: modes.find((m) => m.available)?.mode, modes };
}

let probed: Promise<HostProbe> | undefined;

/** The host's answers, asked once per process (the executor's RUN steps share them). */
export function probeHostOnce(options: ProbeOptions = {}): Promise<HostProbe> {
  probed ??= probeHost(options);
  return probed;
}

/**
 * The mode RUN steps and `nbuild run` use: `forced` if this host allows it, else the best it
 * allows (probed once per process); `what` names them in the error when none is allowed.
 */
export async function selectIsolation(options: ProbeOptions, forced: IsolationMode | undefined, what: string): Promise<IsolationMode> {
  const report = chooseIsolation(await probeHostOnce(options), forced);
  if (report.chosen) return report.chosen;
  const why = report.modes.map((m) => `${m.mode}: ${m.reason}`).join('; ');
  throw new NbuildError('NO_ISOLATION', `this host allows no way to run ${what} (${why}); see nbuild info`);
}
