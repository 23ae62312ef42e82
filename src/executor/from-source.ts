// What a `--from` (COPY --from, RUN --mount from=) names, for the steps that read it: a named
// build context, an earlier stage, or an image.
import type { Instruction } from '../frontend/dockerfile/types.js';
import type { BuildPlan, PlannedStage } from '../planner/plan.js';
import { DockerfileError } from '../errors.js';
import type { Layer } from '../image/image.js';
import { contextKey } from '../context/named-contexts.js';
import type { BuildContext } from '../context/context.js';
import type { NamedSource, StepEnv } from './context.js';
import { contextSourcesDigest } from './content-hash.js';
import { openRootfsView, type RootfsView } from './rootfs-view.js';
import { loc } from './steps/metadata.js';

/** What the executor knows of the build's other sources. */
export interface SourceProvider {
  plan: BuildPlan;
  /** The finished state of an earlier stage, by index. */
  stageLayers(index: number): Layer[];
  /** The cache chain key of a finished stage (what its tree was built from). */
  stageChainKey(index: number): string;
  /** Layers of an image named by --from. */
  imageLayers(ref: string): Promise<Layer[]>;
}

export class FromSources {
  constructor(
    private readonly env: StepEnv,
    private readonly provider: SourceProvider,
  ) {}

  /** The --build-context a `--from` names: it comes before a stage of that name (which it replaces) and an image. */
  named(from: string): NamedSource | undefined {
    const key = this.env.namedContexts?.size ? contextKey(from) : undefined;
    return key === undefined ? undefined : this.env.namedContexts?.get(key);
  }

  /** The folder of a local named context, when `from` names one. */
  localContext(from: string): BuildContext | undefined {
    const named = this.named(from);
    return named?.kind === 'local' ? named.context : undefined;
  }

  /** What a `--from` names, for a cache key: a stage by how it was built, an image by its layers. */
  async digest(from: string, instr: Instruction): Promise<string> {
    const named = this.named(from);
    if (named?.kind === 'local') return `context:${await contextSourcesDigest(named.context, ['.'], this.env.statCache)}`;
    if (named) return `image:${(await this.layers(from, instr)).map((l) => l.diffId.toString()).join(',')}`;
    const stage = this.stageNamed(from);
    if (stage) return `stage:${this.provider.stageChainKey(stage.stage.index)}`;
    return `image:${(await this.imageLayersAt(from, instr)).map((l) => l.diffId.toString()).join(',')}`;
  }

  /** The layers of the tree a `--from` names (not a local context). */
  async layers(from: string, instr: Instruction): Promise<Layer[]> {
    const named = this.named(from);
    if (named?.kind === 'scratch') return [];
    if (named?.kind === 'image') return this.imageLayersAt(named.ref, instr);
    const byName = this.stageNamed(from);
    if (byName) return this.provider.stageLayers(byName.stage.index);
    return this.imageLayersAt(from, instr);
  }

  /** The folder a `--from` shows: a local context's, or a read-only view of its tree (opened at `at()`, kept in `views` until released). */
  async mountDir(from: string, at: () => string, views: RootfsView[], instr: Instruction): Promise<string> {
    const local = this.localContext(from);
    if (local) return local.dir;
    const view = await openRootfsView(await this.env.store.lowerDirs(await this.layers(from, instr)), at());
    views.push(view);
    return view.dir;
  }

  /**
   * The stage a `--from`/`from=` names: by index, or the last stage of that name (BuildKit's
   * statesByName keeps the last of duplicate names).
   */
  private stageNamed(from: string): PlannedStage | undefined {
    return this.provider.plan.stages.findLast((s) => s.stage.name === from.toLowerCase() || String(s.stage.index) === from);
  }

  /** An image named by --from: a failure to find or pull it is an error at the instruction. */
  private async imageLayersAt(ref: string, instr: Instruction): Promise<Layer[]> {
    try {
      return await this.provider.imageLayers(ref);
    } catch (error) {
      if (error instanceof DockerfileError) throw error;
      throw new DockerfileError(loc(instr), (error as Error).message, { code: (error as { code?: string }).code, cause: error });
    }
  }
}

