// RUN: the command runs in the rootless sandbox on an overlay of the stage's
// layers; the overlay's upper folder is the step's layer.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Instruction, RunInstruction, RunMount } from '../../frontend/dockerfile/types.js';
import { RunStepError, DockerfileError, NbuildError } from '../../errors.js';
import { probeHostOnce, runOnLayers, type IsolationMode } from '../../snapshot/index.js';
import { chompHeredoc, expandRunMounts } from '../../frontend/dockerfile/index.js';
import {
  fallbackNotice,
  planRunNetwork,
  type NetworkRequest,
  type RunNetwork,
  type SandboxMount,
} from '../../sandbox/index.js';
import { DEFAULT_PATH, envLookup, envMap, expansionLookup, shellOf, type StageState } from '../state.js';
import { sandboxHostname } from '../../planner/args.js';
import { runHistory } from '../history.js';
import { type RootfsView } from '../../snapshot/rootfs-view.js';
import { resolveInRoot } from '../../fs/in-root.js';
import { contextSourcesDigest } from '../../cache/content-hash.js';
import { commitLayer } from '../commit.js';
import type { Step, StepContext } from '../step.js';
import { loc } from './metadata.js';
import { bindMount } from '../../snapshot/bind-mount.js';
import type { SecretSource, StepEnv } from '../context.js';
import { forwardSshAgent, type SshAgentForward } from '../../sandbox/ssh-forward.js';
import { trace } from '../../trace.js';
import { sha256Hex } from '../../native/index.js';

export interface RunRequest {
  instr: RunInstruction;
  /** The instruction's `--mount`s, variables expanded (expandRunMounts). */
  mounts: RunMount[];
  /** RUN's hostname (planner/args.ts sandboxHostname). */
  hostname: string;
  state: StageState;
  lowerDirs: string[]; // top-most first
  workDir: string; // a fresh folder under the store's tmp
  stepId: number;
  /** Resolves `from=` of a RUN --mount to a folder (a stage's or image's tree). */
  mountSource(from: string | undefined): Promise<string>;
}

/** Runs the command; returns the upper folder holding its changes. */
export async function runCommand(env: StepEnv, req: RunRequest): Promise<string> {
  const { instr, state } = req;
  refuseInsecure(instr);
  // The ssh relays live as long as the command; closed on every way out.
  const forwards: SshAgentForward[] = [];
  const closeForwards = (): Promise<unknown> => Promise.all(forwards.map((f) => f.close()));
  const { result, args, workspace } = await runOnLayers({
    lowerDirs: req.lowerDirs,
    workDir: req.workDir,
    probe: env.store.probeCache,
    isolation: env.isolation,
    purpose: 'RUN steps',
    // No USER means uid 0 without a passwd lookup (an image may have no /etc/passwd).
    user: state.config.User ?? '',
    userError: (error) => new DockerfileError(loc(instr), `RUN: ${error.message}`, { cause: error }),
    command: async (mode, user) => {
      const network = await runNetwork(env, instr, mode === 'chroot' ? 'chroot' : 'namespaces');
      const runVars = withEnv(withSshAuthSock(runEnv(state, user.home, env.proxyEnv), req.mounts, state.config.WorkingDir || '/'), await secretEnv(env, req));
      const mounts = await sandboxMounts(env, req, mode, forwards);
      let args = runArgs(instr, shellOf(state.config));
      const script = shebangScript(instr);
      if (script) {
        // BuildKit writes it (0755) in a read-only folder mounted at /dev/pipes, and runs that file.
        const pipes = path.join(req.workDir, 'pipes');
        await fs.mkdir(pipes);
        await fs.writeFile(path.join(pipes, script.name), script.content, { mode: 0o755 });
        await fs.chmod(path.join(pipes, script.name), 0o755);
        mounts.push({ type: 'bind', source: pipes, target: '/dev/pipes', readonly: true });
        args = [...shellOf(state.config), `/dev/pipes/${script.name}`];
      }
      return {
        args,
        env: runVars,
        cwd: state.config.WorkingDir || '/',
        hostname: req.hostname,
        network: network.network,
        slirp4netns: network.slirp4netns,
        extraHosts: env.extraHosts ?? [],
        mounts,
        // Their durability is worthless (the layer is committed and stored afterwards, a crash
        // throws the step away) unless the build asks for them (--run-fsync; docs/decisions.md).
        syncCalls: env.runFsync ? 'real' : 'skip',
        rlimits: env.ulimits,
      };
    },
    io: {
      onStdout: (data) => env.emit({ type: 'step-output', id: req.stepId, stream: 'stdout', data }),
      onStderr: (data) => env.emit({ type: 'step-output', id: req.stepId, stream: 'stderr', data }),
      signal: env.signal,
    },
  }).finally(closeForwards);
  if (result.exitCode !== 0 || result.signal) {
    throw new RunStepError(loc(instr), commandText(instr), result.exitCode, result.signal, args);
  }
  return (await workspace.commit()).upperDir;
}

