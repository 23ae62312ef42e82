// Runs a BuildPlan: each needed stage in dependency order, on its base
// (scratch, an earlier stage or an image), with the base's ONBUILD triggers.
import type { BuildPlan, PlannedStage } from '../planner/plan.js';
import { parseDockerfile } from '../frontend/dockerfile/index.js';
import type { Instruction } from '../frontend/dockerfile/types.js';
import { Image, type Layer } from '../image/image.js';
import type { History, ImageConfig } from '../image/types.js';
import { DEFAULT_PATH, type StageState } from './state.js';
import { runStage, type StageRunner } from './stage.js';
import { createdTime, settleHistoryTimes } from './history.js';
import { baseImageKey, resolveBaseImage, type BaseImages, type ImageResolver } from './base-image.js';
import type { StepEnv } from './context.js';
import { formatPlatform } from '../planner/args.js';
import { declaredTriggers } from '../planner/plan.js';
import { DockerfileError, NbuildError } from '../errors.js';
import { runSupport } from '../sandbox/binfmt.js';
import { Limiter } from '../limiter.js';
import { MAX_HISTORY_LENGTH, MAX_STEPS } from '../frontend/dockerfile/limits.js';
import { loc } from './steps/metadata.js';
import { squashLayers } from './squash.js';
import { refuseInsecure } from './steps/run.js';

export interface ExecuteOptions {
  labels: ReadonlyMap<string, string>;
  squash?: 'none' | 'build' | 'all';
  /** --pull: re-resolve base images in the registry. */
  pull?: boolean;
  resolveRemote?: ImageResolver;
  /** --no-cache-filter: stages (by name) whose steps all run, hits or not. */
  noCacheStages?: ReadonlySet<string>;
  /** --annotation: annotations of the image manifest. */
  annotations?: Readonly<Record<string, string>>;
  /** Put before stage names in progress (the platform, in a multi-platform build). */
  labelPrefix?: string;
  /** Bounds the stages running at once, shared by the platforms of a multi-platform build. */
  limiter?: Limiter;
  /** Step ids for progress, shared by the platforms of a multi-platform build (they must not collide). */
  nextStepId?: () => number;
  /** Every FROM image of the plan, resolved for its stage's platform (build.ts, before planning). */
  baseImages: BaseImages;
  /** The binfmt_misc emulator of each stage whose RUN steps are emulated (checkRunSupport, done before any platform starts). */
  emulators: ReadonlyMap<number, string>;
}

