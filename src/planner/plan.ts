// Stages + build args + target → BuildPlan. Pure: no I/O.
// Decides each stage's base (scratch, an earlier stage or an image reference),
// which stages the target needs (the others are not built), and their order.
import type { Dockerfile, Instruction, Stage } from '../frontend/dockerfile/types.js';
import { processWord } from '../frontend/dockerfile/index.js';
import { DockerfileError, UsageError, type NbuildError } from '../errors.js';
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
  /**
   * `nbuild check`: the build's host and args are not known, so FROM --platform is not checked
   * and a word that cannot expand without a build arg (`FROM $BASE`) is taken as unknown.
   */
  checkOnly?: boolean;
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
  const { stages, byName } = planStages(dockerfile, { ...options, buildArgs, platform });
  const target = resolveTarget(options.target, byName, stages.length);
  return { dockerfile, stages: neededInOrder(stages, target), target, buildArgs, platform };
}

/**
 * Every stage of the Dockerfile with its base and the stages it reads from, checked: a stage
 * reads only from stages before it. `byName`: stage names (lowercase) → index.
 */
export function planStages(
  dockerfile: Dockerfile,
  options: PlanOptions & { buildArgs: ReadonlyMap<string, string>; platform: Platform },
): { stages: PlannedStage[]; byName: Map<string, number> } {
  const { buildArgs, platform } = options;
  if (dockerfile.stages.length === 0) {
    throw new DockerfileError({ file: dockerfile.file, line: 1 }, 'no build stage: the Dockerfile needs a FROM');
  }
  const globals = new Map(platformArgs(platform));
  /** undefined: `checkOnly` and the word needs what only a build knows; a limit is always an error. */
  const expandGlobal = (word: string, line: number): string | undefined => {
    try {
      return expandWith(word, globals, dockerfile, line);
    } catch (error) {
      if (!options.checkOnly || (error as NbuildError).code === 'LIMIT') throw error;
      return undefined;
    }
  };
  for (const arg of dockerfile.globalArgs) {
    declareArgs(globals, arg, buildArgs, (w) => expandGlobal(w, arg.source.range.start.line) ?? '', platformArgs(platform));
  }
  // FROM names an earlier stage only; COPY --from and RUN --mount from= may name any stage, and
  // one not yet built is an error (BuildKit), not an image of that name.
  const byName = new Map<string, number>();
  const allNames = new Map<string, number>();
  for (const stage of dockerfile.stages) if (stage.name) allNames.set(stage.name.toLowerCase(), stage.index);
  const planned: PlannedStage[] = [];
  const refs: StageRef[][] = [];
  for (const stage of dockerfile.stages) {
    const line = stage.from.source.range.start.line;
    const imageRef = expandGlobal(stage.from.image, line);
    if (stage.from.platform !== undefined && !options.checkOnly) checkStagePlatform(expandGlobal(stage.from.platform, line) ?? '', platform, dockerfile.file, line);
    const base: StageBase = options.checkOnly && !imageRef ? { kind: 'image', ref: '' } : resolveBase(imageRef ?? '', byName, stage, dockerfile.file);
    const deps = new Set<number>();
    if (base.kind === 'stage') deps.add(base.index);
    const stageRefs: StageRef[] = [];
    // The base's ONBUILD triggers run first in this stage: a stage they read is needed too.
    const triggers = base.kind === 'stage' ? declaredTriggers(dockerfile.stages[base.index].instructions) : base.kind === 'image' ? (options.imageTriggers?.get(base.ref) ?? []) : [];
    for (const instr of [...triggers, ...stage.instructions]) {
      for (const from of referencedStages(instr)) {
        const ref = expandGlobal(from, instr.source.range.start.line);
        if (ref === undefined) continue;
        const index = stageIndex(ref, allNames, dockerfile.stages.length, instr);
        if (index === undefined) continue;
        deps.add(index);
        stageRefs.push({ index, ref, instr });
      }
    }
    planned.push({ stage, base, dependsOn: [...deps], globalArgs: globals });
    refs.push(stageRefs);
    if (stage.name) byName.set(stage.name.toLowerCase(), stage.index);
  }
  checkStageRefs(planned, refs);
  return { stages: planned, byName };
}

