// pruneStore: dangling images, build cache and the blobs and layers nothing uses any more.
import { requireUserNamespace } from '../sandbox/userns.js';
import { prune, type GcResult } from '../store/gc.js';
import { Store } from '../store/store.js';

export interface PruneStoreOptions {
  storeRoot: string;
  /** Also remove the unpacked copies of all layers (they are unpacked again when needed). */
  all?: boolean;
  /** Keep the most recently used build cache up to this many bytes. */
  keepStorage?: number;
}

/** Needs the user namespace (unpacked layers hold files of the image's owners). */
export async function pruneStore(options: PruneStoreOptions): Promise<GcResult> {
  requireUserNamespace('prune');
  const store = await Store.open(options.storeRoot);
  return prune(store, { all: options.all ?? false, keepStorage: options.keepStorage });
}
