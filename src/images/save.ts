// saveImages: stored images out to an OCI archive, a docker save archive or an OCI layout folder.
import { UsageError } from '../errors.js';
import { writeDockerArchive } from '../export/docker-archive.js';
import type { ExportItem } from '../export/layout.js';
import { writeOciArchive } from '../export/oci-archive.js';
import { writeOciLayout } from '../export/oci-layout.js';
import { parseReference } from '../image/reference.js';
import { Store } from '../store/store.js';

export type SaveFormat = 'oci' | 'docker' | 'oci-dir';

export interface SaveImagesOptions {
  storeRoot: string;
  /** Names, ids or digests. A name keeps its name in the archive; an id saves the image unnamed, as docker does. */
  images: readonly string[];
  /** The file (the folder for oci-dir) to write. */
  output: string;
  /** oci: OCI layout in a tar (default); docker: docker save archive (also an OCI layout); oci-dir: OCI layout folder. */
  format?: SaveFormat;
}

export async function saveImages(options: SaveImagesOptions): Promise<void> {
  const format = options.format ?? 'oci';
  const store = await Store.open(options.storeRoot);
  const refs = await store.readRefs();
  const items = new Map<string, ExportItem>();
  for (const arg of options.images) {
    const digest = await store.resolve(arg);
    if (!digest) throw new UsageError(`no such image: ${arg}`);
    const key = digest.toString();
    const index = await store.indexByDigest(digest);
    const images = index ? await store.entryImages(digest) : [await store.imageByDigest(digest)];
    if (index && format === 'docker') throw new UsageError(`${arg} is a multi-platform image (${index.platforms().join(', ')}): a docker archive holds one platform; use --format oci`);
    if (index && images.length !== index.manifests.length) throw new UsageError(`${arg}: only ${images.length} of the ${index.manifests.length} images of its index are in the store`);
    const item = items.get(key) ?? { image: images[0], names: [], ...(index ? { index, images } : {}) };
    items.set(key, item);
    const name = referenceName(arg);
    if (name && refs.names[name] === key && !item.names.includes(name)) item.names.push(name);
  }
  const list = [...items.values()];
  if (format === 'docker') await writeDockerArchive(store, list, options.output);
  else if (format === 'oci-dir') await writeOciLayout(store, list, options.output);
  else await writeOciArchive(store, list, options.output);
}

/** The normalised name `arg` spells, or undefined for an id or digest prefix. */
function referenceName(arg: string): string | undefined {
  try {
    return parseReference(arg).toString();
  } catch {
    return undefined;
  }
}