export async function executePlan(outerEnv: StepEnv, plan: BuildPlan, options: ExecuteOptions): Promise<Image> {
  // A signal that came before the build started must stop it as surely as one during it.
  outerEnv.signal?.throwIfAborted();
  // One failing stage stops the stages running beside it.
  const abort = new AbortController();
  outerEnv.signal?.addEventListener('abort', () => abort.abort(outerEnv.signal?.reason), { once: true });
  // What can never run is refused before anything does (ONBUILD triggers: when their stage starts).
  for (const planned of plan.stages) planned.stage.instructions.forEach(refuseInsecure);
  const env: StepEnv = { ...outerEnv, signal: abort.signal };
  const finished = new Map<number, StageState>();
  const heirs = fromChildren(plan);
  let stepId = 0;
  const budget = new StepBudget();
  const runner: StageRunner = {
    env,
    plan,
    stageLayers: (index) => {
      const state = finished.get(index);
      if (!state) throw new NbuildError('STAGE_ORDER', `stage ${index} is used before it was built`);
      return state.layers;
    },
    imageLayers: async (ref) => [...(await resolveBaseImage(env.store, ref, options.resolveRemote)).layers],
    nextStepId: options.nextStepId ?? (() => ++stepId),
    countStep: (instr, historyText) => budget.count(instr, historyText),
  };
  const exported = exportedStages(plan);
  const support = new Map(options.emulators);
  await runConcurrently(plan.stages, abort, options.limiter ?? new Limiter(2), async (planned) => {
    const { state, triggers } = await initialState(env, plan, planned, finished, heirs, options);
    // ONBUILD RUN triggers come with the base image: checked once it is known.
    const triggerRun = triggers.find((i) => i.kind === 'run');
    if (triggerRun && !support.has(planned.stage.index)) {
      const s = await runSupport(planned.platform);
      if (s.how === 'emulated') support.set(planned.stage.index, s.handler);
      if (s.how === 'unavailable') throw new DockerfileError({ file: plan.dockerfile.file, line: planned.stage.from.source.range.start.line }, `ONBUILD RUN of the base image, for ${s.platform}, cannot run on this host: ${s.reason}`);
    }
    const stageRunner: StageRunner = {
      ...runner,
      env: stageEnv(env, planned, exported.has(planned.stage.index), options),
      imageLayers: async (ref) => [...(await resolveBaseImage(env.store, ref, options.resolveRemote, false, planned.platform)).layers],
      labelPrefix: options.labelPrefix,
      emulation: support.get(planned.stage.index),
    };
    const done = await runStage(stageRunner, planned, state, triggers);
    // Only the target's config and history reach the image, and a FROM-child takes its own:
    // a stage nobody builds FROM keeps its layers and cache key only (10,000 stages, bounded memory).
    const keepAll = planned.stage.index === plan.target || (heirs.get(planned.stage.index) ?? 0) > 0;
    finished.set(planned.stage.index, keepAll ? done : spent(done));
  });
  outerEnv.signal?.throwIfAborted();
  const target = finished.get(plan.target) as StageState;
  for (const [k, v] of options.labels) target.config.Labels = { ...(target.config.Labels ?? {}), [k]: v };
  if (options.squash === 'build' || options.squash === 'all') {
    const keep = options.squash === 'all' ? 0 : target.baseLayers;
    const squashed = await squashLayers(env, { layers: target.layers, history: target.history, keep });
    target.layers = squashed.layers;
    target.history = squashed.history;
  }
  return Image.build(imageConfig(env, target), target.layers, options.annotations);
}

/** The env of one stage's steps: its compression, whether its cache is used, its cache records tagged with the stage. */
function stageEnv(env: StepEnv, planned: PlannedStage, exported: boolean, options: ExecuteOptions): StepEnv {
  const index = planned.stage.index;
  const name = planned.stage.name;
  return {
    ...env,
    // A stage whose layers never reach the image (a builder read only by COPY --from) keeps
    // them uncompressed: compressing is most of a commit's cost, and nobody downloads these.
    compression: exported ? env.compression : 'none',
    deferredCompression: exported ? env.deferredCompression : undefined,
    noCache: env.noCache || (name !== undefined && (options.noCacheStages?.has(name) ?? false)),
    cacheUsed: env.cacheUsed ? (key, record) => env.cacheUsed?.(key, record, index) : undefined,
  };
}

