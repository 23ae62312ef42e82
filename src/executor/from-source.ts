// The trees and folders a `--from` (COPY --from, RUN --mount from=) names, for the steps that read
// them: the planner resolved each to a named build context, an earlier stage or an image.
import type { Instruction } from '../frontend/dockerfile/types.js';
import { resolveFrom, type BuildPlan, type FromSource, type PlannedStage } from '../planner/plan.js';
import { DockerfileError } from '../errors.js';
import type { Layer } from '../image/image.js';
import type { BuildContext } from '../context/context.js';
import type { NamedSource, StepEnv } from './context.js';
import { contextSourcesDigest } from '../cache/content-hash.js';
import { openRootfsView, type RootfsView } from '../snapshot/rootfs-view.js';
import { loc } from './steps/metadata.js';
import { digestPaths } from './stage-paths.js';
import * as path from 'node:path';
import { sha256Hex } from '../native/index.js';

/** Bumped when digestPaths changes what it sums, so a recorded stage-content digest of another form is not used. */
const STAGE_CONTENT_FORM = 'stage-content-v1';

/** What the executor knows of the build's other sources. */
export interface SourceProvider {
  plan: BuildPlan;
  /** The finished state of an earlier stage, by index. */
  stageLayers(index: number): Layer[];
  /** Layers of an image named by --from. */
  imageLayers(ref: string): Promise<Layer[]>;
}

/** The sources a stage's steps read, as the planner resolved them (plan.ts: resolveFrom). */
export class FromSources {
  constructor(
    private readonly env: StepEnv,
    private readonly provider: SourceProvider,
    private readonly planned: Pick<PlannedStage, 'sources'>,
  ) {}

  /** What `from` names: the planner's answer (a trigger it did not meet is resolved by the same rule). */
  resolve(from: string): FromSource {
    return this.planned.sources.get(from) ?? resolveFrom(from, this.provider.plan.fromNames);
  }

  /** The folder of a local named context, when `from` names one. */
  localContext(from: string): BuildContext | undefined {
    const source = this.resolve(from);
    if (source.kind !== 'context') return undefined;
    const named = this.named(source.key);
    return named.kind === 'local' ? named.context : undefined;
  }

  /**
   * What a `--from` names, for a cache key: for a stage, what `paths` (the step's sources in it)
   * hold; an image by its layers; a folder by its files.
   */
  async digest(from: string, instr: Instruction, paths: readonly string[]): Promise<string> {
    const source = this.resolve(from);
    if (source.kind === 'stage') return `stage-content:${await this.stageContentDigest(source.index, paths)}`;
    const local = this.localContext(from);
    if (local) return `context:${await contextSourcesDigest(local, ['.'], this.env.statCache)}`;
    return `image:${(await this.layers(from, instr)).map((l) => l.diffId.toString()).join(',')}`;
  }

  /**
   * What `paths` hold in a finished stage's tree (stage-paths.ts digestPaths), as BuildKit keys
   * COPY --from and RUN --mount from= by the content they read: a stage rebuilt to the same files
   * (a comment edited in a source, a rerun that writes the same output) leaves the steps that read
   * it cached. Worked out once per layer stack: the stat cache keeps it as a walk summary whose
   * listing is the stage's diff_ids (layers never change), keyed by context, target platform, stage
   * and paths, so a no-op rebuild reads one small file and mounts nothing.
   */
  private async stageContentDigest(index: number, paths: readonly string[]): Promise<string> {
    const layers = this.provider.stageLayers(index);
    const identity = `layers:${layers.map((l) => l.diffId.toString()).join(',')}`;
    const key = sha256Hex(JSON.stringify([STAGE_CONTENT_FORM, this.env.context.dir, this.provider.plan.platform, index, paths]));
    const known = this.env.statCache.treeDigest(key, identity);
    if (known !== undefined) return known;
    const scratch = await this.env.store.tempDir('from-digest');
    let digest: string;
    try {
      const view = await openRootfsView(await this.env.store.lowerDirs(layers), path.join(scratch, 'view'));
      try {
        digest = await digestPaths(view.dir, paths);
      } finally {
        await view.release();
      }
    } finally {
      await this.env.store.removeTempDir(scratch);
    }
    this.env.statCache.recordTree(key, identity, digest);
    return digest;
  }

  /** The layers of the tree a `--from` names (not a local context: localContext() first). */
  async layers(from: string, instr: Instruction): Promise<Layer[]> {
    const source = this.resolve(from);
    switch (source.kind) {
      case 'stage':
        return this.provider.stageLayers(source.index);
      case 'image':
        return this.imageLayersAt(source.ref, instr);
      case 'context': {
        const named = this.named(source.key);
        if (named.kind === 'scratch') return [];
        if (named.kind === 'image') return this.imageLayersAt(named.ref, instr);
        throw new Error(`internal error: build context ${JSON.stringify(from)} is a folder, not layers`);
      }
    }
  }

  /** The folder a `--from` shows: a local context's, or a read-only view of its tree (opened at `at()`, kept in `views` until released). */
  async mountDir(from: string, at: () => string, views: RootfsView[], instr: Instruction): Promise<string> {
    const local = this.localContext(from);
    if (local) return local.dir;
    const view = await openRootfsView(await this.env.store.lowerDirs(await this.layers(from, instr)), at());
    views.push(view);
    return view.dir;
  }

  private named(key: string): NamedSource {
    const named = this.env.namedContexts?.get(key);
    if (!named) throw new Error(`internal error: the plan names build context ${JSON.stringify(key)}, the build has none`);
    return named;
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
