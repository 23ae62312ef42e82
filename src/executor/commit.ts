// Turns a folder of changes into a stored layer: the native writer tars,
// compresses and hashes it in one pass; the folder itself becomes the
// unpacked layer (an overlay lower) in the store, unless files of the layer
// were read from elsewhere (a streamed COPY, sourced-files.ts).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NativeError, writeLayer, type SourcedFile, type WrittenLayer } from '../native/index.js';
import { layerMediaType } from '../image/media-types.js';
import type { Layer } from '../image/image.js';
import type { Instruction } from '../frontend/dockerfile/types.js';
import { DockerfileError } from '../errors.js';
import type { StepEnv } from './context.js';
import { loc } from './steps/metadata.js';

/**
 * Returns undefined when the folder holds no change, unless `keepEmpty`: BuildKit gives every
 * RUN, COPY and ADD a layer, an empty tar when nothing changed, and so does nbuild. `instr` is
 * the step that made the folder, named in the error when its files cannot go into a layer.
 */
export async function commitLayer(env: StepEnv, dir: string, mode: 'overlay-upper' | 'plain', options: { keepEmpty?: boolean; instr?: Instruction } = {}): Promise<Layer | undefined> {
  if (!options.keepEmpty && (await fs.readdir(dir)).length === 0) return undefined;
  return storeLayer(env, await writeLayerBlob(env, dir, mode, options), dir);
}

/** A layer blob written beside its folder, not yet in the store. */
export interface WrittenBlob {
  blob: string;
  result: WrittenLayer;
}

/**
 * Writes the layer of `dir` (and of the `sourced` files, which are not in it) as a blob beside
 * it: the step's compression, its timestamp's clamp.
 */
export async function writeLayerBlob(env: StepEnv, dir: string, mode: 'overlay-upper' | 'plain', options: { instr?: Instruction; sourced?: readonly SourcedFile[] } = {}): Promise<WrittenBlob> {
  const instr = options.instr;
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
    sourced: options.sourced,
  }).catch((e: unknown) => {
    throw instr && e instanceof NativeError && e.code === 'WHITEOUT_NAME' ? whiteoutNameError(instr, e) : e;
  });
  return { blob, result };
}

/**
 * Adds a written blob to the store as a layer; `unpackedDir`, when it holds the whole layer,
 * becomes its unpacked tree (else the store unpacks the blob when a tree is asked for).
 */
export function storeLayer(env: StepEnv, written: WrittenBlob, unpackedDir?: string): Promise<Layer> {
  return env.store.addLayer(written.blob, written.result, layerMediaType(env.compression), unpackedDir);
}

// Every image tool reads a ".wh.x" entry as "delete x": such a file would delete files (or, as
// ".wh..wh..opq", a whole folder's lower content) wherever the image is used. umoci refuses it too.
function whiteoutNameError(instr: Instruction, e: NativeError): DockerfileError {
  const text = instr.source.original.split('\n')[0].trim();
  return new DockerfileError(loc(instr), `${text}: the step made ${e.path}, a name starting with ".wh.": image tools read it as a whiteout (a deletion), so it cannot go into a layer; rename it`, { code: 'WHITEOUT_NAME', cause: e });
}
