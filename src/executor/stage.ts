// Runs the instructions of one stage, step by step, on top of its base.
import * as path from 'node:path';
import type { Instruction, Dockerfile } from '../frontend/dockerfile/types.js';
import { expandRunMounts, processWord } from '../frontend/dockerfile/index.js';
import type { BuildPlan, PlannedStage } from '../planner/plan.js';
import { DockerfileError, NbuildError, RunStepError } from '../errors.js';
import { errnoOf, storeFsError } from '../store/fsutil.js';
import { loc, metadataStep } from './steps/metadata.js';
import { runStep as runInstructionStep } from './steps/run.js';
import { copyStep } from './steps/copy.js';
import { workdirStep } from './steps/workdir.js';
import { argStep } from './steps/arg.js';
import type { BuildView, Step, StageFlags, StepContext } from './step.js';
import { FromSources } from './from-source.js';
import { expansionLookup, type StageState } from './state.js';
import type { StepEnv } from './context.js';
import type { Layer } from '../image/image.js';
import { layerOfRef, layerRef } from '../cache/record.js';
import { chainKey } from '../cache/key.js';
import { addConfigHistory, addHistory, createdTime } from './history.js';
import { isoTime } from '../iso-time.js';

export interface StageRunner {
  env: StepEnv;
  plan: BuildPlan;
  /** The finished state of an earlier stage, by index (for COPY --from). */
  stageLayers(index: number): Layer[];
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
  const flags: StageFlags = { cmdSet: false };
  const sources = new FromSources(runner.env, runner, planned);
  const label = `${runner.labelPrefix ?? ''}${planned.stage.name ?? `stage-${planned.stage.index}`}`;
  const numbering = new StepNumbering(planned, triggers.length);
  // What reads a step's tree later: a later step of the stage that works on it, or another stage.
  const lastTreeStep = all.findLastIndex((k) => TREE_STEPS.has(k.kind));
  const readByLater = runner.plan.stages.some((s) => s.dependsOn.includes(planned.stage.index));
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
      cached = await runStep(runner, planned, state, instr, flags, { id, sources, laterStepsReadTree: readByLater || i < lastTreeStep });
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
/** The steps that work on the stage's tree (they see the layers before them unpacked). */
const TREE_STEPS = NUMBERED;

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

/** Each instruction kind's step (steps/NAME.ts). */
const STEPS: { [K in Exclude<Instruction['kind'], 'from'>]: Step<Extract<Instruction, { kind: K }>, any> } = {
  run: runInstructionStep,
  copy: copyStep,
  add: copyStep,
  workdir: workdirStep,
  arg: argStep,
  env: metadataStep,
  label: metadataStep,
  user: metadataStep,
  expose: metadataStep,
  volume: metadataStep,
  cmd: metadataStep,
  entrypoint: metadataStep,
  shell: metadataStep,
  stopsignal: metadataStep,
  healthcheck: metadataStep,
  onbuild: metadataStep,
  maintainer: metadataStep,
};

/** Runs one step (or takes it from the cache): describe, key, lookup, apply on a miss. Returns true on a cache hit. */
async function runStep(
  runner: StageRunner,
  planned: PlannedStage,
  state: StageState,
  instr: Instruction,
  flags: StageFlags,
  step: { id: number; sources: FromSources; laterStepsReadTree: boolean },
): Promise<boolean> {
  const { id, sources, laterStepsReadTree } = step;
  const created = createdTime(runner.env.timestamp);
  if (instr.kind === 'from') throw new DockerfileError(loc(instr), 'FROM inside a stage');
  const build: BuildView = { escape: runner.plan.dockerfile.escape, buildArgs: runner.plan.buildArgs, globalArgs: planned.globalArgs, network: runner.env.network, ulimits: runner.env.ulimits };
  const handler = STEPS[instr.kind] as Step<Instruction, unknown>;
  const description = handler.describe(instr, state, build);
  description.change?.(state, flags);
  if (description.kind === 'config') {
    if (description.createdBy !== undefined) addConfigHistory(state, description.createdBy, created, runner.env.timestamp);
    chain(state, description.material);
    return false;
  }
  const ctx: StepContext = { env: runner.env, sources, stepId: id, nextStepId: () => runner.nextStepId(), laterStepsReadTree };
  const reading = handler.read ? await handler.read(ctx, description.instr, state) : { material: {} };
  try {
    const material = { ...description.material, ...reading.material };
    return await cachedLayerStep(runner, state, description.createdBy, created, material, async () => {
      if (!handler.apply) throw new Error(`internal error: ${instr.kind} makes a layer but has no apply()`);
      return handler.apply(ctx, description.instr, state, reading.prepared);
    });
  } finally {
    await reading.prepared?.release();
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
  const { store, noCache, compressionLevel, timestamp } = runner.env;
  // The blob's bytes also depend on how it is compressed and clamped (a layer kept uncompressed
  // until the image leaves the store is keyed by the compression it gets then: build.ts compressLeaving).
  const compression = runner.env.deferredCompression ?? runner.env.compression;
  const key = chain(state, JSON.stringify({ material, compression, compressionLevel, timestamp }));
  if (!noCache) {
    const record = await store.cacheGet(key); // its layer's blob is in the store
    if (record) {
      const layer = record.layer ? layerOfRef(record.layer) : undefined;
      // Without an epoch a layer's time is its cache record's, as BuildKit takes the cached
      // ref's createdAt: a fully cached rebuild gives the same config (testReproducibleIDs).
      addHistory(state, layer, createdBy, timestamp === undefined ? record.createdAt : created);
      runner.env.cacheUsed?.(key, record);
      return true;
    }
  }
  const layer = await execute();
  const createdAt = isoTime(Date.now());
  addHistory(state, layer, createdBy, timestamp === undefined ? createdAt : created);
  const made = {
    layer: layer ? layerRef(layer) : undefined,
    config: { createdBy },
    createdAt,
  };
  await store.cachePut(key, made);
  runner.env.cacheUsed?.(key, made);
  return false;
}