/** A COPY --from or RUN --mount from= that names a stage. */
interface StageRef {
  index: number;
  ref: string;
  instr: Instruction;
}

/**
 * A stage may read only from stages before it. One that names itself, or a later stage that
 * leads back to it, is a cycle (BuildKit: "circular dependency detected on stage"); a later
 * stage otherwise is not built yet. Both are errors at the instruction's line.
 */
function checkStageRefs(planned: PlannedStage[], refs: StageRef[][]): void {
  planned.forEach((p, current) => {
    for (const r of refs[current]) {
      if (r.index < current) continue;
      const name = (i: number): string => planned[i].stage.name ?? String(i);
      const what = r.instr.kind === 'copy' ? `COPY --from=${r.ref}` : `RUN --mount from=${r.ref}`;
      if (reaches(planned, r.index, current)) {
        throw new DockerfileError(loc(r.instr), `circular dependency detected on stage: ${name(current)} (${what})`, { code: 'STAGE_CYCLE' });
      }
      const verb = r.instr.kind === 'copy' ? 'copy from' : 'mount';
      throw new DockerfileError(loc(r.instr), `${what}: cannot ${verb} stage "${name(r.index)}", it needs to be defined before current stage "${name(current)}"`);
    }
  });
}

/** Whether stage `from` depends on stage `to`, directly or not (iterative: 10,000 stages). */
function reaches(planned: PlannedStage[], from: number, to: number): boolean {
  const seen = new Set<number>([from]);
  const stack = [from];
  while (stack.length > 0) {
    const i = stack.pop() as number;
    if (i === to) return true;
    for (const d of planned[i].dependsOn) {
      if (!seen.has(d)) {
        seen.add(d);
        stack.push(d);
      }
    }
  }
  return false;
}

function loc(instr: Instruction): { file: string; line: number } {
  return { file: instr.source.file, line: instr.source.range.start.line };
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
    throw new DockerfileError({ file: df.file, line }, (error as Error).message, { cause: error, code: (error as NbuildError).code === 'LIMIT' ? 'LIMIT' : undefined });
  }
}

function resolveBase(ref: string, byName: Map<string, number>, stage: Stage, file: string): StageBase {
  if (ref === '') throw new DockerfileError({ file, line: stage.from.source.range.start.line }, 'FROM requires an image name');
  if (ref.toLowerCase() === 'scratch') return { kind: 'scratch' };
  const index = byName.get(ref.toLowerCase());
  if (index !== undefined) return { kind: 'stage', index };
  return { kind: 'image', ref };
}

/**
 * `--from` names a stage by name or by index (COPY only, as BuildKit: a number past the last
 * stage is an error); anything else is an image.
 */
function stageIndex(ref: string, names: Map<string, number>, count: number, instr: Instruction): number | undefined {
  const named = names.get(ref.toLowerCase());
  if (named !== undefined) return named;
  if (/^\d+$/.test(ref)) {
    const n = Number(ref);
    if (n < count) return n;
    if (instr.kind === 'copy') throw new DockerfileError(loc(instr), `COPY --from=${ref}: invalid stage index ${ref} (the Dockerfile has ${count} stage${count === 1 ? '' : 's'})`);
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
  // A work list, not recursion: 10,000 chained stages must not overflow the stack.
  const needed = new Set<number>([target]);
  const work = [target];
  while (work.length > 0) {
    for (const d of stages[work.pop() as number].dependsOn) {
      if (!needed.has(d)) {
        needed.add(d);
        work.push(d);
      }
    }
  }
  // Dependencies always have lower indexes (checkStageRefs), so index order is a valid order.
  return stages.filter((s) => needed.has(s.stage.index));
}
