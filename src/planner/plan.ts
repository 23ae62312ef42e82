// Stages + build args + target → BuildPlan. Pure: no I/O.
// Decides each stage's base (scratch, an earlier stage or an image reference),
// which stages the target needs (the others are not built), and their order.
import type { Dockerfile, Instruction, Stage } from '../frontend/dockerfile/types.js';
import { parseDockerfile, processWord, processWordWithMatches } from '../frontend/dockerfile/index.js';
import { mountOption } from '../frontend/dockerfile/mounts.js';
import { DockerfileError, UsageError, type NbuildError } from '../errors.js';
import { declareArgs, predefinedArgs, hostPlatform, parsePlatform, type Platform } from './args.js';
import { sourceDateEpochSource, type EpochSource } from './epoch.js';
import { suggest } from '../frontend/dockerfile/flags.js';
import { contextKey } from '../context/named-contexts.js';

export type StageBase =
  | { kind: 'scratch' }
  | { kind: 'stage'; index: number }
  | { kind: 'image'; ref: string };

/**
 * A named build context (--build-context) as a stage base: an image reference, scratch, or a
 * folder (`local`: the stage starts from a COPY of it, see localContextCopy).
 */
export type NamedContextBase = { kind: 'image'; ref: string } | { kind: 'scratch' } | { kind: 'local' };

/**
 * What a `--from` (COPY --from, RUN --mount from=) names, resolved by the planner: a named build
 * context (by contextKey; it comes before a stage of its name, which it replaces), a stage (by
 * name, the last of duplicates, or by index), else an image.
 */
export type FromSource = { kind: 'context'; key: string } | { kind: 'stage'; index: number } | { kind: 'image'; ref: string };

/** What resolving a `--from` needs to know of the build. */
export interface FromNames {
  /** Every stage's name (lowercase) → its index; the last of duplicate names. */
  stages: ReadonlyMap<string, number>;
  stageCount: number;
  /** The --build-context names, by contextKey. */
  contexts: ReadonlySet<string>;
}

/** The one rule for what a `--from` names (the planner's; the executor reads its result). */
export function resolveFrom(ref: string, names: FromNames): FromSource {
  const key = names.contexts.size > 0 ? contextKey(ref) : undefined;
  if (key !== undefined && names.contexts.has(key)) return { kind: 'context', key };
  const index = fromStageIndex(ref, names);
  return index !== undefined ? { kind: 'stage', index } : { kind: 'image', ref };
}

function fromStageIndex(ref: string, names: FromNames): number | undefined {
  const named = names.stages.get(ref.toLowerCase());
  if (named !== undefined) return named;
  return /^\d+$/.test(ref) && Number(ref) < names.stageCount ? Number(ref) : undefined;
}

export interface PlannedStage {
  /** The stage; a stage a named context replaces keeps none of its instructions. */
  stage: Stage;
  /** Set when a named context of the stage's name replaces it (BuildKit): its base is the context, no triggers run. */
  namedContext?: string;
  base: StageBase;
  /** Stages this one reads from: its base stage, COPY --from and RUN --mount from=. */
  dependsOn: number[];
  /** What each `--from` word of the stage (and of the triggers it runs) names, as written → resolved. */
  sources: ReadonlyMap<string, FromSource>;
  /** Global ARG values visible to this stage's `ARG NAME` declarations. */
  globalArgs: ReadonlyMap<string, string>;
  /** What the stage is built for: its FROM --platform, else its base stage's, else the build's target. */
  platform: Platform;
}

export interface BuildPlan {
  dockerfile: Dockerfile;
  /** Needed stages in an order where every dependency comes first. */
  stages: PlannedStage[];
  target: number;
  buildArgs: ReadonlyMap<string, string>;
  /** The target platform (TARGETPLATFORM). */
  platform: Platform;
  /** What SOURCE_DATE_EPOCH (a --build-arg or the global ARG's default) names. */
  sourceDateEpoch: EpochSource;
  /** The platform the build runs on (BUILDPLATFORM): this host. */
  buildPlatform: Platform;
  /** For a `--from` the plan did not meet (resolveFrom). */
  fromNames: FromNames;
}

