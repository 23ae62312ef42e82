// What this host allows, asked of the native helper (inside a user namespace when not root).
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { callHelper, collectHelper, helperAnswer, helperPath, type HelperOutput } from '../sandbox/helper.js';
import { spawnInUserNamespace } from '../sandbox/userns.js';
import { probeKey, readCachedProbe, writeCachedProbe } from './probe-cache.js';

export interface Capability {
  ok: boolean;
  error: string;
}

/** What `nbuild-sandbox probe` answers. */
interface NativeProbe {
  mountNamespace: Capability;
  pidNamespace: Capability;
  networkNamespace: Capability;
  overlay: Capability;
  whiteout: Capability;
  chroot: Capability;
}

/** The kernel's answers (cached between builds, probe-cache.ts). */
type KernelProbe = NativeProbe & {
  /** Effective uid of nbuild itself (0 inside the namespace or as real root). */
  euid: number;
  /** Whether a user namespace could be entered (true when already root). */
  userNamespace: Capability;
};

export type HostProbe = KernelProbe & {
  fuseOverlayfs: { binary?: string; devFuse: Capability };
  /** What a RUN step's own network needs beside a network namespace (src/sandbox/network.ts). */
  slirp4netns: { binary?: string; devTun: Capability };
};

const refused = (error: string): Capability => ({ ok: false, error });

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir, name);
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
  }
  return undefined;
}

/** Whether this user may open a device node for reading and writing (root of the namespace may not when its owner is unmapped). */
function deviceOpen(path: string): Promise<Capability> {
  return access(path, constants.R_OK | constants.W_OK).then(
    () => ({ ok: true, error: '' }),
    (e: NodeJS.ErrnoException) => refused(`${path}: ${e.code ?? e.message}`),
  );
}

async function probeFuse(): Promise<HostProbe['fuseOverlayfs']> {
  const [binary, devFuse] = await Promise.all([findOnPath('fuse-overlayfs'), deviceOpen('/dev/fuse')]);
  return { binary, devFuse };
}

async function probeSlirp(): Promise<HostProbe['slirp4netns']> {
  const [binary, devTun] = await Promise.all([findOnPath('slirp4netns'), deviceOpen('/dev/net/tun')]);
  return { binary, devTun };
}

export interface ProbeOptions {
  /** Keep the kernel's answers here between builds (probe-cache.ts); fuse and slirp4netns are always asked. */
  cache?: { file: string; tmpDir: string };
}

/** Runs `nbuild-sandbox probe` (in a user namespace unless root) and gathers the answers. */
export async function probeHost(options: ProbeOptions = {}): Promise<HostProbe> {
  const [fuseOverlayfs, slirp4netns, kernel] = await Promise.all([probeFuse(), probeSlirp(), cachedKernelProbe(options.cache)]);
  return { ...kernel, fuseOverlayfs, slirp4netns };
}

async function cachedKernelProbe(cache: ProbeOptions['cache']): Promise<KernelProbe> {
  if (!cache) return probeKernel();
  const key = await probeKey(helperPath());
  const known = await readCachedProbe<KernelProbe>(cache.file, key);
  if (known) return known;
  const fresh = await probeKernel();
  await writeCachedProbe(cache.file, cache.tmpDir, key, fresh);
  return fresh;
}

async function probeKernel(): Promise<KernelProbe> {
  const euid = process.geteuid?.() ?? -1;
  const dir = await mkdtemp(join(tmpdir(), 'nbuild-probe-'));
  try {
    let result: HelperOutput;
    let userNamespace: Capability = { ok: true, error: '' };
    if (euid === 0) {
      result = await callHelper('probe', [dir]);
    } else {
      try {
        const child = await spawnInUserNamespace(helperPath(), ['probe', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
        result = await collectHelper(child);
      } catch (e) {
        userNamespace = refused(e instanceof Error ? e.message : String(e));
        result = { code: null, stdout: '', stderr: '' };
      }
    }
    let native = helperAnswer<NativeProbe>(result.stdout);
    if (native === undefined) {
      const why = userNamespace.ok ? `probe failed: ${result.stderr.trim() || `exit ${result.code}`}` : 'no user namespace';
      if (userNamespace.ok) userNamespace = refused(why);
      const no = refused(why);
      native = { mountNamespace: no, pidNamespace: no, networkNamespace: no, overlay: no, whiteout: no, chroot: no };
    }
    const { mountNamespace, pidNamespace, networkNamespace, overlay, whiteout, chroot } = native;
    return { euid, userNamespace, mountNamespace, pidNamespace, networkNamespace, overlay, whiteout, chroot };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
