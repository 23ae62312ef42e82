// imageHistory: the history entries of a stored image, newest first, each with the layer it made
// (`nbuild history`, docker's `image history`).
import { NbuildError } from '../errors.js';
import type { History } from '../image/types.js';
import { Store } from '../store/store.js';

export interface ImageHistoryOptions {
  storeRoot: string;
  /** Name, id or digest of the image. */
  image: string;
}

export interface ImageHistoryEntry {
  /** RFC 3339, when the entry has a time. */
  created?: string;
  createdBy: string;
  /** The size of the layer the step made (0 for an empty layer). */
  size: number;
  /** The layer's digest, when the step made one. */
  layer?: string;
  emptyLayer: boolean;
  comment: string;
}

export interface ImageHistory {
  /** The image id (its config digest). */
  id: string;
  /** Newest first. */
  entries: ImageHistoryEntry[];
}

/** Works outside the user namespace. */
export async function imageHistory(options: ImageHistoryOptions): Promise<ImageHistory> {
  const store = await Store.open(options.storeRoot);
  const image = await store.getImage(options.image);
  if (!image) throw new NbuildError('IMAGE_UNKNOWN', `no such image: ${options.image}`);
  // Without history, one synthetic entry per layer (some tools write none).
  const history: History[] = image.config.history?.length ? [...image.config.history] : image.layers.map(() => ({ created_by: '' }));
  let layer = 0;
  const entries = history.map((h): ImageHistoryEntry => {
    const l = h.empty_layer ? undefined : image.layers[layer++];
    return { created: h.created, createdBy: h.created_by ?? '', size: l?.size ?? 0, layer: l?.digest.toString(), emptyLayer: h.empty_layer === true, comment: h.comment ?? '' };
  });
  return { id: image.id.toString(), entries: entries.reverse() };
}
