// pullImage: reference → manifest (index resolved to one platform) → config and layer
// blobs into the store (verified while streaming, 4 at a time) → image written and tagged.
// Layers are unpacked later, on first use (Store.layerDir), so pull needs no namespaces.
import { NbuildError, RegistryError } from '../errors.js';
import { Digest } from '../image/digest.js';
import { Image } from '../image/image.js';
import { ImageIndex } from '../image/image-index.js';
import { isIndexType, isManifestType } from '../image/media-types.js';
import { parseReference, type Reference } from '../image/reference.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../image/types.js';
import type { Store } from '../store/store.js';
import type { ManifestAnswer, RegistryClient } from './client.js';
import { checkImagePlatform, hostPlatform, selectManifest, type PlatformSpec } from './platform.js';
import type { Endpoint } from './registries-config.js';
import { RegistrySession, mapLimit, type SessionOptions } from './session.js';

export type PullEvent =
  | { kind: 'resolved'; reference: string; digest: string; source: string }
  | { kind: 'blob'; digest: string; size: number; cached: boolean }
  | { kind: 'progress'; digest: string; bytes: number }
  | { kind: 'blob-done'; digest: string };

export interface PullOptions extends SessionOptions {
  platform?: PlatformSpec;
  onProgress?: (e: PullEvent) => void;
  /** Blobs fetched at once (default 4). */
  concurrency?: number;
  /** A session to share between several pulls (one token per repository). */
  session?: RegistrySession;
  /** Every platform of an index, kept as one index (pull --all-platforms). */
  allPlatforms?: boolean;
}

interface Found {
  endpoint: Endpoint;
  client: RegistryClient;
  manifest: ManifestAnswer;
}

/** pullImage fetches `ref` (by tag or digest) into `store` and names it with the normalised reference. */
export async function pullImage(store: Store, ref: string | Reference, opts: PullOptions = {}): Promise<Image> {
  return (await pullAny(store, ref, { ...opts, allPlatforms: false })) as Image;
}

/** As pullImage; with `allPlatforms`, a multi-platform image comes whole, as an index. */
export async function pullAny(store: Store, ref: string | Reference, opts: PullOptions = {}): Promise<Image | ImageIndex> {
  const reference = typeof ref === 'string' ? parseReference(ref) : ref;
  const what = reference.toString();
  const session = opts.session ?? new RegistrySession(opts);
  const want = opts.platform ?? hostPlatform();
  const found = await findManifest(session, reference);
  let { manifest } = found;
  const { client, endpoint } = found;
  if ((isIndexType(manifest.mediaType) || isIndexDocument(manifest.bytes)) && opts.allPlatforms) {
    return pullIndex(store, reference, client, endpoint.repository, ImageIndex.fromBytes(manifest.bytes), opts);
  }
  if (isIndexType(manifest.mediaType) || isIndexDocument(manifest.bytes)) {
    const chosen = selectManifest(parseJson<Index>(manifest.bytes, what), want, what);
    manifest = await client.getManifest(endpoint.repository, chosen.digest);
  }
  const parsed = parseJson<Manifest>(manifest.bytes, what);
  if (!isManifestType(parsed.mediaType ?? manifest.mediaType)) {
    throw new NbuildError('NOT_AN_IMAGE', `${what} is not a container image (media type ${parsed.mediaType ?? manifest.mediaType ?? 'unknown'})`);
  }
  opts.onProgress?.({ kind: 'resolved', reference: what, digest: manifest.digest, source: `${endpoint.registry}/${endpoint.repository}` });
  const fetch = (d: Descriptor, small = false) => fetchIntoStore(store, client, endpoint.repository, d, opts, small);
  await fetch(parsed.config, true);
  const configBytes = await store.readBlob(Digest.parse(parsed.config.digest));
  checkImagePlatform(parseJson<ImageConfig>(configBytes, what), want, what);
  await mapLimit(parsed.layers ?? [], opts.concurrency ?? 4, (d) => fetch(d));
  // Interrupted (SIGINT/SIGTERM) after the last blob: no image is named.
  opts.signal?.throwIfAborted();
  const image = Image.fromBytes(manifest.bytes, configBytes);
  await store.writeImage(image);
  if (!reference.digest) await store.tag(what, image);
  return image;
}