export interface PlanOptions {
  buildArgs?: ReadonlyMap<string, string>;
  target?: string;
  /** TARGETPLATFORM; default the host's. */
  platform?: Platform;
  /** BUILDPLATFORM; default the host's. */
  buildPlatform?: Platform;
  /**
   * SOURCE_DATE_EPOCH once resolved (seconds as text), or null when it resolved to nothing: it
   * replaces the value a --build-arg or the global ARG gave (BuildKit's setBuildArgValue).
   */
  resolvedSourceDateEpoch?: string | null;
  /**
   * `nbuild check`: the build's host and args are not known, so FROM --platform is not checked,
   * a word that cannot expand without a build arg (`FROM $BASE`) is taken as unknown, and every
   * stage (not only those the target needs) must read only from stages before it.
   */
  checkOnly?: boolean;
  /** The ONBUILD triggers of base images, by reference as the FROM names it (their stage reads count). */
  imageTriggers?: ReadonlyMap<string, Instruction[]>;
  /** --build-context: by contextKey(name). */
  namedContexts?: ReadonlyMap<string, NamedContextBase>;
}

/** The ONBUILD triggers a stage declares, which run in the stages built FROM it. */
export function declaredTriggers(instructions: readonly Instruction[]): Instruction[] {
  return instructions.flatMap((i) => (i.kind === 'onbuild' ? [i.trigger] : []));
}

const EPOCH_ARG = 'SOURCE_DATE_EPOCH';

export function planBuild(dockerfile: Dockerfile, options: PlanOptions = {}): BuildPlan {
  const buildArgs = new Map(options.buildArgs ?? []);
  const platform = options.platform ?? hostPlatform();
  const buildPlatform = options.buildPlatform ?? hostPlatform();
  const { stages, byName, laterRefs, sourceDateEpoch, fromNames } = planStages(dockerfile, { ...options, buildArgs, platform, buildPlatform });
  const target = resolveTarget(options.target, byName, stages.length);
  const needed = neededInOrder(stages, target);
  // As BuildKit, only a stage that is built must not read from a later one.
  for (const s of needed) checkLaterRef(dockerfile, stages, laterRefs, s.stage.index);
  return { dockerfile, stages: needed, target, buildArgs, platform, buildPlatform, sourceDateEpoch, fromNames };
}

/** A COPY --from or RUN --mount from= that names the stage itself or a later one. */
interface LaterRef {
  index: number;
  ref: string;
  instr: Instruction;
}

/** Per stage its first reference to itself or a later stage, and every stage it reads. */
interface LaterRefs {
  refs: Map<number, LaterRef>;
  reads: Map<number, number[]>;
}

/**
 * Every stage of the Dockerfile with its base and the stages it reads from. `byName`: stage
 * names (lowercase) → index; `laterRefs`: per stage, its first reference to itself or a later
 * stage (an error once that stage is built; `checkOnly` checks every stage).
 */