/**
 * `RUN --security=insecure` asks for every capability and no sandbox; BuildKit grants it only with
 * the security.insecure entitlement, which rootless nbuild cannot give.
 */
export function refuseInsecure(instr: Instruction): void {
  if (instr.kind !== 'run' || instr.security !== 'insecure') return;
  throw new DockerfileError(
    loc(instr),
    'RUN --security=insecure: entitlement security.insecure is not allowed: nbuild runs RUN rootless, with Docker\'s default capabilities, and cannot grant more (remove the flag)',
  );
}

/** The network a step asks for: its own `--network`, or the build's for none or `default`. */
export function requestedNetwork(instr: RunInstruction, env: Pick<StepEnv, 'network'>): NetworkRequest {
  return instr.network === 'none' || instr.network === 'host' ? instr.network : env.network;
}

/** Builds whose RUN steps were told that they use the host's network (once per build). */
const toldFallback = new WeakSet<StepEnv['emit']>();

/** The step's network; the first step of a build that falls back to the host's says why. */
async function runNetwork(env: StepEnv, instr: RunInstruction, isolation: 'namespaces' | 'chroot'): Promise<RunNetwork> {
  const requested = requestedNetwork(instr, env);
  let network: RunNetwork;
  try {
    network = planRunNetwork(requested, await probeHostOnce({ cache: env.store.probeCache }), isolation);
  } catch (error) {
    throw new DockerfileError(loc(instr), `RUN: ${(error as Error).message}`, { cause: error });
  }
  // Every stage's env is a copy of the build's, with the build's one emit function.
  if (network.fallback !== undefined && !toldFallback.has(env.emit)) {
    toldFallback.add(env.emit);
    env.emit({ type: 'warning', message: fallbackNotice(network.fallback) });
  }
  return network;
}


export function commandText(instr: RunInstruction): string {
  return instr.command.form === 'exec' ? JSON.stringify(instr.command.args) : instr.command.script;
}

