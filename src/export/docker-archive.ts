// docker-archive: the `docker save` format (manifest.json with Config, RepoTags,
// Layers, plus the legacy `repositories` file) laid over an OCI layout in the same
// tar, as docker ≥ 25 writes it, so docker load, podman load and OCI tools all
// accept one file (anchors-research §(d)).
import type { Store } from '../store/store.js';
import { parseReference } from '../image/reference.js';
import { type ExportItem, collectBlobs, indexDescriptors, makeIndex } from './layout.js';
import { blobName, indexBytes } from '../oci/layout.js';
import { writeArchiveAtomic, writeLayoutEntries } from './oci-archive.js';
import { noProgress, type TransferProgress } from '../executor/transfer-progress.js';

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

export async function writeDockerArchive(store: Store, items: ExportItem[], dest: string, progress: TransferProgress = noProgress): Promise<void> {
  const blobs = await collectBlobs(store, items);
  const manifest: DockerManifestEntry[] = items.map(({ image, names }) => ({
    Config: blobName(image.configDigest),
    RepoTags: names.length ? names.map((n) => parseReference(n).familiar()) : null,
    Layers: image.layers.map((l) => blobName(l.digest)),
  }));
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, names } of items) {
    for (const n of names) {
      const ref = parseReference(n);
      (repositories[ref.familiarName()] ??= {})[ref.tag] = image.configDigest.hex;
    }
  }
  await writeArchiveAtomic(store, dest, async (tar) => {
    await writeLayoutEntries(store, tar, blobs, indexBytes(makeIndex(indexDescriptors(items))), progress);
    await tar.addBuffer('manifest.json', Buffer.from(`${JSON.stringify(manifest)}\n`));
    if (Object.keys(repositories).length) await tar.addBuffer('repositories', Buffer.from(`${JSON.stringify(repositories)}\n`));
  });
}