export function planStages(
  dockerfile: Dockerfile,
  options: PlanOptions & { buildArgs: Map<string, string>; platform: Platform },
): { stages: PlannedStage[]; byName: Map<string, number>; laterRefs: LaterRefs; sourceDateEpoch: EpochSource; fromNames: FromNames } {
  const { buildArgs, platform } = options;
  const buildPlatform = options.buildPlatform ?? hostPlatform();
  if (dockerfile.stages.length === 0) {
    throw new DockerfileError({ file: dockerfile.file, line: 1 }, 'dockerfile contains no stages to build');
  }
  const targetStage = options.target || (dockerfile.stages[dockerfile.stages.length - 1].name ?? '');
  const predefined = predefinedArgs(platform, targetStage, buildArgs, buildPlatform);
  const globals = new Map(predefined);
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
    declareArgs(globals, arg, buildArgs, (w) => expandGlobal(w, arg.source.range.start.line) ?? '', predefined);
  }
  const sourceDateEpoch = sourceDateEpochSource(dockerfile, buildArgs, globals, options.namedContexts);
  if (options.resolvedSourceDateEpoch !== undefined) setEpochArg(options.resolvedSourceDateEpoch, buildArgs, globals);
  // Every stage's name, also of stages defined later: a reference to one of those is an error,
  // never an image to pull. Of duplicate names the last wins for --from and --target (BuildKit's
  // statesByName); a FROM takes the last one defined before it (byName, filled as we go).
  const allNames = new Map<string, number>();
  for (const stage of dockerfile.stages) if (stage.name) allNames.set(stage.name, stage.index);
  const fromNames: FromNames = { stages: allNames, stageCount: dockerfile.stages.length, contexts: new Set(options.namedContexts?.keys() ?? []) };
  const byName = new Map<string, number>();
  const planned: PlannedStage[] = [];
  const laterRefs = new Map<number, LaterRef>();
  // What each stage reads with COPY --from / RUN --mount from= (BuildKit's dispatch deps; a FROM
  // of a stage is not one): a cycle is a loop through these.
  const reads = new Map<number, number[]>();
  for (let stage of dockerfile.stages) {
    const line = stage.from.source.range.start.line;
    const imageRef = expandGlobal(stage.from.image, line);
    // (`nbuild check` skips a value that needs what only a build knows, such as `${A:?}`)
    const fromPlatform = stage.from.platform !== undefined ? stagePlatform(stage.from.platform, globals, dockerfile, line, options.checkOnly ?? false) : undefined;
    // A named context of the stage's own name is the stage (BuildKit): none of its instructions run.
    const replacedBy = stage.name !== undefined ? options.namedContexts?.get(contextKey(stage.name) ?? '') : undefined;
    if (replacedBy && stage.name !== undefined) {
      const replaced = { ...stage, instructions: replacedBy.kind === 'local' ? [localContextCopy(stage.name, stage)] : [] };
      const sources = new Map(replaced.instructions.flatMap((i) => referencedStages(i, dockerfile, expandGlobal)).map((ref) => [ref, resolveFrom(ref, fromNames)] as const));
      planned.push({ stage: replaced, namedContext: stage.name, base: contextBase(replacedBy), dependsOn: [], sources, globalArgs: globals, platform: fromPlatform ?? platform });
      byName.set(stage.name.toLowerCase(), stage.index);
      continue;
    }
    const named = imageRef !== undefined && imageRef.toLowerCase() !== 'scratch' && !byName.has(imageRef.toLowerCase()) ? options.namedContexts?.get(contextKey(imageRef) ?? '') : undefined;
    if (named?.kind === 'local') stage = { ...stage, instructions: [localContextCopy(imageRef as string, stage), ...stage.instructions] };
    const base: StageBase = named ? contextBase(named) : options.checkOnly && !imageRef ? { kind: 'image', ref: '' } : resolveBase(imageRef ?? '', byName, stage, dockerfile.file);
    // A stage built FROM another stage is that stage's tree: its platform too (as BuildKit).
    const stagePlat = base.kind === 'stage' ? planned[base.index].platform : (fromPlatform ?? platform);
    const deps = new Set<number>();
    const sources = new Map<string, FromSource>();
    if (base.kind === 'stage') deps.add(base.index);
    // The base's ONBUILD triggers run first in this stage: a stage they read is needed too.
    const triggers = base.kind === 'stage' ? declaredTriggers(planned[base.index].stage.instructions) : base.kind === 'image' ? (options.imageTriggers?.get(base.ref) ?? []) : [];
    for (const instr of [...triggers, ...stage.instructions]) {
      for (const ref of referencedStages(instr, dockerfile, expandGlobal)) {
        if (!sources.has(ref)) sources.set(ref, resolveFrom(ref, fromNames));
        const index = stageIndex(ref, allNames, dockerfile.stages.length, dockerfile.file, instr);
        if (index === undefined) continue;
        const read = reads.get(stage.index);
        if (read) read.push(index);
        else reads.set(stage.index, [index]);
        if (index >= stage.index) {
          if (!laterRefs.has(stage.index)) laterRefs.set(stage.index, { index, ref, instr });
          continue;
        }
        deps.add(index);
      }
    }
    planned.push({ stage, base, dependsOn: [...deps], sources, globalArgs: globals, platform: stagePlat });
    if (stage.name) byName.set(stage.name.toLowerCase(), stage.index);
  }
  const later: LaterRefs = { refs: laterRefs, reads };
  if (options.checkOnly) for (const s of planned) checkLaterRef(dockerfile, planned, later, s.stage.index);
  return { stages: planned, byName, laterRefs: later, sourceDateEpoch, fromNames };
}

/**
 * A stage may read only from stages before it. One that names itself, or a later stage that
 * leads back to it, is a cycle (BuildKit: "circular dependency detected on stage"); a later
 * stage otherwise is not built yet (BuildKit's "needs to be defined before").
 */
