// --squash: the layers this build made become one (base layers kept);
// --squash-all: the whole image becomes one layer. The history keeps every
// entry; only the last one of the squashed range carries the layer.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { extractLayer } from '../native/index.js';
import type { Layer } from '../image/image.js';
import type { History } from '../image/types.js';
import { commitLayer } from './commit.js';
import { openRootfsView, lstatIn } from './rootfs-view.js';
import type { StepEnv } from './context.js';

export interface SquashInput {
  layers: Layer[];
  history: History[];
  /** How many leading layers (and their history) belong to the base image and stay. */
  keep: number;
}

export async function squashLayers(env: StepEnv, input: SquashInput): Promise<{ layers: Layer[]; history: History[] }> {
  const { layers, keep } = input;
  if (layers.length - keep <= 1) return { layers, history: input.history };
  const work = await env.store.tempDir('squash');
  try {
    const tree = path.join(work, 'tree');
    await fs.mkdir(tree);
    // On top of kept layers the tree is an overlay upper (whiteouts kept); alone it is plain.
    const whiteouts = keep > 0 ? 'overlay' : 'apply';
    for (const layer of layers.slice(keep)) {
      await extractLayer({ inputPath: env.store.blobPath(layer.digest), destDir: tree, whiteouts, expectedDiffId: layer.diffId.toString() });
    }
    if (keep > 0) await dropUselessWhiteouts(env, tree, layers.slice(0, keep), work);
    const squashed = await commitLayer(env, tree, keep > 0 ? 'overlay-upper' : 'plain');
    const kept = layers.slice(0, keep);
    return { layers: squashed ? [...kept, squashed] : kept, history: squashHistory(input.history, keep, squashed !== undefined) };
  } finally {
    await env.store.removeTempDir(work);
  }
}

/**
 * A file made and deleted within the squashed range leaves a whiteout that
 * hides nothing in the kept layers: drop it, as a diff against the base would.
 */
async function dropUselessWhiteouts(env: StepEnv, tree: string, kept: Layer[], work: string): Promise<void> {
  const lowers = await env.store.lowerDirs(kept);
  const base = await openRootfsView(lowers, path.join(work, 'base'));
  try {
    const walk = async (rel: string): Promise<void> => {
      for (const entry of await fs.readdir(path.join(tree, rel), { withFileTypes: true })) {
        const childRel = path.join(rel, entry.name);
        if (entry.isDirectory()) await walk(childRel);
        else if (entry.isCharacterDevice()) {
          const st = await fs.lstat(path.join(tree, childRel));
          if (st.rdev === 0 && !(await lstatIn(base.dir, childRel))) await fs.rm(path.join(tree, childRel));
        }
      }
    };
    await walk('');
  } finally {
    await base.release();
  }
}

function squashHistory(history: History[], keep: number, hasLayer: boolean): History[] {
  let seen = 0;
  const out = history.map((h) => {
    if (h.empty_layer) return { ...h };
    seen++;
    return seen > keep ? { ...h, empty_layer: true } : { ...h };
  });
  if (hasLayer) {
    for (let i = out.length - 1; i >= 0; i--) {
      if (out[i].empty_layer && history[i] && !history[i].empty_layer) {
        delete out[i].empty_layer;
        break;
      }
    }
  }
  return out;
}
