// `force-compression=true` (buildx): every layer of the result in the requested compression,
// base layers too. A layer whose blob is compressed otherwise is re-encoded by the native engine,
// streaming (decode → encode, the tar's sha256 checked on the way): same diff_id, new blob.
import * as path from 'node:path';
import type { Store } from '../store/store.js';
import { Image, type Layer } from '../image/image.js';
import { layerCompression, layerMediaType, type Compression } from '../image/media-types.js';
import { recompressLayer } from '../native/index.js';
import { StoreError } from '../errors.js';

/** `image` with each layer in `compression` (layers already in it are kept as they are, as BuildKit). */
export async function recompressImage(store: Store, image: Image, compression: Compression, level?: number): Promise<Image> {
  if (image.layers.every((l) => layerCompression(l.mediaType) === compression)) return image;
  const dir = await store.tempDir('recompress');
  try {
    const layers: Layer[] = [];
    for (const [i, l] of image.layers.entries()) {
      if (layerCompression(l.mediaType) === compression) layers.push(l);
      // The new blob goes into the store beside the old one (both stay: other images use the old).
      else {
        const out = path.join(dir, `layer-${i}.blob`);
        const r = await recompressLayer({ inputPath: store.blobPath(l.digest), outputPath: out, compression, level });
        if (r.diffId !== l.diffId.toString()) throw new StoreError('BLOB_CORRUPT', `layer ${l.digest} in the store decodes to ${r.diffId}, the image says ${l.diffId}; run 'nbuild store check --repair'`);
        layers.push(await store.addLayer(out, r, layerMediaType(compression)));
      }
    }
    return Image.build(image.config, layers, image.manifest.annotations);
  } finally {
    await store.removeTempDir(dir);
  }
}