/** `RUN <<EOF` alone: its here-document, the script itself (BuildKit's rule); undefined otherwise. */
function soleHeredoc(instr: RunInstruction): { name: string; content: string } | undefined {
  if (instr.command.form === 'exec' || instr.heredocs.length !== 1) return undefined;
  if (!/^<<(-?)["']?([A-Za-z0-9_.-]+)["']?\s*$/.test(instr.command.script.trim())) return undefined;
  const h = instr.heredocs[0];
  return { name: h.name, content: h.chomp ? chompHeredoc(h.content) : h.content };
}

/** A sole here-document that starts with `#!`: run as a file, by the interpreter it names. */
export function shebangScript(instr: RunInstruction): { name: string; content: string } | undefined {
  const h = soleHeredoc(instr);
  return h?.content.startsWith('#!') ? h : undefined;
}

/** The argv: exec form as written; shell form (with heredocs) through SHELL. */
export function runArgs(instr: RunInstruction, shell: string[]): string[] {
  if (instr.command.form === 'exec') return [...instr.command.args];
  const script = instr.command.script;
  const only = soleHeredoc(instr);
  if (only) return [...shell, only.content];
  if (instr.heredocs.length === 0) return [...shell, script];
  // Otherwise the shell reads the heredocs itself: hand it the whole text.
  const bodies = instr.heredocs.map((h) => `${h.content}${h.content.endsWith('\n') || h.content === '' ? '' : '\n'}${h.name}`).join('\n');
  return [...shell, `${script}\n${bodies}`];
}

/** Env of the command: the image's Env, then ARGs in scope, PATH and HOME defaults; the proxy build args win (BuildKit appends them last). */
export function runEnv(state: Pick<StageState, 'config' | 'args'>, home: string, proxies: ReadonlyMap<string, string> = new Map()): string[] {
  const env = envMap(state.config);
  for (const [k, v] of state.args) if (!env.has(k)) env.set(k, v);
  for (const [k, v] of proxies) env.set(k, v);
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
  if (!env.has('HOME')) env.set('HOME', home || '/root');
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** `base` (KEY=VALUE) with `overrides` set in place of a variable of the same name, once each. */
function withEnv(base: string[], overrides: ReadonlyMap<string, string>): string[] {
  const env = new Map(base.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const));
  for (const [k, v] of overrides) env.set(k, v);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** `RUN --mount=type=secret,id=X,env=NAME`: NAME=value in the command's environment (never in the history or cache key). */
async function secretEnv(env: StepEnv, req: RunRequest): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of req.mounts) {
    if (m.type !== 'secret' || m.env === undefined) continue;
    const src = secretSource(env, req, m);
    if (src === undefined) continue;
    const value = 'value' in src ? src.value : await fs.readFile(src.file, 'utf8').catch((error: Error) => {
      throw new NbuildError('SECRET_UNREADABLE', `secret "${m.id}": cannot read ${src.file}: ${error.message}`, { cause: error });
    });
    out.set(m.env, value);
  }
  return out;
}

/** A secret as given; undefined for an optional secret not given. */
function secretSource(env: StepEnv, req: RunRequest, m: Extract<RunMount, { type: 'secret' }>): SecretSource | undefined {
  const src = env.secrets.get(m.id);
  if (src === undefined && m.required) {
    // BuildKit: "secret mysecret: not found"
    throw new DockerfileError(loc(req.instr), `RUN --mount=type=secret: secret ${m.id}: not found (give it with --secret id=${m.id},src=FILE or env=VAR)`);
  }
  return src;
}

async function sandboxMounts(env: StepEnv, req: RunRequest, mode: IsolationMode, forwards: SshAgentForward[]): Promise<SandboxMount[]> {
  const mounts: SandboxMount[] = [];
  const workdir = req.state.config.WorkingDir || '/';
  // --shm-size: a tmpfs of that size over the helper's /dev/shm (mounted after /dev is set up).
  if (env.shmSize !== undefined) mounts.push({ type: 'tmpfs', target: '/dev/shm', readonly: false, options: [`size=${env.shmSize}`, 'mode=1777'] });
  let sshCount = 0;
  for (const m of req.mounts) {
    const mount = m.type === 'ssh' ? await sshMount(env, req, m, sshCount++, forwards) : await toSandboxMount(env, req, m, mode);
    if (!mount) continue;
    // A relative (or empty) target is relative to WORKDIR, as in BuildKit.
    mounts.push({ ...mount, target: path.posix.resolve(workdir, mount.target) });
  }
  return mounts;
}

async function toSandboxMount(env: StepEnv, req: RunRequest, m: RunMount, mode: IsolationMode): Promise<SandboxMount | undefined> {
  switch (m.type) {
    case 'tmpfs':
      return { type: 'tmpfs', target: m.target, readonly: false, options: m.size ? [`size=${m.size}`] : [] };
    case 'bind': {
      const root = m.from !== undefined ? { dir: await req.mountSource(m.from), name: `"${m.from}"` } : { dir: env.context.dir, name: 'the build context' };
      return bindMount(m, root, { where: loc(req.instr), mode, scratchDir: req.workDir, storeRoot: env.store.root });
    }
    case 'cache': {
      // A digest of the whole key: ids sharing a prefix are different caches.
      const dir = path.join(env.store.root, 'cache-mounts', sha256Hex(cacheMountKey(m)));
      await prepareCacheDir(env, dir, m, req.instr);
      // Only ever a real folder inside the store's cache-mounts folder (not that folder, not a link).
      if (path.dirname(dir) !== path.join(env.store.root, 'cache-mounts') || !(await fs.lstat(dir)).isDirectory()) {
        throw new NbuildError('CACHE_MOUNT', `cache mount "${m.id ?? m.target}": ${dir} is not a folder of the store's cache-mounts folder`);
      }
      return { type: 'bind', source: dir, target: m.target, readonly: m.readonly };
    }
    case 'secret': {
      const src = secretSource(env, req, m);
      // `env=NAME` without a target: the secret is an environment variable only (BuildKit).
      const fileWanted = m.env === undefined || m.target !== undefined;
      if (src === undefined) {
        return fileWanted ? { type: 'tmpfs', target: m.target ?? `/run/secrets/${m.id}`, readonly: true, options: [] } : undefined;
      }
      if (!fileWanted) return undefined;
      // A private copy owned as asked; it lives in the work folder, never in the layer.
      const copy = path.join(req.workDir, `secret-${mounts_safe(m.id)}`);
      if ('file' in src) await fs.copyFile(src.file, copy);
      else await fs.writeFile(copy, src.value, { mode: 0o600 });
      await fs.chown(copy, m.uid ?? 0, m.gid ?? 0);
      await fs.chmod(copy, m.mode ?? 0o400);
      return { type: 'bind', source: copy, target: m.target ?? `/run/secrets/${m.id}`, readonly: true };
    }
    case 'ssh':
      throw new Error('ssh mounts are made by sshMount');
  }
}

/** BuildKit's place for the Nth ssh mount without a target. */
function sshTarget(m: Extract<RunMount, { type: 'ssh' }>, n: number): string {
  return m.target ?? `/run/buildkit/ssh_agent.${n}`;
}

/** SSH_AUTH_SOCK names the first ssh mount (a relative target: under WORKDIR), unless ENV or ARG already set it (BuildKit's exec op). */
function withSshAuthSock(base: string[], mounts: readonly RunMount[], workdir: string): string[] {
  const first = mounts.find((m): m is Extract<RunMount, { type: 'ssh' }> => m.type === 'ssh');
  if (!first || base.some((e) => e.startsWith('SSH_AUTH_SOCK='))) return base;
  return [...base, `SSH_AUTH_SOCK=${path.posix.resolve(workdir, sshTarget(first, 0))}`];
}

/**
 * `RUN --mount=type=ssh[,id=ID]`: a relay socket to the agent `--ssh ID` gave (default id
 * "default"), owned uid:gid (default 0:0) with mode (default 0600). Without that agent: an error
 * when `required=true`, else no mount (BuildKit's optional ssh).
 */
async function sshMount(env: StepEnv, req: RunRequest, m: Extract<RunMount, { type: 'ssh' }>, n: number, forwards: SshAgentForward[]): Promise<SandboxMount | undefined> {
  const id = m.id ?? 'default';
  const agent = env.sshAgents?.get(id);
  if (agent === undefined) {
    if (!m.required) return undefined;
    throw new DockerfileError(loc(req.instr), `RUN --mount=type=ssh: no SSH agent "${id}" was given (forward one with --ssh ${id === 'default' ? 'default' : `${id}=SOCKET`})`);
  }
  const forward = await forwardSshAgent(agent, req.workDir, `ssh-${n}.sock`, { uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o600 });
  forwards.push(forward);
  return { type: 'bind', source: forward.socket, target: sshTarget(m, n), readonly: false };
}

/**
 * A cache mount's identity as BuildKit keys it: the id (default: the target), and, when
 * uid/gid/mode are given, the owner and mode of its base folder, so `uid=1001` on an id that
 * exists without it is another, fresh cache owned as asked.
 */
function cacheMountKey(m: Extract<RunMount, { type: 'cache' }>): string {
  const id = m.id ?? (path.posix.normalize(m.target).replace(/(.)\/$/, '$1') || '.');
  if (m.uid === undefined && m.gid === undefined && m.mode === undefined) return id;
  return `${m.uid ?? 0}:${m.gid ?? 0}:${(m.mode ?? 0o755).toString(8)}\0${id}`;
}

/**
 * Makes the cache folder on first use, owned and moded as asked. Under --no-cache a build starts
 * each cache it uses empty, once (BuildKit prunes the caches a no-cache step mounts).
 */
async function prepareCacheDir(env: StepEnv, dir: string, m: Extract<RunMount, { type: 'cache' }>, instr: RunInstruction): Promise<void> {
  if (env.noCache) {
    let emptied = env.emptiedCacheMounts.get(dir);
    if (!emptied) env.emptiedCacheMounts.set(dir, (emptied = fs.rm(dir, { recursive: true, force: true })));
    await emptied;
  }
  const madeParent = await fs.mkdir(path.dirname(dir), { recursive: true });
  try {
    await fs.mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw e;
  }
  if (m.uid !== undefined || m.gid !== undefined) await chownCacheDir(dir, m.uid ?? 0, m.gid ?? 0, instr, madeParent ?? dir);
  await fs.chmod(dir, m.mode ?? 0o755); // not mkdir's mode: the umask would clear bits of it
}

/**
 * uid/gid of a cache folder: an id the user namespace does not map is the Dockerfile's error,
 * and the folders made for it (`made`, the first of them) go again.
 */
async function chownCacheDir(dir: string, uid: number, gid: number, instr: RunInstruction, made: string | undefined): Promise<void> {
  try {
    await fs.chown(dir, uid, gid);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
    if (made !== undefined) await fs.rm(made, { recursive: true, force: true });
    const mapped = async (file: string): Promise<string> =>
      (await fs.readFile(file, 'utf8').catch(() => '')).trim().split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3)
        .map(([inside, , count]) => `${inside}-${Number(inside) + Number(count) - 1}`).join(', ');
    const [uids, gids] = await Promise.all([mapped('/proc/self/uid_map'), mapped('/proc/self/gid_map')]);
    throw new DockerfileError(loc(instr), `RUN --mount=type=cache,uid=${uid},gid=${gid}: not an id of nbuild's user namespace (uids ${uids || '?'}, gids ${gids || '?'}; see nbuild info)`, { cause: error });
  }
}

