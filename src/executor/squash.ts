// --squash: the layers this build made become one (base layers kept);
// --squash-all: the whole image becomes one layer. The history keeps every
// entry; only the last one of the squashed range carries the layer.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { extractLayer } from '../native/index.js';
import type { Layer } from '../image/image.js';
import type { History } from '../image/types.js';
import { commitLayer } from './commit.js';
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
    // On top of kept layers the tree is an overlay upper, with a whiteout only where a kept layer
    // has the path (as a diff against the base would have); alone it is plain.
    const over = keep > 0 ? { whiteouts: 'overlay' as const, whiteoutsOver: await env.store.lowerDirs(layers.slice(0, keep)) } : { whiteouts: 'apply' as const };
    for (const layer of layers.slice(keep)) {
      await extractLayer({ inputPath: env.store.blobPath(layer.digest), destDir: tree, ...over, expectedDiffId: layer.diffId.toString() });
    }
    const squashed = await commitLayer(env, tree, keep > 0 ? 'overlay-upper' : 'plain');
    const kept = layers.slice(0, keep);
    return { layers: squashed ? [...kept, squashed] : kept, history: squashHistory(input.history, keep, squashed !== undefined) };
  } finally {
    await env.store.removeTempDir(work);
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
