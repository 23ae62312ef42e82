// Runs the instructions of one stage, step by step, on top of its base.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Instruction, Dockerfile } from '../frontend/dockerfile/types.js';
import { expandInstruction } from '../frontend/dockerfile/index.js';
import { declareArgs } from '../planner/args.js';
import type { BuildPlan, PlannedStage } from '../planner/plan.js';
import { DockerfileError } from '../errors.js';
import { applyMetadata, isMetadataInstruction, loc } from './steps/metadata.js';
import { runCommand, commandText } from './steps/run.js';
import { stageCopy, type CopySource } from './steps/copy.js';
import { commitLayer } from './commit.js';
import { openRootfsView } from './rootfs-view.js';
import { resolveUser } from '../sandbox/index.js';
import { expansionLookup, shellOf, type StageState } from './state.js';
import type { StepEnv } from './context.js';
import type { Layer } from '../image/image.js';

export interface StageRunner {
  env: StepEnv;
  plan: BuildPlan;
  /** The finished state of an earlier stage, by index (for COPY --from). */
  stageLayers(index: number): Layer[];
  /** Layers of an image named by COPY --from=<image>. */
  imageLayers(ref: string): Promise<Layer[]>;
  nextStepId(): number;
}

export async function runStage(runner: RunnerLike, planned: PlannedStage, state: StageState, triggers: Instruction[]): Promise<StageState> {
  const all = [...triggers, ...planned.stage.instructions];
  const flags = { cmdSet: false };
  const label = planned.stage.name ?? `stage-${planned.stage.index}`;
  for (let i = 0; i < all.length; i++) {
    const instr = all[i];
    const id = runner.nextStepId();
    const started = Date.now();
    runner.env.emit({ type: 'step-start', id, stage: label, index: i + 1, total: all.length, text: instr.source.original });
    await runStep(runner, planned, state, instr, flags, id);
    runner.env.emit({ type: 'step-done', id, cached: false, seconds: (Date.now() - started) / 1000 });
  }
  return state;
}

type RunnerLike = StageRunner;

async function runStep(runner: RunnerLike, planned: PlannedStage, state: StageState, instr: Instruction, flags: { cmdSet: boolean }, id: number): Promise<void> {
  const df: Dockerfile = runner.plan.dockerfile;
  const created = createdTime(runner.env);
  if (instr.kind === 'run') {
    const layer = await runStepLayer(runner, state, instr, id);
    addHistory(state, layer, `RUN ${instr.command.form === 'exec' ? JSON.stringify(instr.command.args) : `${shellOf(state.config).join(' ')} ${commandText(instr)}`}`, created);
    return;
  }
  const expanded = expand(instr, state, df);
  switch (expanded.kind) {
    case 'arg':
      declareArgs(state.args, expanded, runner.plan.buildArgs, (w) => w, planned.globalArgs);
      addHistory(state, undefined, `ARG ${expanded.args.map((a) => (a.defaultValue !== undefined ? `${a.name}=${a.defaultValue}` : a.name)).join(' ')}`, created);
      return;
    case 'copy':
    case 'add': {
      const layer = await copyStepLayer(runner, state, expanded);
      addHistory(state, layer, `${expanded.kind.toUpperCase()} ${expanded.sources.join(' ')} ${expanded.dest}`, created);
      return;
    }
    case 'from':
      throw new DockerfileError(loc(instr), 'FROM inside a stage');
    default:
      if (isMetadataInstruction(expanded)) {
        addHistory(state, undefined, applyMetadata(state, expanded, flags), created);
        return;
      }
  }
}

function expand<T extends Instruction>(instr: T, state: StageState, df: Dockerfile): T {
  if (instr.kind === 'arg') {
    // ARG defaults expand with what is in scope so far.
    return expandInstruction(instr, expansionLookup(state), df.escape);
  }
  return expandInstruction(instr, expansionLookup(state), df.escape);
}

async function lowerDirsOf(runner: RunnerLike, layers: Layer[]): Promise<string[]> {
  const dirs = await Promise.all(layers.map((l) => runner.env.store.layerDir(l)));
  return dirs.reverse();
}

async function runStepLayer(runner: RunnerLike, state: StageState, instr: Extract<Instruction, { kind: 'run' }>, id: number): Promise<Layer | undefined> {
  const workDir = await runner.env.store.tempDir('run');
  try {
    const upper = await runCommand(runner.env, {
      instr,
      state,
      lowerDirs: await lowerDirsOf(runner, state.layers),
      workDir,
      stepId: id,
      mountSource: async (from) => mountSource(runner, from, workDir),
    });
    return await commitLayer(runner.env, upper, 'overlay-upper');
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

async function mountSource(runner: RunnerLike, from: string | undefined, workDir: string): Promise<string> {
  if (from === undefined) return runner.env.context.dir;
  const layers = await layersOf(runner, from);
  const view = await openRootfsView(await lowerDirsOf(runner, layers), path.join(workDir, `from-${runner.nextStepId()}`));
  return view.dir;
}

async function layersOf(runner: RunnerLike, from: string): Promise<Layer[]> {
  const byName = runner.plan.stages.find((s) => s.stage.name === from.toLowerCase() || String(s.stage.index) === from);
  if (byName) return runner.stageLayers(byName.stage.index);
  return runner.imageLayers(from);
}

async function copyStepLayer(runner: RunnerLike, state: StageState, instr: Extract<Instruction, { kind: 'copy' | 'add' }>): Promise<Layer | undefined> {
  const env = runner.env;
  const workDir = await env.store.tempDir('copy');
  const views: { release(): Promise<void> }[] = [];
  try {
    const imageView = await openRootfsView(await lowerDirsOf(runner, state.layers), path.join(workDir, 'image'));
    views.push(imageView);
    let source: CopySource = { kind: 'context', context: env.context };
    if (instr.kind === 'copy' && instr.from !== undefined) {
      const fromView = await openRootfsView(await lowerDirsOf(runner, await layersOf(runner, instr.from)), path.join(workDir, 'from'));
      views.push(fromView);
      source = { kind: 'rootfs', dir: fromView.dir, name: instr.from };
    }
    const owner = instr.chown ? await resolveOwner(imageView.dir, instr.chown, instr) : undefined;
    const stagingRoot = path.join(workDir, 'layer');
    await fs.mkdir(stagingRoot);
    await stageCopy(env, { instr, source, imageRoot: imageView.dir, workdir: state.config.WorkingDir || '/', owner, stagingRoot });
    for (const v of views.splice(0).reverse()) await v.release();
    return await commitLayer(env, stagingRoot, 'plain');
  } finally {
    for (const v of views.reverse()) await v.release();
    await fs.rm(workDir, { recursive: true, force: true });
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

export function createdTime(env: StepEnv): string {
  return env.timestamp !== undefined ? new Date(env.timestamp * 1000).toISOString().replace('.000Z', 'Z') : new Date().toISOString();
}