/** Every image of an index (attestations left out), then the index itself, named by the reference. */
async function pullIndex(store: Store, reference: Reference, client: RegistryClient, repo: string, index: ImageIndex, opts: PullOptions): Promise<ImageIndex> {
  const what = reference.toString();
  for (const d of index.manifests) {
    if (d.platform?.os === 'unknown') continue;
    const answer = await client.getManifest(repo, d.digest);
    const parsed = parseJson<Manifest>(answer.bytes, what);
    await fetchIntoStore(store, client, repo, parsed.config, opts, true);
    await mapLimit(parsed.layers ?? [], opts.concurrency ?? 4, (l) => fetchIntoStore(store, client, repo, l, opts, false));
    await store.putImageBlobs(Image.fromBytes(answer.bytes, await store.readBlob(Digest.parse(parsed.config.digest))));
  }
  // Attestation entries point at manifests not fetched: keep the index bytes (its digest) all the same.
  for (const d of index.index.manifests) if (d.platform?.os === 'unknown' && !(await store.hasBlob(Digest.parse(d.digest)))) {
    await store.putBlob((await client.getManifest(repo, d.digest)).bytes);
  }
  opts.signal?.throwIfAborted();
  await store.writeIndex(index);
  if (!reference.digest) await store.tag(what, index);
  opts.onProgress?.({ kind: 'resolved', reference: what, digest: index.digest.toString(), source: repo });
  return index;
}

/** findManifest tries each endpoint (mirrors, then the primary) and returns the first answer. A mirror's
 *  failure is only remembered; the primary's error is what the user sees. */
async function findManifest(session: RegistrySession, ref: Reference): Promise<Found> {
  const endpoints = session.endpoints(ref.registry, ref.repository, { push: false, byDigest: ref.digest !== undefined });
  const tried: string[] = [];
  let lastError: unknown;
  for (const endpoint of endpoints) {
    const client = await session.client(endpoint);
    try {
      const manifest = await client.getManifest(endpoint.repository, ref.digest ?? ref.tag);
      return { endpoint, client, manifest };
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      tried.push(`${endpoint.registry}/${endpoint.repository}`);
      lastError = err;
    }
  }
  if (tried.length > 1 && lastError instanceof RegistryError) {
    throw new RegistryError(`${lastError.message} (tried ${tried.join(', ')})`, { status: lastError.status, codes: lastError.codes, cause: lastError });
  }
  throw lastError;
}

/** fetchIntoStore downloads one blob into a temp file of the store and moves it in, unless present. `small`: a config. */
async function fetchIntoStore(store: Store, client: RegistryClient, repo: string, d: Descriptor, opts: PullOptions, small: boolean): Promise<void> {
  const digest = Digest.parse(d.digest);
  const cached = await store.hasBlob(digest);
  opts.onProgress?.({ kind: 'blob', digest: d.digest, size: d.size, cached });
  if (cached) return;
  const dir = await store.tempDir('pull');
  try {
    const file = `${dir}/blob`;
    await client.fetchBlob(repo, d.digest, file, {
      size: d.size,
      small,
      onProgress: opts.onProgress && ((bytes) => opts.onProgress?.({ kind: 'progress', digest: d.digest, bytes })),
    });
    // fetchBlob verified the digest while streaming; hashing the file again would double the I/O.
    // An interrupted fetch never gets here: its temp dir goes below, and no blob is half-written.
    await store.importBlobFile(file, digest, true);
    opts.onProgress?.({ kind: 'blob-done', digest: d.digest });
  } finally {
    await store.removeTempDir(dir).catch(() => undefined);
  }
}

function isIndexDocument(bytes: Buffer): boolean {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as { manifests?: unknown; layers?: unknown };
    return Array.isArray(v.manifests) && v.layers === undefined;
  } catch {
    return false;
  }
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new RegistryError(`${what}: the registry sent a manifest that is not JSON`, { cause: err });
  }
}

export interface ResolveOptions extends PullOptions {
  /** true: always ask the registry (build --pull); false: use the stored image when there is one. */
  pull: boolean;
}

/** resolveBaseImage is what the build engine calls for `FROM registry/ref`: the stored image when it is
 *  there for the wanted platform (unless `pull`), else a pull. */
export async function resolveBaseImage(store: Store, ref: string | Reference, opts: ResolveOptions): Promise<Image> {
  const reference = typeof ref === 'string' ? parseReference(ref) : ref;
  if (!opts.pull) {
    const want = opts.platform ?? hostPlatform();
    const local = await store.getImage(reference.toString(), want).catch(() => undefined);
    if (local && local.config.os === want.os && local.config.architecture === want.architecture) return local;
  }
  return pullImage(store, reference, opts);
}