async function initialState(
  env: StepEnv,
  plan: BuildPlan,
  planned: PlannedStage,
  finished: Map<number, StageState>,
  heirs: Map<number, number>,
  options: ExecuteOptions,
): Promise<{ state: StageState; triggers: Instruction[] }> {
  const base = planned.base;
  if (base.kind === 'scratch') {
    return { state: emptyState(planned), triggers: [] };
  }
  if (base.kind === 'stage') {
    const parent = finished.get(base.index) as StageState;
    const left = (heirs.get(base.index) ?? 1) - 1;
    heirs.set(base.index, left);
    let state: StageState;
    if (left > 0 || base.index === plan.target) state = cloneState(parent);
    else {
      // The last stage built FROM this one takes its config and history instead of copying
      // them: a chain of 10,000 stages costs O(steps), not O(stages × steps).
      finished.set(base.index, spent(parent));
      state = { ...parent, layers: [...parent.layers], args: new Map() };
    }
    // The ONBUILD triggers a stage declared run in the stages built FROM it (BuildKit), once:
    // they are not in this stage's config, as those of a base image are not.
    state.config.OnBuild = null;
    // (as planned: a stage a named context replaces declares none)
    const parentStage = plan.stages.find((s) => s.stage.index === base.index)?.stage ?? plan.dockerfile.stages[base.index];
    return { state, triggers: declaredTriggers(parentStage.instructions) };
  }
  const wanted = planned.platform;
  const image = options.baseImages.get(baseImageKey(base.ref, wanted))?.image;
  if (!image) throw new NbuildError('INTERNAL', `base image ${base.ref} for ${formatPlatform(wanted)} was not resolved before the build`);
  const cfg = image.config;
  if (cfg.architecture && cfg.architecture !== wanted.architecture) {
    env.emit({ type: 'warning', message: `base image ${base.ref} is ${cfg.os}/${cfg.architecture}, not ${formatPlatform(wanted)}: RUN steps may fail` });
  }
  const state: StageState = {
    config: structuredClone(cfg.config ?? {}),
    layers: [...image.layers],
    history: baseHistory(cfg.history ?? [], image.layers.length, cfg.created),
    args: new Map(),
    declared: [],
    platform: { os: cfg.os, architecture: cfg.architecture, variant: cfg.variant },
    baseLayers: image.layers.length,
    chainKey: image.configDigest.toString(),
  };
  // A stage a named context replaces is that image as it is (BuildKit dispatches nothing in it).
  const triggers = planned.namedContext !== undefined ? [] : onbuildTriggers(state.config.OnBuild ?? [], plan.dockerfile.file, base.ref);
  state.config.OnBuild = null; // triggers fire once, in the image built FROM this one
  return { state, triggers };
}

/** The target stage and the stages it is built FROM: their layers are the image's. */
function exportedStages(plan: BuildPlan): Set<number> {
  const byIndex = new Map(plan.stages.map((s) => [s.stage.index, s] as const));
  const out = new Set<number>();
  for (let current = byIndex.get(plan.target); current; ) {
    out.add(current.stage.index);
    current = current.base.kind === 'stage' ? byIndex.get(current.base.index) : undefined;
  }
  return out;
}

/**
 * Independent stages build concurrently (bounded): a stage starts once every
 * stage it reads from is finished. The first failure aborts the rest.
 */
async function runConcurrently(stages: PlannedStage[], abort: AbortController, limiter: Limiter, run: (s: PlannedStage) => Promise<void>): Promise<void> {
  const done = new Map<number, Promise<void>>();
  let firstError: unknown;
  for (const planned of stages) {
    const deps = planned.dependsOn.map((d) => done.get(d)).filter((p): p is Promise<void> => p !== undefined);
    done.set(
      planned.stage.index,
      Promise.all(deps).then(() =>
        limiter.run(async () => {
          try {
            if (abort.signal.aborted) throw abort.signal.reason ?? new NbuildError('ABORTED', 'build aborted');
            await run(planned);
          } catch (error) {
            firstError ??= error;
            abort.abort(error);
            throw error;
          }
        }),
      ),
    );
  }
  const results = await Promise.allSettled(done.values());
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw firstError ?? failure.reason;
}

function emptyState(planned: PlannedStage): StageState {
  return {
    // BuildKit's empty image: PATH, and `/` as the working folder.
    config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' },
    layers: [],
    history: [],
    args: new Map(),
    declared: [],
    platform: planned.platform,
    baseLayers: 0,
    // Per platform: a RUN on an empty root for arm64 is not the one for amd64.
    chainKey: `scratch:${formatPlatform(planned.platform)}`,
  };
}

/**
 * Every stage with a RUN must be able to run it on this host: natively, or emulated through
 * a binfmt_misc handler. Checked before anything runs, so a missing emulator costs nothing.
 * Returns the emulator of each emulated stage.
 */