function mounts_safe(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** A RUN as its step applies it: the instruction, its mounts expanded, the sandbox's hostname. */
export type PlannedRun = Pick<RunRequest, 'instr' | 'mounts' | 'hostname'>;

export const runStep: Step<RunInstruction, PlannedRun> = {
  describe(instr, stage, build) {
    const mounts = expandRunMounts(instr, expansionLookup(stage), build.escape);
    const env = envLookup(stage.config);
    const createdBy = runHistory(runArgs(instr, shellOf(stage.config)), stage.declared, (name) => env(name) ?? stage.args.get(name));
    const hostname = sandboxHostname(build.buildArgs);
    // The proxy build args are not material: a changed proxy reuses the layer (BuildKit's rule).
    const material = {
      createdBy, env: runEnv(stage, ''), user: stage.config.User ?? '', cwd: stage.config.WorkingDir ?? '', mounts,
      mountSources: undefined, heredocs: instr.heredocs, network: requestedNetwork(instr, build), hostname,
      // BuildKit keeps ulimits in the ExecOp's Meta, so they are part of its cache key too.
      ulimits: build.ulimits?.length ? build.ulimits : undefined,
    };
    return { kind: 'layer', createdBy, material, instr: { instr, mounts, hostname } };
  },
  async read(ctx, run) {
    return { material: { mountSources: await mountSourcesDigest(ctx, run) } };
  },
  async apply(ctx, run, state) {
    trace('run: start');
    const workDir = await ctx.env.store.tempDir('run');
    const views: RootfsView[] = [];
    try {
      const lowerDirs = await ctx.env.store.lowerDirs(state.layers);
      trace('run: lower dirs ready');
      const upper = await runCommand(ctx.env, {
        ...run,
        state,
        lowerDirs,
        workDir,
        stepId: ctx.stepId,
        mountSource: async (from) =>
          from === undefined ? ctx.env.context.dir : ctx.sources.mountDir(from, () => path.join(workDir, `from-${ctx.nextStepId()}`), views, run.instr),
      });
      trace('run: committing');
      const layer = await commitLayer(ctx.env, upper, 'overlay-upper', { keepEmpty: true, instr: run.instr });
      trace('run: committed');
      return layer;
    } finally {
      // The views are mounted in nbuild's own namespace: unmount before removing the folder.
      for (const view of views.reverse()) await view.release();
      await ctx.env.store.removeTempDir(workDir);
    }
  },
};

/** What RUN's bind mounts show it (the context's files, or a stage's or image's tree): the step reads them. */
async function mountSourcesDigest(ctx: StepContext, run: PlannedRun): Promise<string[]> {
  const out: string[] = [];
  for (const m of run.mounts) {
    if (m.type !== 'bind') continue;
    if (m.from !== undefined) out.push(await ctx.sources.digest(m.from, run.instr, [m.source ?? '/']));
    else {
      // The files the mount shows: the source resolved inside the context as the mount resolves it
      // (bind-mount.ts); one that is not there is the mount's own error when the step runs.
      const context = ctx.env.context;
      const resolved = path.relative(context.dir, await resolveInRoot(context.dir, m.source ?? '/'));
      const digest = await contextSourcesDigest(context, [resolved], ctx.env.statCache).catch(() => undefined);
      out.push(digest ?? `missing:${resolved}`);
    }
  }
  return out;
}
