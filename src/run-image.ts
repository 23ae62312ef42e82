// The programmatic API of `nbuild run`: one command in an image, isolated exactly like a RUN
// step (same sandbox, same isolation ladder, the image's layers as the lower stack). There is
// no container store: the container's changes live in a temp dir of the store and are thrown
// away when the command ends.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError } from './errors.js';
import type { ContainerConfig } from './image/types.js';
import { resolveUser, runSandboxed, type SandboxResult } from './sandbox/index.js';
import { prepareRunWorkspace, selectIsolation, type IsolationMode } from './snapshot/index.js';
import { Store } from './store/store.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunImageOptions {
  storeRoot: string;
  /** A name, digest or id prefix the store knows. */
  image: string;
  /** Replaces the image's Cmd (Docker's `docker run IMAGE CMD...`); the Entrypoint stays. */
  command?: string[];
  /** Replaces the image's Entrypoint (`--entrypoint`); an empty string clears it. */
  entrypoint?: string;
  /** `K=V` entries added to (and overriding) the image's Env; `K` alone takes the caller's value. */
  env?: string[];
  /** Overrides the image's User (`name`, `uid`, `name:group`, `uid:gid`). */
  user?: string;
  /** Overrides the image's WorkingDir. */
  workdir?: string;
  network?: 'host' | 'none';
  /** Force this isolation (`--isolation`; default: the best this host allows, see nbuild info). */
  isolation?: IsolationMode;
  /** The command's stdin is the caller's (default: /dev/null, as in a RUN step). */
  interactive?: boolean;
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
  signal?: AbortSignal;
}

/** Docker's rule: Entrypoint + (the given command, else Cmd). */
export function containerArgs(config: ContainerConfig, command: string[] | undefined, entrypoint: string | undefined): string[] {
  const ep = entrypoint === undefined ? (config.Entrypoint ?? []) : entrypoint === '' ? [] : [entrypoint];
  // A new entrypoint drops the image's Cmd too, as `docker run --entrypoint` does.
  const cmd = command && command.length > 0 ? command : entrypoint === undefined ? (config.Cmd ?? []) : [];
  return [...ep, ...cmd];
}

/** The image's Env, then `overrides`; PATH and HOME defaults as for RUN. */
export function containerEnv(config: ContainerConfig, overrides: string[], home: string, callerEnv: NodeJS.ProcessEnv = process.env): string[] {
  const env = new Map<string, string>();
  const put = (entry: string, fromCaller: boolean): void => {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    else if (eq < 0 && entry !== '') {
      // `-e NAME` passes the caller's value, or nothing when the caller has none (Docker's rule).
      const value = fromCaller ? callerEnv[entry] : '';
      if (value !== undefined) env.set(entry, value);
    } else throw new NbuildError('RUN_ENV', `bad environment entry "${entry}": expected KEY=VALUE`, { exitCode: 2 });
  };
  for (const e of config.Env ?? []) put(e, false);
  for (const e of overrides) put(e, true);
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
  if (!env.has('HOME')) env.set('HOME', home || '/root');
  return [...env].map(([k, v]) => `${k}=${v}`);
}

async function hostResolvConf(): Promise<string> {
  const text = await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  return text || 'nameserver 127.0.0.1\n';
}

/**
 * Runs the image's command (or `command`) and resolves with its exit status. Must be called
 * inside the user namespace (enterUserNamespace()) unless root, like build().
 */
export async function runImage(options: RunImageOptions): Promise<SandboxResult> {
  const store = await Store.open(options.storeRoot);
  const image = await store.getImage(options.image);
  if (!image) throw new NbuildError('IMAGE_UNKNOWN', `no such image: ${options.image} (see nbuild images)`);
  const config = image.config.config ?? {};
  const args = containerArgs(config, options.command, options.entrypoint);
  if (args.length === 0) throw new NbuildError('RUN_NO_COMMAND', `${options.image} has no Cmd or Entrypoint: give a command`, { exitCode: 2 });
  const work = await store.tempDir('run');
  try {
    // Overlay wants the top-most layer first; an image without layers runs on an empty dir.
    let lowers = await store.lowerDirs(image.layers);
    if (lowers.length === 0) {
      lowers = [path.join(work, 'empty')];
      await fs.mkdir(lowers[0]);
    }
    const user = await resolveUser(lowers, options.user ?? config.User ?? '');
    const workspace = await prepareRunWorkspace(await selectIsolation({ cache: store.probeCache }, options.isolation, 'commands in an image'), lowers, path.join(work, 'workspace'));
    const workdir = options.workdir ?? (config.WorkingDir || '/');
    if (!workdir.startsWith('/')) throw new NbuildError('RUN_WORKDIR', `--workdir ${workdir}: must be an absolute path`, { exitCode: 2 });
    return await runSandboxed(
      {
        rootfs: workspace.rootfs,
        isolation: workspace.isolation,
        args,
        env: containerEnv(config, options.env ?? [], user.home),
        cwd: workdir,
        uid: user.uid,
        gid: user.gid,
        additionalGids: user.additionalGids,
        hostname: image.id.hex.slice(0, 12),
        network: options.network ?? 'host',
        hosts: `127.0.0.1\tlocalhost ${image.id.hex.slice(0, 12)}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
        resolvConf: await hostResolvConf(),
        mounts: [],
        ...(options.interactive ? { stdin: 'inherit' as const } : {}),
      },
      { onStdout: options.onStdout, onStderr: options.onStderr, signal: options.signal },
    );
  } finally {
    // The container's changes are discarded: there is no container store to keep them in.
    await store.removeTempDir(work).catch(() => undefined);
  }
}