export async function checkRunSupport(plan: BuildPlan): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const planned of plan.stages) {
    const run = planned.stage.instructions.find((i) => i.kind === 'run');
    if (!run) continue;
    const support = await runSupport(planned.platform);
    if (support.how === 'emulated') out.set(planned.stage.index, support.handler);
    else if (support.how === 'unavailable') {
      throw new DockerfileError({ file: plan.dockerfile.file, line: run.source.range.start.line }, `RUN for ${support.platform} cannot run on this ${formatPlatform(plan.buildPlatform)} host: ${support.reason}`);
    }
  }
  return out;
}

/**
 * A stage built FROM another starts where it ended, its ARGs included (BuildKit carries the
 * state's env and ARG list over). History entries are never changed once added: the copy shares them.
 */
function cloneState(s: StageState): StageState {
  return { ...s, config: structuredClone(s.config), layers: [...s.layers], history: [...s.history], args: new Map(s.args), declared: [...s.declared] };
}

/** What a finished stage keeps once no stage needs its config or history (COPY --from reads layers). */
function spent(s: StageState): StageState {
  return { ...s, config: {}, history: [] };
}

/** How many stages are built FROM each stage (by index). */
function fromChildren(plan: BuildPlan): Map<number, number> {
  const counts = new Map<number, number>();
  for (const s of plan.stages) if (s.base.kind === 'stage') counts.set(s.base.index, (counts.get(s.base.index) ?? 0) + 1);
  return counts;
}

/**
 * A base image's history, one non-empty entry per layer. A config without `history` is valid
 * OCI; BuildKit's exporter then adds entries for the layers it lacks (normalizeLayersAndHistory).
 * Here they go first, where the base layers are, so that history and layers stay in step.
 */
export function baseHistory(history: readonly History[], layers: number, created?: string): History[] {
  const out = structuredClone(history) as History[];
  const missing = layers - out.filter((h) => !h.empty_layer).length;
  if (missing <= 0) return out;
  const filler: History = { created_by: 'base layer (the base image has no history for it)', comment: 'nbuild.base.v0' };
  if (created !== undefined) filler.created = created;
  return [...Array.from({ length: missing }, () => ({ ...filler })), ...out];
}

/**
 * Build-wide bounds on what steps add: their number (ONBUILD triggers of base images included)
 * and the text of their history entries, which holds every expanded ENV, LABEL and ARG value;
 * without it `LABEL x=$HUGE` repeated grows the image config without end.
 */
class StepBudget {
  private steps = 0;
  private text = 0;

  count(instr: Instruction, historyText: number): void {
    this.steps++;
    this.text += historyText;
    if (this.steps > MAX_STEPS) {
      throw new DockerfileError(loc(instr), `this build has more than ${MAX_STEPS} steps (ONBUILD triggers included), nbuild's limit`, { code: 'LIMIT' });
    }
    if (this.text > MAX_HISTORY_LENGTH) {
      throw new DockerfileError(loc(instr), `the build's steps describe more than ${MAX_HISTORY_LENGTH} characters of image history (expanded ENV, LABEL and ARG values), nbuild's limit`, { code: 'LIMIT' });
    }
  }
}

/** The triggers in an image's config (`OnBuild`), parsed. */
export function onbuildTriggers(triggers: string[], file: string, ref: string): Instruction[] {
  if (triggers.length === 0) return [];
  const parsed = parseDockerfile(`FROM scratch\n${triggers.join('\n')}\n`, `${file} (ONBUILD of ${ref})`);
  return parsed.stages[0]?.instructions ?? [];
}

function imageConfig(env: StepEnv, state: StageState): ImageConfig {
  // With an epoch every time is the epoch; else `created` is the last history entry's (BuildKit).
  const settled = env.timestamp === undefined ? settleHistoryTimes(state.history) : undefined;
  const config: ImageConfig = {
    created: settled ?? createdTime(env.timestamp),
    architecture: state.platform.architecture,
    os: state.platform.os,
    config: state.config,
    rootfs: { type: 'layers', diff_ids: state.layers.map((l) => l.diffId.toString()) },
    history: state.history,
  };
  if (state.platform.variant) config.variant = state.platform.variant;
  if (state.author) config.author = state.author;
  return config;
}
