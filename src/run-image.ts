// The programmatic API of `nbuild run`: one command in an image, isolated exactly like a RUN
// step (runOnLayers: same sandbox, same isolation ladder, the image's layers as the lower stack). There is
// no container store: the container's changes live in a temp dir of the store and are thrown
// away when the command ends.
import { NbuildError } from './errors.js';
import type { ContainerConfig } from './image/types.js';
import type { SandboxResult } from './sandbox/index.js';
import { runOnLayers, type IsolationMode } from './snapshot/index.js';
import { Store } from './store/store.js';
import { DEFAULT_PATH } from './executor/state.js';


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
    const hostname = image.id.hex.slice(0, 12);
    const { result } = await runOnLayers({
      // The image's layers, top-most first; an image without layers runs on an empty dir.
      lowerDirs: await store.lowerDirs(image.layers),
      workDir: work,
      probe: store.probeCache,
      isolation: options.isolation,
      purpose: 'commands in an image',
      user: options.user ?? config.User ?? '',
      command: async (_mode, user) => {
        const workdir = options.workdir ?? (config.WorkingDir || '/');
        if (!workdir.startsWith('/')) throw new NbuildError('RUN_WORKDIR', `--workdir ${workdir}: must be an absolute path`, { exitCode: 2 });
        return {
          args,
          env: containerEnv(config, options.env ?? [], user.home),
          cwd: workdir,
          hostname,
          network: options.network ?? 'host',
          mounts: [],
          ...(options.interactive ? { stdin: 'inherit' as const } : {}),
        };
      },
      io: { onStdout: options.onStdout, onStderr: options.onStderr, signal: options.signal },
    });
    return result;
  } finally {
    // The container's changes are discarded: there is no container store to keep them in.
    await store.removeTempDir(work).catch(() => undefined);
  }
}
