// The executor's unit: one Step per instruction kind (executor/steps/NAME.ts). stage.ts is
// only the loop: for each instruction describe → cache key (chained) → lookup → apply on a miss.
import type { Instruction } from '../frontend/dockerfile/types.js';
import type { EscapeToken } from '../frontend/dockerfile/shell.js';
import type { Layer } from '../image/image.js';
import type { Ulimit } from '../sandbox/ulimit.js';
import type { StepEnv } from './context.js';
import type { StageState } from './state.js';
import type { FromSources } from './from-source.js';

/** What describe() sees of its stage: read only. */
export type StageView = Readonly<Pick<StageState, 'config' | 'args' | 'declared'>>;

/** The build's settings a description depends on (plain values: describe() stays pure). */
export interface BuildView {
  /** The Dockerfile's escape character. */
  escape: EscapeToken;
  buildArgs: ReadonlyMap<string, string>;
  /** Global ARG values the stage's `ARG NAME` declarations see. */
  globalArgs: ReadonlyMap<string, string>;
  /** RUN's network unless a step says otherwise. */
  network: StepEnv['network'];
  ulimits?: readonly Ulimit[];
}

/** Loop state of one stage that is not in the image (an ENTRYPOINT keeps a CMD the stage set). */
export interface StageFlags {
  cmdSet: boolean;
}

/**
 * What a step is, computed without I/O from the (unexpanded) instruction and the stage so far:
 * its history text as BuildKit writes it, its cache material and its config change.
 */
export type StepDescription<A = Instruction> =
  | {
      /** Changes only the config: no cache lookup, an `empty_layer` history entry. */
      kind: 'config';
      /** Undefined: no history entry (ONBUILD). */
      createdBy: string | undefined;
      /** Chained into the stage's key: what later steps' keys depend on. */
      material: string;
      change(state: StageState, flags: StageFlags): void;
    }
  | {
      /** May make a layer: looked up in the cache by the chained key, applied on a miss. */
      kind: 'layer';
      createdBy: string;
      /** The key's material; read() fills the fields left undefined (what the step reads). */
      material: Record<string, unknown>;
      /** What read() and apply() get: the instruction with its variables expanded (and what else they need). */
      instr: A;
      /** A config change made before the key (WORKDIR's folder). */
      change?(state: StageState, flags: StageFlags): void;
    };

/** What a step's apply() and read() get: the build's environment and how `--from` sources resolve. */
export interface StepContext {
  env: StepEnv;
  sources: FromSources;
  stepId: number;
  nextStepId(): number;
  /**
   * Whether something later in this build reads the tree this step makes: a later RUN, COPY,
   * ADD or WORKDIR of the stage, or a stage built on or reading from this one.
   */
  laterStepsReadTree: boolean;
}

/** What a layer step read for its key; `prepared`: the layer already staged (COPY reads its files once). */
export interface StepReading {
  material: Record<string, unknown>;
  prepared?: PreparedLayer;
}

export interface PreparedLayer {
  commit(): Promise<Layer | undefined>;
  release(): Promise<void>;
}

/** `I`: the instruction as parsed; `A`: what a layer step's read() and apply() get (its description's `instr`). */
export interface Step<I extends Instruction = Instruction, A = I> {
  /** Pure: no I/O, no store; testable on object literals. */
  describe(instr: I, stage: StageView, build: BuildView): StepDescription<A>;
  /** The material only I/O can give (file digests, other stages' keys): part of the cache key. */
  read?(ctx: StepContext, instr: A, state: StageState): Promise<StepReading>;
  /** Makes the layer on a cache miss (undefined: the step changed nothing). */
  apply?(ctx: StepContext, instr: A, state: StageState, prepared?: PreparedLayer): Promise<Layer | undefined>;
}
