// tagImage: more names for a stored image (a multi-platform index is tagged whole).
import { NbuildError } from '../errors.js';
import { parseReference } from '../image/reference.js';
import { Store } from '../store/store.js';

export interface TagImageOptions {
  storeRoot: string;
  /** Name, id or digest of the image. */
  source: string;
  /** The new names (no digest). */
  targets: readonly string[];
}

/** Only names change: works outside the user namespace too. */
export async function tagImage(options: TagImageOptions): Promise<void> {
  for (const t of options.targets) {
    if (parseReference(t).digest) throw new NbuildError('USAGE', `cannot tag with a digest: ${t}`, { exitCode: 2 });
  }
  const store = await Store.open(options.storeRoot);
  const image = await store.getImageOrIndex(options.source);
  if (!image) throw new NbuildError('IMAGE_UNKNOWN', `no such image: ${options.source}`);
  for (const t of options.targets) await store.tag(t, image);
}
