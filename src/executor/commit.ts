// Turns a folder of changes into a stored layer: the native writer tars,
// compresses and hashes it in one pass; the folder itself becomes the
// unpacked layer (an overlay lower) in the store.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeLayer } from '../native/index.js';
import { layerMediaType } from '../image/media-types.js';
import type { Layer } from '../image/image.js';
import type { StepEnv } from './context.js';

/**
 * Returns undefined when the folder holds no change, unless `keepEmpty`: BuildKit gives every
 * RUN, COPY and ADD a layer, an empty tar when nothing changed, and so does nbuild.
 */
export async function commitLayer(env: StepEnv, dir: string, mode: 'overlay-upper' | 'plain', options: { keepEmpty?: boolean } = {}): Promise<Layer | undefined> {
  if (!options.keepEmpty && (await fs.readdir(dir)).length === 0) return undefined;
  const blob = path.join(path.dirname(dir), 'layer.blob');
  const result = await writeLayer({
    sourceDir: dir,
    outputPath: blob,
    mode,
    compression: env.compression,
    level: env.compressionLevel,
    clampMtime: env.timestamp,
    // Independent gzip members, compressed in parallel with libdeflate: ~2.7x pigz -6 for a
    // slightly smaller blob. Every layer reader in use (Go's gzip, containerd, pigz, gzip,
    // Python) reads multi-member gzip; see docs/decisions.md.
    gzipEngine: 'libdeflate',
  });
  return env.store.addLayer(blob, result, layerMediaType(env.compression), dir);
}
