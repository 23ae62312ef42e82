// Runs the instructions of one stage, step by step, on top of its base.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Instruction, Dockerfile, RunMount } from '../frontend/dockerfile/types.js';
import { expandInstruction, expandRunMounts, processWord, ShellExpansionError } from '../frontend/dockerfile/index.js';
import { declareArgs, sandboxHostname } from '../planner/args.js';
import type { BuildPlan, PlannedStage } from '../planner/plan.js';
import { DockerfileError, NbuildError, RunStepError } from '../errors.js';
import { errnoOf, storeFsError } from '../store/fsutil.js';
import { applyMetadata, isMetadataInstruction, loc } from './steps/metadata.js';
import { runCommand, requestedNetwork, runArgs, runEnv, type RunRequest } from './steps/run.js';
import { argHistory, copyHistory, runHistory } from './history.js';
import type { History } from '../image/types.js';
import { stageCopy, type CopySource } from './steps/copy.js';
import { isUrl } from './steps/add-sources.js';
import { commitLayer } from './commit.js';
import { workdirLayer } from './steps/workdir.js';
import { openRootfsView, resolveInRoot, type RootfsView } from './rootfs-view.js';
import { resolveUser } from '../sandbox/index.js';
import { envMap, expansionLookup, shellOf, type StageState } from './state.js';
import type { NamedSource, StepEnv } from './context.js';
import { contextKey } from '../context/named-contexts.js';
import type { Layer } from '../image/image.js';
import { Digest } from '../image/digest.js';
import { contextSourcesDigest, type SourcesWalk, walkContextSources } from '../cache/content-hash.js';
import { chainKey } from '../cache/key.js';
import { trace } from '../trace.js';

export interface StageRunner {
  env: StepEnv;
  plan: BuildPlan;
  /** The finished state of an earlier stage, by index (for COPY --from). */
  stageLayers(index: number): Layer[];
  /** The cache chain key of a finished stage (what its tree was built from). */
  stageChainKey(index: number): string;
  /** Layers of an image named by COPY --from=<image>. */
  imageLayers(ref: string): Promise<Layer[]>;
  nextStepId(): number;
  /** Before the stage name in progress: the platform of a multi-platform build. */
  labelPrefix?: string;
  /** The binfmt_misc handler this stage's RUN steps are emulated by, if they are. */
  emulation?: string;
  /** Counts a step against the build's bounds (steps, history text); throws at the bound. */
  countStep(instr: Instruction, historyText: number): void;
}

/**
 * Steps that only change the config resolve without I/O: a long run of them would keep the
 * event loop (and with it SIGTERM's handler) waiting. Let it run every few milliseconds.
 */
let lastYield = Date.now();
async function letEventLoopRun(): Promise<void> {
  if (Date.now() - lastYield < 20) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastYield = Date.now();
}

export async function runStage(runner: StageRunner, planned: PlannedStage, state: StageState, triggers: Instruction[]): Promise<StageState> {
  const all = [...triggers, ...planned.stage.instructions];
  const flags = { cmdSet: false };
  const label = `${runner.labelPrefix ?? ''}${planned.stage.name ?? `stage-${planned.stage.index}`}`;
  const numbering = new StepNumbering(planned, triggers.length);
  await letEventLoopRun();
  for (let i = 0; i < all.length; i++) {
    const instr = all[i];
    await letEventLoopRun();
    if (runner.env.signal?.aborted) throw runner.env.signal.reason ?? new DockerfileError(loc(instr), 'build aborted');
    const id = runner.nextStepId();
    const started = Date.now();
    // Emulated steps are slow: say so where the step is shown.
    const name = stepName(instr, state, runner.plan.dockerfile);
    const text = instr.kind === 'run' && runner.emulation ? `${name}  (emulated: ${runner.emulation})` : name;
    runner.env.emit({ type: 'step-start', id, stage: label, index: numbering.next(instr, state), total: numbering.total, text });
    let cached: boolean;
    try {
      cached = await runStep(runner, planned, state, instr, flags, id);
    } catch (caught) {
      const error = locate(caught, instr);
      // Progress displays close the step (and show its output) before the CLI reports the error.
      runner.env.emit({ type: 'step-error', id, message: (error as Error).message });
      throw error;
    }
    runner.countStep(instr, state.history[state.history.length - 1]?.created_by?.length ?? 0);
    runner.env.emit({ type: 'step-done', id, cached, seconds: (Date.now() - started) / 1000 });
  }
  return state;
}

