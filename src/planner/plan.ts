// Stages + build args + target → BuildPlan. Pure: no I/O.
// Decides each stage's base (scratch, an earlier stage or an image reference),
// which stages the target needs (the others are not built), and their order.
import type { Dockerfile, Instruction, Stage } from '../frontend/dockerfile/types.js';
import { processWord } from '../frontend/dockerfile/index.js';
import { DockerfileError, UsageError } from '../errors.js';
import { declareArgs, platformArgs, hostPlatform, parsePlatform, samePlatform, formatPlatform, type Platform } from './args.js';

export type StageBase =
  | { kind: 'scratch' }
  | { kind: 'stage'; index: number }
  | { kind: 'image'; ref: string };

export interface PlannedStage {
  stage: Stage;
  base: StageBase;
  /** Stages this one reads from: its base stage, COPY --from and RUN --mount from=. */
  dependsOn: number[];
  /** Global ARG values visible to this stage's `ARG NAME` declarations. */
  globalArgs: ReadonlyMap<string, string>;
}

export interface BuildPlan {
  dockerfile: Dockerfile;
  /** Needed stages in an order where every dependency comes first. */
  stages: PlannedStage[];
  target: number;
  buildArgs: ReadonlyMap<string, string>;
  platform: Platform;
}

export interface PlanOptions {
  buildArgs?: ReadonlyMap<string, string>;
  target?: string;
  platform?: Platform;
  /** The ONBUILD triggers of base images, by reference as the FROM names it (their stage reads count). */
  imageTriggers?: ReadonlyMap<string, Instruction[]>;
}

/** The ONBUILD triggers a stage declares, which run in the stages built FROM it. */
export function declaredTriggers(instructions: readonly Instruction[]): Instruction[] {
  return instructions.flatMap((i) => (i.kind === 'onbuild' ? [i.trigger] : []));
}

export function planBuild(dockerfile: Dockerfile, options: PlanOptions = {}): BuildPlan {
  const buildArgs = options.buildArgs ?? new Map<string, string>();
  const platform = options.platform ?? hostPlatform();
  if (dockerfile.stages.length === 0) {
    throw new DockerfileError({ file: dockerfile.file, line: 1 }, 'no build stage: the Dockerfile needs a FROM');
  }
  const globals = new Map(platformArgs(platform));
  const expandGlobal = (word: string, line: number): string => expandWith(word, globals, dockerfile, line);
  for (const arg of dockerfile.globalArgs) {
    declareArgs(globals, arg, buildArgs, (w) => expandGlobal(w, arg.source.range.start.line), platformArgs(platform));
  }
  const byName = new Map<string, number>();
  const planned: PlannedStage[] = [];
  for (const stage of dockerfile.stages) {
    const line = stage.from.source.range.start.line;
    const imageRef = expandGlobal(stage.from.image, line);
    if (stage.from.platform !== undefined) checkStagePlatform(expandGlobal(stage.from.platform, line), platform, dockerfile.file, line);
    const base = resolveBase(imageRef, byName, stage, dockerfile.file);
    const deps = new Set<number>();
    if (base.kind === 'stage') deps.add(base.index);
    // The base's ONBUILD triggers run first in this stage: a stage they read is needed too.
    const triggers = base.kind === 'stage' ? declaredTriggers(dockerfile.stages[base.index].instructions) : base.kind === 'image' ? (options.imageTriggers?.get(base.ref) ?? []) : [];
    for (const instr of [...triggers, ...stage.instructions]) {
      for (const from of referencedStages(instr)) {
        const ref = expandGlobal(from, instr.source.range.start.line);
        const index = stageIndex(ref, byName, stage.index);
        if (index !== undefined) deps.add(index);
      }
    }
    planned.push({ stage, base, dependsOn: [...deps], globalArgs: globals });
    if (stage.name) byName.set(stage.name.toLowerCase(), stage.index);
  }
  const target = resolveTarget(options.target, byName, planned.length);
  return { dockerfile, stages: neededInOrder(planned, target), target, buildArgs, platform };
}

/** nbuild builds for the host platform only (no emulation): say so where a stage asks for another. */
function checkStagePlatform(text: string, host: Platform, file: string, line: number): void {
  const wanted = parsePlatform(text);
  if (!wanted) throw new DockerfileError({ file, line }, `FROM --platform=${text}: not a platform (use os/arch[/variant])`);
  if (!samePlatform(wanted, host)) {
    throw new DockerfileError({ file, line }, `FROM --platform=${text}: nbuild builds for this host's platform (${formatPlatform(host)}) only`);
  }
}

function expandWith(word: string, vars: ReadonlyMap<string, string>, df: Dockerfile, line: number): string {
  try {
    return processWord(word, (name) => vars.get(name), df.escape);
  } catch (error) {
    throw new DockerfileError({ file: df.file, line }, (error as Error).message, { cause: error });
  }
}

function resolveBase(ref: string, byName: Map<string, number>, stage: Stage, file: string): StageBase {
  if (ref === '') throw new DockerfileError({ file, line: stage.from.source.range.start.line }, 'FROM requires an image name');
  if (ref.toLowerCase() === 'scratch') return { kind: 'scratch' };
  const index = byName.get(ref.toLowerCase());
  if (index !== undefined) return { kind: 'stage', index };
  return { kind: 'image', ref };
}

/** `--from` names a stage by name or index; anything else is an image. */
function stageIndex(ref: string, byName: Map<string, number>, current: number): number | undefined {
  const named = byName.get(ref.toLowerCase());
  if (named !== undefined) return named;
  if (/^\d+$/.test(ref)) {
    const n = Number(ref);
    if (n < current) return n;
  }
  return undefined;
}

function referencedStages(instr: Instruction): string[] {
  switch (instr.kind) {
    case 'copy':
      return instr.from !== undefined ? [instr.from] : [];
    case 'run':
      return instr.mounts.flatMap((m) => ('from' in m && m.from !== undefined ? [m.from] : []));
    default:
      return [];
  }
}

function resolveTarget(target: string | undefined, byName: Map<string, number>, count: number): number {
  if (target === undefined || target === '') return count - 1;
  const index = byName.get(target.toLowerCase());
  if (index === undefined) {
    const names = [...byName.keys()];
    throw new UsageError(`target stage "${target}" could not be found${names.length ? ` (stages: ${names.join(', ')})` : ''}`);
  }
  return index;
}

function neededInOrder(stages: PlannedStage[], target: number): PlannedStage[] {
  const needed = new Set<number>();
  const visit = (i: number): void => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const d of stages[i].dependsOn) visit(d);
  };
  visit(target);
  // Dependencies always have lower indexes, so index order is a valid order.
  return stages.filter((s) => needed.has(s.stage.index));
}
