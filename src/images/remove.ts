// removeImages: unname and delete images; layers other images or the build cache use are kept.
import { requireUserNamespace } from '../sandbox/userns.js';
import { removeImages as removeFromStore, type GcResult } from '../store/gc.js';
import { Store } from '../store/store.js';

export interface RemoveImagesOptions {
  storeRoot: string;
  /** Names (each unnames one name) or ids (the image goes with all its names). */
  images: readonly string[];
  /** Remove by id even if the image has several names or is the base of another image. */
  force?: boolean;
}

export interface RemoveImagesResult {
  /** `Untagged: NAME` and `Deleted: DIGEST`, in order, as docker prints them. */
  lines: string[];
  /** What the collector removed after, and why it kept what it kept. */
  gc: GcResult;
}

/** Needs the user namespace (unpacked layers hold files of the image's owners). */
export async function removeImages(options: RemoveImagesOptions): Promise<RemoveImagesResult> {
  requireUserNamespace('rmi');
  const store = await Store.open(options.storeRoot);
  return removeFromStore(store, [...options.images], options.force ?? false);
}