/**
 * BuildKit's step numbers (dockerfile2llb prefixCommand): the total counts a FROM of an image,
 * the stage's ADD, COPY, RUN and WORKDIR, and every ONBUILD trigger; a FROM of an image, ADD,
 * COPY, RUN and a WORKDIR other than `/` take the next number. nbuild also shows the steps that
 * only change the config: they carry the number of the step before them.
 */
class StepNumbering {
  readonly total: number;
  private index: number;

  constructor(planned: PlannedStage, triggers: number) {
    const fromImage = planned.base.kind === 'image' ? 1 : 0;
    this.index = fromImage;
    this.total = fromImage + triggers + planned.stage.instructions.filter((i) => NUMBERED.has(i.kind)).length;
  }

  next(instr: Instruction, state: StageState): number {
    const root = instr.kind === 'workdir' && path.posix.resolve(state.config.WorkingDir || '/', instr.path) === '/';
    if (NUMBERED.has(instr.kind) && !root) this.index++;
    return this.index;
  }
}

const NUMBERED = new Set<Instruction['kind']>(['add', 'copy', 'run', 'workdir']);

/**
 * A step's failure names its Dockerfile line: an NbuildError without one (a source outside the
 * context, a full store) and a system error (ENOSPC while staging a COPY) get the step's. An
 * interrupt (exit status 128+N) and a bug (no errno: "internal error") pass as they are.
 */
function locate(error: unknown, instr: Instruction): unknown {
  if (error instanceof DockerfileError || error instanceof RunStepError) return error;
  const keyword = instr.kind.toUpperCase();
  const say = (message: string): string => (message.startsWith(keyword) ? message : `${keyword}: ${message}`);
  const errno = errnoOf(error);
  // A step writes into the store's tmp folder: a full disk there is the store's (also when the
  // native engine's copy hit it).
  if ((errno === 'ENOSPC' || errno === 'EDQUOT') && !(error instanceof NbuildError && error.exitCode !== 1)) {
    const full = storeFsError(error, `running ${keyword}`) as NbuildError;
    return new DockerfileError(loc(instr), say(full.message), { code: full.code, cause: error });
  }
  if (error instanceof NbuildError) {
    if (error.exitCode !== 1) return error;
    return new DockerfileError(loc(instr), say(error.message), { code: error.code, cause: error });
  }
  if (errno === undefined) return error;
  return new DockerfileError(loc(instr), say((error as Error).message), { code: errno, cause: error });
}

