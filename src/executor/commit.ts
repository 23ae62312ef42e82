// Turns a folder of changes into a stored layer: the native writer tars,
// compresses and hashes it in one pass; the folder itself becomes the
// unpacked layer (an overlay lower) in the store.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NativeError, writeLayer } from '../native/index.js';
import { layerMediaType } from '../image/media-types.js';
import type { Layer } from '../image/image.js';
import type { Instruction } from '../frontend/dockerfile/types.js';
import { DockerfileError } from '../errors.js';
import type { StepEnv } from './context.js';
import { loc } from './steps/metadata.js';

/**
 * Returns undefined when the folder holds no change (an empty layer is not written). `instr` is
 * the step that made the folder, named in the error when its files cannot go into a layer.
 */
export async function commitLayer(env: StepEnv, dir: string, mode: 'overlay-upper' | 'plain', instr?: Instruction): Promise<Layer | undefined> {
  if ((await fs.readdir(dir)).length === 0) return undefined;
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
  }).catch((e: unknown) => {
    throw instr && e instanceof NativeError && e.code === 'WHITEOUT_NAME' ? whiteoutNameError(instr, e) : e;
  });
  return env.store.addLayer(blob, result, layerMediaType(env.compression), dir);
}

// Every image tool reads a ".wh.x" entry as "delete x": such a file would delete files (or, as
// ".wh..wh..opq", a whole folder's lower content) wherever the image is used. umoci refuses it too.
function whiteoutNameError(instr: Instruction, e: NativeError): DockerfileError {
  const text = instr.source.original.split('\n')[0].trim();
  return new DockerfileError(loc(instr), `${text}: the step made ${e.path}, a name starting with ".wh.": image tools read it as a whiteout (a deletion), so it cannot go into a layer; rename it`, { code: 'WHITEOUT_NAME', cause: e });
}
