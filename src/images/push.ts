// pushImage: a stored image (or multi-platform index) up to a registry.
import { NbuildError } from '../errors.js';
import { ImageIndex } from '../image/image-index.js';
import { pushImage as pushOne, pushIndex, type PushEvent } from '../registry/push.js';
import type { SessionOptions } from '../registry/session.js';
import { Store } from '../store/store.js';
import { compressForPush, compressIndexForPush } from '../export/recompress.js';
import { parseReference } from '../image/reference.js';

export interface PushImageOptions {
  storeRoot: string;
  /** A stored image: name, id or digest. */
  image: string;
  /** Where to push, REGISTRY/NAME[:TAG] (default: `image`). */
  destination?: string;
  registry?: SessionOptions;
  onProgress?: (event: PushEvent) => void;
  /** Stops the push (no manifest is put). */
  signal?: AbortSignal;
}

/** Returns the pushed manifest (or index) digest. */
export async function pushImage(options: PushImageOptions): Promise<{ digest: string }> {
  const store = await Store.open(options.storeRoot);
  const image = await store.getImageOrIndex(options.image);
  if (!image) throw new NbuildError('IMAGE_UNKNOWN', `no image ${options.image} in the local store`);
  const dest = options.destination ?? options.image;
  const opts = { ...options.registry, onProgress: options.onProgress, signal: options.signal };
  // As docker push: the layers the store keeps uncompressed (a build that only stored its image)
  // go up gzip-compressed; pushed by digest, the image is pushed as those bytes.
  const ref = parseReference(dest);
  const byDigest = ref.digest !== undefined && !ref.tagGiven;
  if (image instanceof ImageIndex) {
    const images = await store.entryImages(image.digest);
    const pushed = byDigest ? { index: image, images } : await compressIndexForPush(store, image, images);
    return pushIndex(store, pushed.index, pushed.images, ref, opts);
  }
  return pushOne(store, byDigest ? image : await compressForPush(store, image), ref, opts);
}