/** Runs one step (or takes it from the cache); returns true on a cache hit. */
async function runStep(runner: StageRunner, planned: PlannedStage, state: StageState, instr: Instruction, flags: { cmdSet: boolean }, id: number): Promise<boolean> {
  const df: Dockerfile = runner.plan.dockerfile;
  const created = createdTime(runner.env);
  if (instr.kind === 'run') {
    const mounts = expandRunMounts(instr, expansionLookup(state), df.escape);
    const env = envMap(state.config);
    const createdBy = runHistory(runArgs(instr, shellOf(state.config)), state.declared, (name) => env.get(name) ?? state.args.get(name));
    const hostname = sandboxHostname(runner.plan.buildArgs);
    // The proxy build args are not material: a changed proxy reuses the layer (BuildKit's rule).
    const material = {
      createdBy, env: runEnv(state, ''), user: state.config.User ?? '', cwd: state.config.WorkingDir ?? '', mounts,
      mountSources: await mountSourcesDigest(runner, mounts, instr), heredocs: instr.heredocs, network: requestedNetwork(instr, runner.env), hostname,
      // BuildKit keeps ulimits in the ExecOp's Meta, so they are part of its cache key too.
      ulimits: runner.env.ulimits?.length ? runner.env.ulimits : undefined,
    };
    const run = { instr, mounts, hostname };
    return cachedLayerStep(runner, state, createdBy, created, material, () => runStepLayer(runner, state, run, id));
  }
  if (instr.kind === 'arg') {
    // A default is expanded only when no --build-arg gives the value (`ARG B=${A:?}` with B given is fine).
    const lookup = expansionLookup(state);
    const word = (w: string): string => {
      try {
        return processWord(w, lookup, df.escape);
      } catch (error) {
        if (!(error instanceof ShellExpansionError)) throw error;
        throw new DockerfileError(loc(instr), `ARG: ${error.detail}`, { code: 'SHELL_EXPANSION', cause: error });
      }
    };
    declareArgs(state.args, instr, runner.plan.buildArgs, word, planned.globalArgs);
    const names = instr.args.map((a) => a.name);
    for (const name of names) if (!state.declared.includes(name)) state.declared.push(name);
    const createdBy = argHistory(names, (name) => state.args.get(name));
    addConfigHistory(state, createdBy, created, runner.env);
    // The values (not only the text) decide what later steps see.
    chain(state, JSON.stringify([createdBy, ...names.map((n) => [n, state.args.get(n) ?? null])]));
    return false;
  }
  const expanded = expand(instr, state, df);
  switch (expanded.kind) {
    case 'copy':
    case 'add': {
      const createdBy = copyHistory(expanded);
      trace('copy: digesting sources');
      // Mostly context files the stat cache does not know (a cold build): the step is staged
      // first and the files hashed as they are copied, so each is read once; the key is made
      // from those digests, and a cache hit then drops the staged tree. A few unknown files (a
      // touched one) are only hashed: staging the whole COPY for them would cost more.
      const walk = await copySourceWalk(runner, expanded);
      let staged: StagedCopy | undefined;
      try {
        if (walk && walk.unknownBytes > 0 && walk.unknownBytes * 2 >= walk.totalBytes) {
          staged = await stageCopyStep(runner, state, expanded);
          trace('copy: staged before the key');
        }
        const content = await copySourceDigest(runner, expanded, walk);
        const material = { createdBy, instr: { ...expanded, source: undefined }, cwd: state.config.WorkingDir ?? '', content };
        trace('copy: sources digested');
        const early = staged;
        return await cachedLayerStep(runner, state, createdBy, created, material, () => (early ? early.commit() : copyStepLayer(runner, state, expanded)));
      } finally {
        await staged?.release();
      }
    }
    case 'workdir': {
      const createdBy = applyMetadata(state, expanded, flags) ?? '';
      const dir = state.config.WorkingDir ?? '/';
      // The cache key is the chain so far: a hit also knows whether the folder existed.
      return cachedLayerStep(runner, state, createdBy, created, { createdBy, user: state.config.User ?? '' }, async () => {
        const workDir = await runner.env.store.tempDir('workdir');
        try {
          return await workdirLayer(runner.env, expanded, await lowerDirsOf(runner, state.layers), dir, state.config.User, workDir);
        } finally {
          await runner.env.store.removeTempDir(workDir);
        }
      });
    }
    case 'from':
      throw new DockerfileError(loc(instr), 'FROM inside a stage');
    default:
      if (isMetadataInstruction(expanded)) {
        const createdBy = applyMetadata(state, expanded, flags);
        if (createdBy !== undefined) addConfigHistory(state, createdBy, created, runner.env);
        chain(state, createdBy ?? JSON.stringify(expanded.source.original));
      }
      return false;
  }
}

/**
 * The step's name in the progress. A RUN is named as BuildKit names it: its line with the
 * variables it sees expanded (quotes kept, unset ones as written), and the variables a secret
 * is given in (`--mount=type=secret,env=NAME`) shown as `****`.
 */
function stepName(instr: Instruction, state: StageState, df: Dockerfile): string {
  if (instr.kind !== 'run') return instr.source.original;
  const lookup = expansionLookup(state);
  try {
    const secret = new Set(expandRunMounts(instr, lookup, df.escape).flatMap((m) => (m.type === 'secret' && m.env !== undefined ? [m.env] : [])));
    return processWord(instr.source.original, (name) => (secret.has(name) ? '****' : lookup(name)), df.escape, { rawQuotes: true, skipUnsetEnv: true });
  } catch {
    return instr.source.original; // the step itself reports the error
  }
}

function chain(state: StageState, material: string): string {
  state.chainKey = chainKey(state.chainKey, material);
  return state.chainKey;
}

/**
 * A step that makes a layer: keyed by the chain so far plus what the step
 * reads; a hit reuses the stored layer without running anything.
 */