function checkLaterRef(df: Dockerfile, planned: PlannedStage[], later: LaterRefs, current: number): void {
  const r = later.refs.get(current);
  if (!r) return;
  if (reaches(later.reads, r.index, current)) {
    const name = planned[current].stage.name ?? String(current);
    const what = r.instr.kind === 'copy' ? `COPY --from=${r.ref}` : `RUN --mount from=${r.ref}`;
    throw new DockerfileError({ file: df.file, line: r.instr.source.range.start.line }, `circular dependency detected on stage: ${name} (${what})`, { code: 'STAGE_CYCLE' });
  }
  definedLater(df, r.instr, r.ref, planned[current].stage);
}

/** Whether stage `from` reads stage `to` through COPY --from / mounts, directly or not (iterative: 10,000 stages). */
function reaches(reads: Map<number, number[]>, from: number, to: number): boolean {
  const seen = new Set<number>([from]);
  const stack = [from];
  while (stack.length > 0) {
    const i = stack.pop() as number;
    if (i === to) return true;
    for (const d of reads.get(i) ?? []) {
      if (!seen.has(d)) {
        seen.add(d);
        stack.push(d);
      }
    }
  }
  return false;
}

/**
 * Whether the resolved SOURCE_DATE_EPOCH (PlanOptions.resolvedSourceDateEpoch) can change a plan:
 * only where a build arg or a global ARG of that name is there for setEpochArg to replace. Without
 * one, a build keeps its first plan instead of making the same one again.
 */
export function epochArgInPlay(dockerfile: Dockerfile, buildArgs: ReadonlyMap<string, string> | undefined): boolean {
  return buildArgs?.has(EPOCH_ARG) === true || dockerfile.globalArgs.some((a) => a.args.some((d) => d.name === EPOCH_ARG));
}

/** BuildKit's setBuildArgValue: the resolved epoch replaces the arg where it was given. */
function setEpochArg(value: string | null, buildArgs: Map<string, string>, globals: Map<string, string>): void {
  for (const scope of [buildArgs, globals]) {
    if (!scope.has(EPOCH_ARG)) continue;
    if (value === null || value === '') scope.delete(EPOCH_ARG);
    else scope.set(EPOCH_ARG, value);
  }
}

function definedLater(df: Dockerfile, instr: Instruction, ref: string, current: Stage): never {
  const here = current.name ?? `stage-${current.index}`;
  const at = { file: df.file, line: instr.source.range.start.line, endLine: instr.source.range.end.line };
  if (instr.kind === 'run') {
    const spec = instr.mountSpecs.find((m) => mountOption(m, 'from') === ref);
    const target = spec !== undefined ? (mountOption(spec, 'target') ?? '') : '';
    throw new DockerfileError(at, `cannot mount from stage ${JSON.stringify(ref)} to ${JSON.stringify(target)}, stage needs to be defined before current command`);
  }
  throw new DockerfileError(at, `cannot copy from stage ${JSON.stringify(ref)}, it needs to be defined before current stage ${JSON.stringify(here)}`);
}

/**
 * `FROM --platform=…` (after ARG expansion, so $BUILDPLATFORM works). An empty or malformed value
 * gets BuildKit's error, with a hint for a misspelt ARG. `checkOnly`: undefined for a value only a
 * build could expand (`${A:?}` may hold with a build arg); a limit is always an error.
 */
function stagePlatform(written: string, globals: ReadonlyMap<string, string>, df: Dockerfile, line: number, checkOnly: boolean): Platform | undefined {
  const file = df.file;
  let expanded: ReturnType<typeof processWordWithMatches>;
  try {
    expanded = processWordWithMatches(written, (name) => globals.get(name), df.escape);
  } catch (error) {
    if (checkOnly && (error as NbuildError).code !== 'LIMIT') return undefined;
    throw new DockerfileError({ file, line }, (error as Error).message, { cause: error });
  }
  const hint = [...expanded.unmatched].map((name) => suggest(name, [...globals.keys()])).find((h) => h !== undefined);
  const didYouMean = hint ? ` (did you mean ${hint}?)` : '';
  const text = expanded.result;
  if (text === '') throw new DockerfileError({ file, line }, `empty platform value from expression ${written}${didYouMean}`);
  // containerd's platforms.Parse check of each component
  const bad = text.split('/').find((part) => !/^[A-Za-z0-9_.-]+$/.test(part));
  if (bad !== undefined) {
    const why = `${JSON.stringify(bad)} is an invalid component of ${JSON.stringify(text)}: platform specifier component must match "^[A-Za-z0-9_.-]+$"`;
    throw new DockerfileError({ file, line }, `failed to parse platform ${written}: ${why}: invalid argument${didYouMean}`);
  }
  const wanted = parsePlatform(text);
  if (!wanted) throw new DockerfileError({ file, line }, `FROM --platform=${text}: not a platform (use os/arch[/variant])`);
  return wanted;
}

