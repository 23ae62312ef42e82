// The RUN sandbox contract shared by the executor, the snapshot ladder and the native helper
// (native/sandbox/spec.cc reads exactly these fields).

/** One line of /proc/PID/uid_map or gid_map. */
import type { Ulimit } from './ulimit.js';

export interface IdMapEntry {
  containerId: number;
  hostId: number;
  size: number;
}

export interface SandboxMount {
  /** overlay: a throw-away copy-on-write layer over the folder `source` (writes go to `upperDir`). */
  type: 'bind' | 'tmpfs' | 'overlay';
  /** Host path for bind mounts; the lower folder for overlay. */
  source?: string;
  /** overlay: its upper and work folders (kernel overlay in the sandbox's user namespace). */
  upperDir?: string;
  workDir?: string;
  /** Absolute path inside the container. */
  target: string;
  readonly: boolean;
  /** tmpfs options such as `size=64m`, `mode=1777`. */
  options?: string[];
}

export type SandboxRootfs =
  | { kind: 'overlay'; lowerDirs: string[] /* top-most first */; upperDir: string; workDir: string }
  /**
   * A plain dir (copy mode), or a fuse-overlayfs mount at `path` with its `upperDir`: then the
   * mount points the sandbox creates are tracked and removed in that upper dir, as for 'overlay'.
   */
  | { kind: 'dir'; path: string; upperDir?: string; mount?: RootfsMount };

/**
 * A mount of the root that nbuild holds only while the command runs (fuse-overlayfs):
 * runSandboxed calls `up()` before starting the helper and `down()` once it has ended, whatever
 * the outcome, so no failure path can leave it mounted. Never sent to the helper.
 */
export interface RootfsMount {
  up(): Promise<void>;
  down(): Promise<void>;
}

export interface SandboxSpec {
  rootfs: SandboxRootfs;
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  hostname: string;
  /**
   * 'host': nbuild's own network namespace; 'none': a new one with only `lo`; 'slirp4netns': a new
   * one with `tap0` connected to the outside by the slirp4netns program at `slirp4netns`
   * (src/sandbox/network.ts decides which).
   */
  network: 'host' | 'none' | 'slirp4netns';
  /** Absolute path of slirp4netns, for network 'slirp4netns'. */
  slirp4netns?: string;
  /** File contents bound at /etc/hosts and /etc/resolv.conf (the hostname goes to /etc/hostname). */
  hosts: string;
  resolvConf: string;
  /** RUN --mount points. */
  mounts: SandboxMount[];
  /**
   * 'namespaces' (default): PID/mount/IPC/UTS(/net) namespaces and pivot_root.
   * 'chroot': for real root where namespaces are refused; needs a 'dir' root and no mounts.
   */
  isolation?: 'namespaces' | 'chroot';
  /** 'inherit': the command reads nbuild's stdin (`nbuild run -i`); default 'null' (/dev/null). */
  stdin?: 'null' | 'inherit';
  /**
   * 'skip': a seccomp filter makes the command's fsync, fdatasync, sync, syncfs and sync_file_range
   * return 0 without syncing (RUN steps, unless `--run-fsync`/NBUILD_RUN_FSYNC=1). Default 'real'.
   */
  syncCalls?: 'real' | 'skip';
  /** `--ulimit`: setrlimit just before the exec (src/sandbox/ulimit.ts); the others are inherited. */
  rlimits?: readonly Ulimit[];
}

export interface SandboxResult {
  exitCode: number;
  /** Set when the command was killed by a signal, e.g. `SIGKILL`. */
  signal?: string;
}

export interface SandboxIo {
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
  signal?: AbortSignal;
}
