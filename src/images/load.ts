// loadImages: images in from an OCI archive, an OCI layout folder or a `docker save` archive.
import { parseReference } from '../image/reference.js';
import { requireUserNamespace } from '../sandbox/userns.js';
import { loadArchive } from '../store/load.js';
import { Store } from '../store/store.js';

export interface LoadImagesOptions {
  storeRoot: string;
  /** The archive (tar, tar.gz) or OCI layout folder. */
  input: string;
  /** Also name the (single) loaded image. */
  tag?: string;
}

export interface LoadedImageSummary {
  /** The image id; a multi-platform image's index digest (as listImages). */
  id: string;
  /** Normalised names it was stored under. */
  names: string[];
}

/** Needs the user namespace (the store keeps the layers' file owners). */
export async function loadImages(options: LoadImagesOptions): Promise<LoadedImageSummary[]> {
  if (options.tag !== undefined) parseReference(options.tag); // bad usage fails before any work
  requireUserNamespace('load');
  const store = await Store.open(options.storeRoot);
  const loaded = await loadArchive(store, options.input, { tag: options.tag });
  return loaded.map(({ image, index, names }) => ({ id: (index?.digest ?? image.id).toString(), names }));
}
