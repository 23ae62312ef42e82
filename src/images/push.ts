// pushImage: a stored image (or multi-platform index) up to a registry.
import { NbuildError } from '../errors.js';
import { ImageIndex } from '../image/image-index.js';
import { pushImage as pushOne, pushIndex, type PushEvent } from '../registry/push.js';
import type { SessionOptions } from '../registry/session.js';
import { Store } from '../store/store.js';
import { recompressImage } from '../export/recompress.js';
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
  if (image instanceof ImageIndex) return pushIndex(store, image, await store.entryImages(image.digest), dest, opts);
  // As docker push: the layers the store keeps uncompressed (a build that only stored its image)
  // go up gzip-compressed; pushed by digest, the image is pushed as those bytes.
  const ref = parseReference(dest);
  const byDigest = ref.digest !== undefined && !ref.tagGiven;
  return pushOne(store, byDigest ? image : await recompressImage(store, image, 'gzip', { which: 'uncompressed' }), ref, opts);
}