function expandWith(word: string, vars: ReadonlyMap<string, string>, df: Dockerfile, line: number): string {
  try {
    return processWord(word, (name) => vars.get(name), df.escape);
  } catch (error) {
    throw new DockerfileError({ file: df.file, line }, (error as Error).message, { cause: error, code: (error as NbuildError).code === 'LIMIT' ? 'LIMIT' : undefined });
  }
}

function contextBase(named: NamedContextBase): StageBase {
  return named.kind === 'image' ? { kind: 'image', ref: named.ref } : { kind: 'scratch' };
}

/**
 * A stage on a local named context starts with `COPY --from=NAME . /` (at its FROM line): the
 * executor copies the folder, filtered by its .dockerignore, as BuildKit's local source gives it.
 */
function localContextCopy(name: string, stage: Stage): Instruction {
  const copy = parseDockerfile(`FROM scratch\nCOPY --from=${name} . /\n`, stage.from.source.file).stages[0].instructions[0];
  return { ...copy, source: { ...copy.source, range: stage.from.source.range } };
}

function resolveBase(ref: string, byName: Map<string, number>, stage: Stage, file: string): StageBase {
  if (ref === '') throw new DockerfileError({ file, line: stage.from.source.range.start.line }, 'FROM requires an image name');
  if (ref.toLowerCase() === 'scratch') return { kind: 'scratch' };
  const index = byName.get(ref.toLowerCase());
  if (index !== undefined) return { kind: 'stage', index };
  return { kind: 'image', ref };
}

/**
 * `--from` names a stage by name (any stage, also a later one) or by index; anything else is an
 * image. A COPY --from index past the last stage is an error (BuildKit's findStateByIndex).
 */
function stageIndex(ref: string, allNames: Map<string, number>, count: number, file: string, instr: Instruction): number | undefined {
  const named = allNames.get(ref.toLowerCase());
  if (named !== undefined) return named;
  if (/^\d+$/.test(ref)) {
    const n = Number(ref);
    if (n < count) return n;
    if (instr.kind === 'copy') throw new DockerfileError({ file, line: instr.source.range.start.line }, `invalid stage index ${n}`);
  }
  return undefined;
}

/**
 * The stages or images an instruction reads. COPY --from is taken as written: BuildKit expands
 * no variable there (a stage's FROM can, with a global ARG, hence its hint).
 */
function referencedStages(instr: Instruction, df: Dockerfile, expandGlobal: (w: string, line: number) => string | undefined): string[] {
  const line = instr.source.range.start.line;
  switch (instr.kind) {
    case 'copy': {
      if (instr.from === undefined) return [];
      if (processWord(instr.from, () => undefined, df.escape) !== instr.from) {
        throw new DockerfileError(
          { file: df.file, line, endLine: instr.source.range.end.line },
          'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
        );
      }
      return [instr.from];
    }
    case 'run':
      // from= takes no variable (BuildKit's parse-time rule, mounts.ts); the planner reads it as written
      return instr.mountSpecs.flatMap((spec) => mountOption(spec, 'from') ?? []);
    default:
      return [];
  }
}

function resolveTarget(target: string | undefined, byName: Map<string, number>, count: number): number {
  if (target === undefined || target === '') return count - 1;
  const index = byName.get(target.toLowerCase());
  if (index === undefined) {
    const names = [...byName.keys()];
    const hint = suggest(target, names);
    const help = hint !== undefined ? ` (did you mean ${hint}?)` : names.length ? ` (stages: ${names.join(', ')})` : ' (no stage has a name)';
    throw new UsageError(`target stage ${JSON.stringify(target)} could not be found${help}`);
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
  // Dependencies always have lower indexes, so index order is a valid order.
  return stages.filter((s) => needed.has(s.stage.index));
}