async function cachedLayerStep(
  runner: StageRunner,
  state: StageState,
  createdBy: string,
  created: string,
  material: unknown,
  execute: () => Promise<Layer | undefined>,
): Promise<boolean> {
  const { store, noCache, compression, compressionLevel, timestamp } = runner.env;
  // The blob's bytes also depend on how it is compressed and clamped.
  const key = chain(state, JSON.stringify({ material, compression, compressionLevel, timestamp }));
  if (!noCache) {
    const record = await store.cacheGet(key);
    const layer = record?.layer ? { digest: Digest.parse(record.layer.digest), diffId: Digest.parse(record.layer.diffId), size: record.layer.size, mediaType: record.layer.mediaType } : undefined;
    if (record && (!layer || (await store.hasBlob(layer.digest)))) {
      // Without an epoch a layer's time is its cache record's, as BuildKit takes the cached
      // ref's createdAt: a fully cached rebuild gives the same config (testReproducibleIDs).
      addHistory(state, layer, createdBy, timestamp === undefined ? record.createdAt : created);
      runner.env.cacheUsed?.(key, record);
      return true;
    }
  }
  const layer = await execute();
  const createdAt = new Date().toISOString();
  addHistory(state, layer, createdBy, timestamp === undefined ? createdAt : created);
  const made = {
    layer: layer ? { digest: layer.digest.toString(), diffId: layer.diffId.toString(), size: layer.size, mediaType: layer.mediaType } : undefined,
    config: { createdBy },
    createdAt,
  };
  await store.cachePut(key, made);
  runner.env.cacheUsed?.(key, made);
  return false;
}

/** A COPY from the context: the deferred walk of its sources (stage.ts decides whether to copy first). */
async function copySourceWalk(runner: StageRunner, instr: Extract<Instruction, { kind: 'copy' | 'add' }>): Promise<SourcesWalk | undefined> {
  if (instr.kind !== 'copy' || instr.from !== undefined) return undefined;
  return walkContextSources(runner.env.context, contextSources(instr), runner.env.statCache, true);
}

/** What a COPY or ADD reads, for its cache key (a COPY's context files from `walk`, when given). */
async function copySourceDigest(runner: StageRunner, instr: Extract<Instruction, { kind: 'copy' | 'add' }>, walk?: SourcesWalk): Promise<string> {
  if (instr.kind === 'copy' && instr.from !== undefined) return fromDigest(runner, instr.from, instr);
  const digest = walk ? await walk.digest() : await contextSourcesDigest(runner.env.context, contextSources(instr), runner.env.statCache);
  if (instr.kind !== 'add') return digest;
  const urls = await Promise.all(instr.sources.filter(isUrl).map((u) => runner.env.urls.digest(u, instr.checksum)));
  return urls.length === 0 ? digest : `${digest}\0${urls.join('\0')}`;
}

/** The context paths a COPY or ADD reads: --parents copies the folder before a `/./` pivot, filtered, so its whole tree. */
function contextSources(instr: Extract<Instruction, { kind: 'copy' | 'add' }>): string[] {
  return instr.sources.filter((s) => !isUrl(s)).map((s) => (instr.kind === 'copy' && instr.parents ? parentsRoot(s) : s));
}

function parentsRoot(source: string): string {
  const pivot = source.indexOf('/./');
  return pivot >= 0 ? source.slice(0, pivot) || '/' : '.';
}

/**
 * The stage a `--from`/`from=` names: by index, or the last stage of that name (BuildKit's
 * statesByName keeps the last of duplicate names).
 */
function stageNamed(runner: StageRunner, from: string): PlannedStage | undefined {
  return runner.plan.stages.findLast((s) => s.stage.name === from.toLowerCase() || String(s.stage.index) === from);
}

/** What a `--from` names, for a cache key: a stage by how it was built, an image by its layers. */
async function fromDigest(runner: StageRunner, from: string, instr: Instruction): Promise<string> {
  const named = namedSource(runner, from);
  if (named?.kind === 'local') return `context:${await contextSourcesDigest(named.context, ['.'], runner.env.statCache)}`;
  if (named) return `image:${(await layersOf(runner, from, instr)).map((l) => l.diffId.toString()).join(',')}`;
  const stage = stageNamed(runner, from);
  if (stage) return `stage:${runner.stageChainKey(stage.stage.index)}`;
  return `image:${(await imageLayersAt(runner, from, instr)).map((l) => l.diffId.toString()).join(',')}`;
}

