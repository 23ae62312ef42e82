// Layers re-encoded into another compression by the native engine, streaming (decode → encode,
// the tar's sha256 checked on the way): same diff_id, new blob. Two callers:
// - `force-compression=true` (buildx): every layer of the result in the requested compression,
//   base layers too;
// - an image leaving the store (an output, a push): the layers the store keeps uncompressed
//   (a build's own layers when it only stores its image, docs/decisions.md) get compressed.
import * as path from 'node:path';
import type { Store } from '../store/store.js';
import { Image, type Layer } from '../image/image.js';
import { ImageIndex } from '../image/image-index.js';
import { DOCKER_LAYER, OCI_LAYER, layerCompression, layerMediaType, type Compression } from '../image/media-types.js';
import { recompressLayer } from '../native/index.js';
import { StoreError } from '../errors.js';
import type { TransferProgress } from '../executor/transfer-progress.js';
import { layerOfRef, layerRef } from '../cache/record.js';
import { ANNOTATION_REFERENCE_DIGEST } from './attestations/manifest.js';
import { isoTime } from '../iso-time.js';

export interface RecompressOptions {
  level?: number;
  /** 'all' (force-compression) or only the plain uncompressed tars ('uncompressed'; a non-distributable one keeps its type). */
  which?: 'all' | 'uncompressed';
  /** Filled with each re-encoded layer, by the old blob's digest. */
  converted?: Map<string, Layer>;
  /** Shows each layer re-encoded (a 1 GiB layer takes seconds). */
  progress?: TransferProgress;
}

/** `image` with its layers (those `which` names) in `compression`; layers already in it are kept as they are, as BuildKit. */
export async function recompressImage(store: Store, image: Image, compression: Compression, options: RecompressOptions = {}): Promise<Image> {
  const selected = (l: Layer): boolean => (options.which === 'uncompressed' ? l.mediaType === OCI_LAYER || l.mediaType === DOCKER_LAYER : true);
  const needs = (l: Layer): boolean => selected(l) && layerCompression(l.mediaType) !== compression;
  if (!image.layers.some(needs)) return image;
  const dir = await store.tempDir('recompress');
  try {
    const layers: Layer[] = [];
    for (const [i, l] of image.layers.entries()) {
      if (!needs(l)) {
        layers.push(l);
        continue;
      }
      // The new blob goes into the store beside the old one (both stay: other images use the old),
      // and a cache record remembers it, so the next push or export of this layer reuses it.
      const key = variantKey(l, compression, options.level);
      const known = (await store.cacheGet(key))?.layer;
      let made: Layer;
      if (known && known.diffId === l.diffId.toString()) {
        made = layerOfRef(known);
        options.progress?.settled(l.digest.toString(), l.size, 'cached');
      } else {
        const out = path.join(dir, `layer-${i}.blob`);
        const meter = options.progress?.blob(l.digest.toString(), l.size);
        const r = await recompressLayer({ inputPath: store.blobPath(l.digest), outputPath: out, compression, level: options.level });
        meter?.done();
        if (r.diffId !== l.diffId.toString()) throw new StoreError('BLOB_CORRUPT', `layer ${l.digest} in the store decodes to ${r.diffId}, the image says ${l.diffId}; run 'nbuild store check --repair'`);
        made = await store.addLayer(out, r, layerMediaType(compression));
        await store.cachePut(key, { layer: layerRef(made), config: { compressedFrom: l.digest.toString() }, createdAt: isoTime(Date.now()) });
      }
      options.converted?.set(l.digest.toString(), made);
      layers.push(made);
    }
    return Image.build(image.config, layers, image.manifest.annotations);
  } finally {
    await store.removeTempDir(dir);
  }
}

/** The cache key of a blob's encoding in `compression` (at `level`): a build cache record like a step's, kept and pruned with them. */
function variantKey(layer: Layer, compression: Compression, level: number | undefined): string {
  return JSON.stringify(['layer encoded', layer.digest.toString(), compression, level ?? 'default']);
}

/**
 * An index and its images for a registry: images whose layers the store keeps uncompressed are
 * pushed gzip-compressed (as `compressForPush` does for one image), and the index names the
 * compressed manifests. An index with attestations is kept as stored: its statements name the
 * stored manifests.
 */
export async function compressIndexForPush(store: Store, index: ImageIndex, images: readonly Image[]): Promise<{ index: ImageIndex; images: Image[] }> {
  // An attestation entry names its image by manifest digest (its index descriptor, its statements' subjects).
  if (index.manifests.some((d) => d.annotations?.[ANNOTATION_REFERENCE_DIGEST] !== undefined)) return { index, images: [...images] };
  const compressed = await Promise.all(images.map((one) => compressForPush(store, one)));
  if (compressed.every((one, i) => one === images[i])) return { index, images: compressed };
  const renamed = new Map(images.map((one, i) => [one.manifestDigest.toString(), compressed[i]]));
  const manifests = index.manifests.map((d) => {
    const now = renamed.get(d.digest);
    return now ? { ...d, digest: now.manifestDigest.toString(), size: now.manifestBytes().length } : d;
  });
  return { index: ImageIndex.fromDescriptors(manifests, index.index.annotations), images: compressed };
}

/** One image for a registry: the layers the store keeps uncompressed (a build that only stored its image) gzip-compressed, as docker push. */
export function compressForPush(store: Store, image: Image): Promise<Image> {
  return recompressImage(store, image, 'gzip', { which: 'uncompressed' });
}
