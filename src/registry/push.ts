// pushImage: blobs first (skipped when the registry has them, mounted from another
// repository of the same registry when the store knows one), the manifest last, so a
// tag never points at an image whose blobs are missing.
import { NbuildError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { Image } from '../image/image.js';
import { OCI_INDEX, OCI_MANIFEST } from '../image/media-types.js';
import type { ImageIndex } from '../image/image-index.js';
import { parseReference, type Reference } from '../image/reference.js';
import type { Store } from '../store/store.js';
import type { RegistryClient } from './client.js';
import { RegistrySession, mapLimit, type SessionOptions } from './session.js';

export type PushEvent =
  /** An upload (or mount) begins; 'blob' ends it. A blob the registry has gets only its 'blob' event. */
  | { kind: 'blob-start'; digest: string; size: number }
  | { kind: 'blob'; digest: string; size: number; outcome: 'exists' | 'mounted' | 'uploaded' }
  | { kind: 'progress'; digest: string; bytes: number }
  | { kind: 'manifest'; reference: string; digest: string };

export interface PushOptions extends SessionOptions {
  onProgress?: (e: PushEvent) => void;
  concurrency?: number;
  /** Repositories (same registry) to try mounting from, besides those the store's names suggest. */
  mountFrom?: string[];
  session?: RegistrySession;
  /** Put the manifest by its digest, not the tag (an index's images). */
  byDigest?: boolean;
}

/**
 * pushIndex uploads a multi-platform index: each image's blobs and manifest (by digest; a blob
 * two platforms share is uploaded once), then the index under the tag.
 */
export async function pushIndex(store: Store, index: ImageIndex, images: readonly Image[], dest: string | Reference, opts: PushOptions = {}): Promise<{ digest: string }> {
  const ref = typeof dest === 'string' ? parseReference(dest) : dest;
  const session = opts.session ?? new RegistrySession(opts);
  for (const d of index.manifests) {
    const image = images.find((i) => i.manifestDigest.toString() === d.digest);
    if (!image) throw new NbuildError('BLOB_UNKNOWN', `cannot push index ${index.digest.short()}: its image ${d.digest} is not in the local store`);
    await pushImage(store, image, ref, { ...opts, session, byDigest: true });
  }
  const [endpoint] = session.endpoints(ref.registry, ref.repository, { push: true, byDigest: false });
  const client = await session.client(endpoint);
  const tag = ref.digest && !ref.tagGiven ? index.digest.toString() : ref.tag;
  const digest = await client.putManifest(endpoint.repository, tag, index.bytes(), index.index.mediaType ?? OCI_INDEX);
  opts.onProgress?.({ kind: 'manifest', reference: ref.toString(), digest });
  return { digest };
}

/** pushImage uploads `image` (its blobs must be in `store`) to `dest` and returns the manifest digest. */
export async function pushImage(store: Store, image: Image, dest: string | Reference, opts: PushOptions = {}): Promise<{ digest: string }> {
  const ref = typeof dest === 'string' ? parseReference(dest) : dest;
  if (ref.digest && !ref.tagGiven && ref.digest !== image.manifestDigest.toString()) {
    throw new NbuildError('USAGE', `cannot push ${image.manifestDigest} as ${ref.toString()}: the digest differs`, { exitCode: 2 });
  }
  const session = opts.session ?? new RegistrySession(opts);
  const [endpoint] = session.endpoints(ref.registry, ref.repository, { push: true, byDigest: false });
  const client = await session.client(endpoint);
  const repo = endpoint.repository;
  const sources = await mountSources(store, endpoint.registry, ref.registry, repo);
  if (!(await store.hasBlob(image.configDigest))) await store.putBlob(image.configBytes(), image.configDigest);
  const blobs = [
    { digest: image.configDigest, size: image.configBytes().length },
    ...image.layers.map((l) => ({ digest: l.digest, size: l.size })),
  ];
  await mapLimit(blobs, opts.concurrency ?? 4, (b) => pushBlob(store, client, repo, b, sources.get(b.digest.toString()) ?? opts.mountFrom?.[0], opts));
  // Interrupted after the last blob: no tag points at the image.
  opts.signal?.throwIfAborted();
  const tag = opts.byDigest || (ref.digest && !ref.tagGiven) ? image.manifestDigest.toString() : ref.tag;
  const mediaType = image.manifest.mediaType ?? OCI_MANIFEST;
  const digest = await client.putManifest(repo, tag, image.manifestBytes(), mediaType);
  opts.onProgress?.({ kind: 'manifest', reference: ref.toString(), digest });
  return { digest };
}

async function pushBlob(store: Store, client: RegistryClient, repo: string, b: { digest: Digest; size: number }, mountFrom: string | undefined, opts: PushOptions): Promise<void> {
  const digest = b.digest.toString();
  if (!(await store.hasBlob(b.digest))) {
    throw new NbuildError('BLOB_UNKNOWN', `cannot push: blob ${digest} is not in the local store`);
  }
  if (await client.hasBlob(repo, digest)) {
    opts.onProgress?.({ kind: 'blob', digest, size: b.size, outcome: 'exists' });
    return;
  }
  opts.onProgress?.({ kind: 'blob-start', digest, size: b.size });
  const outcome = await client.uploadBlob(repo, { digest, size: b.size, path: store.blobPath(b.digest) }, {
    mountFrom,
    onProgress: opts.onProgress && ((bytes) => opts.onProgress?.({ kind: 'progress', digest, bytes })),
  });
  opts.onProgress?.({ kind: 'blob', digest, size: b.size, outcome });
}

/** mountSources maps blob digests to a repository of the same registry that (by the store's names) has them:
 *  an image pulled from registry/base shares its layers with what is built on it. */
async function mountSources(store: Store, endpointRegistry: string, refRegistry: string, repo: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const entries = await store.listImages().catch(() => []);
  for (const entry of entries) {
    for (const name of entry.names) {
      let named: Reference;
      try {
        named = parseReference(name);
      } catch {
        continue;
      }
      if (named.registry !== refRegistry || named.repository === repo || endpointRegistry !== refRegistry) continue;
      for (const d of [entry.image.configDigest, ...entry.image.layers.map((l) => l.digest)]) {
        if (!out.has(d.toString())) out.set(d.toString(), named.repository);
      }
    }
  }
  return out;
}