/** What RUN's bind mounts show it (the context's files, or a stage's or image's tree): the step reads them. */
async function mountSourcesDigest(runner: StageRunner, mounts: RunMount[], instr: Instruction): Promise<string[]> {
  const out: string[] = [];
  for (const m of mounts) {
    if (m.type !== 'bind') continue;
    if (m.from !== undefined) out.push(await fromDigest(runner, m.from, instr));
    else {
      // The files the mount shows: the source resolved inside the context as the mount resolves it
      // (bind-mount.ts); one that is not there is the mount's own error when the step runs.
      const context = runner.env.context;
      const resolved = path.relative(context.dir, await resolveInRoot(context.dir, m.source ?? '/'));
      const digest = await contextSourcesDigest(context, [resolved], runner.env.statCache).catch(() => undefined);
      out.push(digest ?? `missing:${resolved}`);
    }
  }
  return out;
}

/** Substitutes variables (ENV wins over ARG) per the instruction's own rules. */
function expand<T extends Instruction>(instr: T, state: StageState, df: Dockerfile): T {
  return expandInstruction(instr, expansionLookup(state), df.escape);
}

/**
 * The layers' folders, top-most first. A layer met twice (two steps that made the same
 * bytes) is kept only where it is top-most: its lower copy hides nothing the upper one does
 * not, and overlay refuses a lowerdir listed twice (ELOOP).
 */
async function lowerDirsOf(runner: StageRunner, layers: Layer[]): Promise<string[]> {
  return runner.env.store.lowerDirs(layers);
}

async function runStepLayer(runner: StageRunner, state: StageState, run: Pick<RunRequest, 'instr' | 'mounts' | 'hostname'>, id: number): Promise<Layer | undefined> {
  trace('run: start');
  const workDir = await runner.env.store.tempDir('run');
  const views: RootfsView[] = [];
  try {
    const lowerDirs = await lowerDirsOf(runner, state.layers);
    trace('run: lower dirs ready');
    const upper = await runCommand(runner.env, {
      ...run,
      state,
      lowerDirs,
      workDir,
      stepId: id,
      mountSource: async (from) => mountSource(runner, from, workDir, views, run.instr),
    });
    trace('run: committing');
    const layer = await commitLayer(runner.env, upper, 'overlay-upper', { keepEmpty: true, instr: run.instr });
    trace('run: committed');
    return layer;
  } finally {
    // The views are mounted in nbuild's own namespace: unmount before removing the folder.
    for (const view of views.reverse()) await view.release();
    await runner.env.store.removeTempDir(workDir);
  }
}

async function mountSource(runner: StageRunner, from: string | undefined, workDir: string, views: RootfsView[], instr: Instruction): Promise<string> {
  if (from === undefined) return runner.env.context.dir;
  const named = namedSource(runner, from);
  if (named?.kind === 'local') return named.context.dir;
  const layers = await layersOf(runner, from, instr);
  const view = await openRootfsView(await lowerDirsOf(runner, layers), path.join(workDir, `from-${runner.nextStepId()}`));
  views.push(view);
  return view.dir;
}

/** The --build-context a `--from` names: it comes before a stage of that name (which it replaces) and an image. */
function namedSource(runner: StageRunner, from: string): NamedSource | undefined {
  const key = runner.env.namedContexts?.size ? contextKey(from) : undefined;
  return key === undefined ? undefined : runner.env.namedContexts?.get(key);
}

async function layersOf(runner: StageRunner, from: string, instr: Instruction): Promise<Layer[]> {
  const named = namedSource(runner, from);
  if (named?.kind === 'scratch') return [];
  if (named?.kind === 'image') return imageLayersAt(runner, named.ref, instr);
  const byName = stageNamed(runner, from);
  if (byName) return runner.stageLayers(byName.stage.index);
  return imageLayersAt(runner, from, instr);
}

/** An image named by --from: a failure to find or pull it is an error at the instruction. */
async function imageLayersAt(runner: StageRunner, ref: string, instr: Instruction): Promise<Layer[]> {
  try {
    return await runner.imageLayers(ref);
  } catch (error) {
    if (error instanceof DockerfileError) throw error;
    throw new DockerfileError(loc(instr), (error as Error).message, { code: (error as { code?: string }).code, cause: error });
  }
}

async function copyStepLayer(runner: StageRunner, state: StageState, instr: Extract<Instruction, { kind: 'copy' | 'add' }>): Promise<Layer | undefined> {
  const staged = await stageCopyStep(runner, state, instr);
  try {
    return await staged.commit();
  } finally {
    await staged.release();
  }
}

/** A COPY or ADD staged (its files in a tree of the store's tmp/), to be committed as a layer or dropped. */
interface StagedCopy {
  commit(): Promise<Layer | undefined>;
  release(): Promise<void>;
}

async function stageCopyStep(runner: StageRunner, state: StageState, instr: Extract<Instruction, { kind: 'copy' | 'add' }>): Promise<StagedCopy> {
  const env = runner.env;
  const workDir = await env.store.tempDir('copy');
  const views: { release(): Promise<void> }[] = [];
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    for (const v of views.splice(0).reverse()) await v.release();
    await env.store.removeTempDir(workDir);
    trace('copy: cleaned up');
  };
  try {
    const imageView = await openRootfsView(await lowerDirsOf(runner, state.layers), path.join(workDir, 'image'));
    views.push(imageView);
    let source: CopySource = { kind: 'context', context: env.context };
    const named = instr.kind === 'copy' && instr.from !== undefined ? namedSource(runner, instr.from) : undefined;
    if (named?.kind === 'local') source = { kind: 'context', context: named.context };
    else if (instr.kind === 'copy' && instr.from !== undefined) {
      const fromView = await openRootfsView(await lowerDirsOf(runner, await layersOf(runner, instr.from, instr)), path.join(workDir, 'from'));
      views.push(fromView);
      source = { kind: 'rootfs', dir: fromView.dir, name: instr.from };
    }
    const owner = instr.chown ? await resolveOwner(imageView.dir, instr.chown, instr) : undefined;
    const stagingRoot = path.join(workDir, 'layer');
    await fs.mkdir(stagingRoot);
    trace('copy: staging');
    await stageCopy(env, { instr, source, imageRoot: imageView.dir, workdir: state.config.WorkingDir || '/', owner, stagingRoot });
    for (const v of views.splice(0).reverse()) await v.release();
    return {
      commit: async () => {
        trace('copy: committing');
        const layer = await commitLayer(env, stagingRoot, 'plain', { keepEmpty: true, instr });
        trace('copy: committed');
        return layer;
      },
      release,
    };
  } catch (e) {
    await release();
    throw e;
  }
}

async function resolveOwner(root: string, chown: string, instr: Instruction): Promise<{ uid: number; gid: number }> {
  try {
    const u = await resolveUser(root, chown);
    // A user without a group takes the same number as its gid (Docker's rule).
    return { uid: u.uid, gid: chown.includes(':') ? u.gid : u.uid };
  } catch (error) {
    throw new DockerfileError(loc(instr), `--chown=${chown}: ${(error as Error).message}`, { cause: error });
  }
}

function addHistory(state: StageState, layer: Layer | undefined, createdBy: string, created: string): void {
  if (layer) state.layers.push(layer);
  state.history.push({ created, created_by: createdBy, comment: 'nbuild.dockerfile.v0', ...(layer ? {} : { empty_layer: true }) });
}

/** History entries of config-only steps: their time is settled when the image is written (settleHistoryTimes). */
const configOnlyEntries = new WeakSet<History>();

function addConfigHistory(state: StageState, createdBy: string, created: string, env: StepEnv): void {
  addHistory(state, undefined, createdBy, created);
  if (env.timestamp === undefined) configOnlyEntries.add(state.history[state.history.length - 1]);
}

/**
 * Without an epoch, BuildKit's exporter (exporter/containerimage/writer.go:
 * normalizeLayersAndHistory) gives the history entries of config-only steps, which have no
 * time of their own, the time of the first new layer after them, or of the layer before them
 * once one came; the image's `created` is then the last entry's (patchImageConfig). So a fully
 * cached rebuild writes the same config.
 */
export function settleHistoryTimes(history: History[]): string | undefined {
  const unset = (h: History): boolean => configOnlyEntries.has(h) || h.created === undefined;
  let created: string | undefined;
  let seenUnset = false;
  for (const h of history) {
    if (!unset(h)) {
      created = h.created;
      if (seenUnset) break;
    } else seenUnset = true;
  }
  seenUnset = false;
  for (const h of history) {
    if (!unset(h)) {
      if (seenUnset) created = h.created;
    } else {
      seenUnset = true;
      configOnlyEntries.delete(h);
      if (created === undefined) delete h.created;
      else h.created = created;
    }
  }
  return history.at(-1)?.created;
}

export function createdTime(env: StepEnv): string {
  return env.timestamp !== undefined ? new Date(env.timestamp * 1000).toISOString().replace('.000Z', 'Z') : new Date().toISOString();
}
