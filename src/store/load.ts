// `nbuild load`: images in from an OCI archive (tar), an OCI layout folder, or a
// `docker save` archive (old <id>/layer.tar style or docker ≥ 25's OCI style).
// Every blob is hashed and checked against the digest that names it before it
// enters the store, and names change only at the very end, in one refs.json
// update: a refused archive leaves nothing behind but garbage-collectable blobs.
import * as fs from 'node:fs/promises';
import { NbuildError, UsageError } from '../errors.js';
import { Digest } from '../image/digest.js';
import { Image, hostPlatform } from '../image/image.js';
import { ImageIndex } from '../image/image-index.js';
import { platformMatches, type Platform } from '../image/platform.js';
import { OCI_CONFIG, OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, OCI_MANIFEST, isIndexType, isLayerType, isManifestType } from '../image/media-types.js';
import { parseReference } from '../image/reference.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../image/types.js';
import { canonicalJson } from '../image/canonical-json.js';
import { computeDiffId } from './diff-id.js';
import { storeFsError } from './fsutil.js';
import { type ArchiveFiles, type LoadSource, type MaterializedFile, invalid, layoutSource, tarSource } from './load-source.js';
import type { Store } from './store.js';
import { isoTime } from '../iso-time.js';

export interface LoadedImage {
  /** The image; for a multi-platform index, its image for this host (else its first). */
  image: Image;
  /** Set when the archive named a multi-platform index (kept whole, named as such). */
  index?: ImageIndex;
  names: string[];
  /** The raw `org.opencontainers.image.ref.name` annotations (often a bare tag, as skopeo writes them). */
  refNames: string[];
}

interface Pending {
  image: Image;
  index?: ImageIndex;
  /** An index's images (each with its own blobs). */
  children?: Pending[];
  names: string[];
  refNames: string[];
  /** Layer blob files to move in. */
  blobs: MaterializedFile[];
}

export interface LoadOptions {
  /** Also name the (single) loaded image. */
  tag?: string;
  /** false: store the images without naming them (FROM oci-archive:… must not rename the store's images). */
  nameImages?: boolean;
  /** Decompress each layer to check its diff_id (default true; unknown media types are skipped). */
  verifyDiffIds?: boolean;
  /** Take this platform's image out of a multi-platform index (FROM oci:…); default: keep the whole index. */
  platform?: Platform;
}

export async function loadArchive(store: Store, archive: string, opts: LoadOptions = {}): Promise<LoadedImage[]> {
  const st = await fs.stat(archive).catch((e: unknown) => {
    throw new NbuildError('ARCHIVE_NOT_FOUND', `cannot load ${archive}: ${(e as Error).message}`, { cause: e });
  });
  const work = await store.tempDir('load');
  try {
    const src = st.isDirectory() ? await layoutSource(archive, work) : await tarSource(archive, work);
    const index = await src.ociIndex();
    let pending: Pending[];
    if (index) pending = await fromOciLayout(src, index, opts.platform);
    else if (await src.files?.has('manifest.json')) pending = await fromDockerArchive(src.files!);
    else throw invalid(`${archive} is neither an OCI layout (no index.json) nor a docker archive (no manifest.json)`);
    if (pending.length === 0) throw invalid(`${archive} holds no image`);
    if (opts.tag !== undefined) {
      if (pending.length > 1) throw new UsageError(`${archive} holds ${pending.length} images; -t names one`);
      pending[0].names = [...new Set([...pending[0].names, parseReference(opts.tag).toString()])];
    }
    if (opts.verifyDiffIds !== false) await verifyDiffIds(pending);
    return await commit(store, pending, opts.nameImages !== false);
  } catch (e) {
    throw storeFsError(e, `loading ${archive}`);
  } finally {
    await store.removeTempDir(work).catch(() => undefined);
  }
}

async function commit(store: Store, pending: Pending[], nameImages: boolean): Promise<LoadedImage[]> {
  for (const p of pending) {
    for (const one of p.children ?? [p]) {
      for (const b of one.blobs) await store.importBlobFile(b.file, b.digest, true);
      await store.putImageBlobs(one.image);
    }
    if (p.index) await store.putBlob(p.index.bytes(), p.index.digest);
  }
  const added = isoTime(Date.now());
  await store.updateRefs((refs) => {
    for (const p of pending) {
      // An index is the store's entry; its images are reachable through it.
      const key = (p.index ?? p.image).manifestDigest.toString();
      refs.images[key] ??= { added };
      if (nameImages) for (const n of p.names) refs.names[n] = key;
    }
  });
  return pending.map(({ image, index, names, refNames }) => ({ image, ...(index ? { index } : {}), names, refNames }));
}

async function verifyDiffIds(pending: Pending[]): Promise<void> {
  const jobs = new Map<string, () => Promise<void>>();
  for (const p of pending.flatMap((x) => x.children ?? [x])) {
    p.image.layers.forEach((l, i) => {
      if (jobs.has(l.digest.hex) || !isLayerType(l.mediaType)) return;
      const file = p.blobs[i].file;
      jobs.set(l.digest.hex, async () => {
        let got: Digest;
        try {
          got = await computeDiffId(file, l.mediaType);
        } catch (e) {
          throw invalid(`layer ${l.digest} is not a valid ${l.mediaType} blob (${(e as Error).message})`);
        }
        if (!got.equals(l.diffId)) throw new NbuildError('DIGEST_MISMATCH', `cannot load: layer ${l.digest} has diff_id ${got}, the config says ${l.diffId}`);
      });
    });
  }
  // A few at a time: decompression runs in the thread pool.
  const queue = [...jobs.values()];
  await Promise.all(Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await job();
  }));
}

function parseJson<T>(data: Buffer, what: string): T {
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch {
    throw invalid(`${what} is not valid JSON`);
  }
}

/** A blob of the layout, checked against its descriptor (digest and size, both required by image-spec). */
async function blob(src: LoadSource, d: Descriptor, what: string): Promise<MaterializedFile> {
  if (!d || !Digest.isValid(d.digest)) throw invalid(`${what} has an invalid digest ${JSON.stringify(d?.digest)}`);
  if (!Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`${what} ${d.digest} has no valid size`);
  return src.blob({ digest: Digest.parse(d.digest), size: d.size }, what);
}

async function blobBytes(src: LoadSource, d: Descriptor, what: string): Promise<Buffer> {
  const f = await blob(src, d, what);
  if (f.size > 16 << 20) throw invalid(`${what} ${d.digest} is too large`);
  return fs.readFile(f.file);
}

async function fromOciLayout(src: LoadSource, index: Index, platform?: Platform): Promise<Pending[]> {
  // docker ≥ 25 also writes manifest.json: its RepoTags name images index.json leaves unnamed.
  const repoTags = src.files && (await src.files.has('manifest.json')) ? await dockerRepoTags(src.files) : new Map<string, string[]>();
  const byDigest = new Map<string, Pending>();
  for (const d of index.manifests) {
    const p = await resolveDescriptor(src, d, 0, platform);
    const key = (p.index ?? p.image).manifestDigest.toString();
    const have = byDigest.get(key) ?? p;
    byDigest.set(key, have);
    const refName = d.annotations?.['org.opencontainers.image.ref.name'];
    if (refName && !have.refNames.includes(refName)) have.refNames.push(refName);
    const name = nameFromAnnotations(d.annotations);
    if (name && !have.names.includes(name)) have.names.push(name);
  }
  for (const p of byDigest.values()) {
    if (p.names.length === 0) p.names.push(...(repoTags.get(p.image.configDigest.toString()) ?? []));
  }
  return [...byDigest.values()];
}

function nameFromAnnotations(a: Record<string, string> | undefined): string | undefined {
  const full = a?.['io.containerd.image.name'] ?? a?.['org.opencontainers.image.ref.name'];
  // A bare tag (skopeo's `oci-archive:x.tar:latest`) names no repository: not a name here.
  if (!full || !/[/:]/.test(full)) return undefined;
  try {
    const ref = parseReference(full);
    return ref.digest && !ref.tagGiven ? undefined : parseReference(`${ref.name()}:${ref.tag}`).toString();
  } catch {
    throw invalid(`index.json names an image ${JSON.stringify(full)}, which is not a valid reference`);
  }
}

async function resolveDescriptor(src: LoadSource, d: Descriptor, depth: number, platform?: Platform): Promise<Pending> {
  if (depth > 4) throw invalid('image indexes nested too deeply');
  if (isIndexType(d?.mediaType)) {
    const bytes = await blobBytes(src, d, 'index');
    const index = wrapInvalid(() => ImageIndex.fromBytes(bytes));
    const manifests = index.manifests.filter((m) => m.platform?.os !== 'unknown'); // attestations
    if (platform || manifests.length === 1) {
      const pick = manifests.length === 1 && !platform ? manifests[0] : index.select(platform ?? hostPlatform(), `index ${d.digest}`);
      return resolveDescriptor(src, pick, depth + 1);
    }
    // The whole index: every image it lists must be in the archive (skopeo copy --all writes them).
    const children: Pending[] = [];
    for (const m of manifests) children.push(await resolveDescriptor(src, m, depth + 1));
    if (children.length === 0) throw invalid(`index ${d.digest} lists no image`);
    const host = hostPlatform();
    const image = (children.find((c) => platformMatches(host, c.image.config)) ?? children[0]).image;
    return { image, index, children, names: [], refNames: [], blobs: [] };
  }
  if (!isManifestType(d?.mediaType)) throw invalid(`index.json entry ${String(d?.digest)} has media type ${String(d?.mediaType)}, not an image manifest or index`);
  const manifestBytes = await blobBytes(src, d, 'manifest');
  const manifest = parseJson<Manifest>(manifestBytes, `manifest ${d.digest}`);
  if (!manifest.config || !Array.isArray(manifest.layers)) throw invalid(`manifest ${d.digest} has no config or layers`);
  const configBytes = await blobBytes(src, manifest.config, 'config');
  const image = wrapInvalid(() => Image.fromBytes(manifestBytes, configBytes));
  const blobs: MaterializedFile[] = [];
  for (const [i, l] of manifest.layers.entries()) blobs.push(await blob(src, l, `layer ${i}`));
  return { image, names: [], refNames: [], blobs };
}

function wrapInvalid<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NbuildError && e.code === 'INVALID_IMAGE') throw invalid(e.message);
    throw e;
  }
}

interface DockerEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

async function dockerEntries(src: ArchiveFiles): Promise<DockerEntry[]> {
  const entries = parseJson<DockerEntry[]>(await src.readSmall('manifest.json'), 'manifest.json');
  if (!Array.isArray(entries)) throw invalid('manifest.json is not a list');
  for (const e of entries) {
    if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers) || !e.Layers.every((l) => typeof l === 'string')) throw invalid('manifest.json entry without Config and Layers');
    if (e.RepoTags !== undefined && e.RepoTags !== null && (!Array.isArray(e.RepoTags) || !e.RepoTags.every((t) => typeof t === 'string'))) throw invalid('manifest.json RepoTags is not a list of names');
  }
  return entries;
}

function normaliseTags(tags: unknown): string[] {
  if (!Array.isArray(tags)) return [];
  return tags.map((t) => {
    try {
      return parseReference(String(t)).toString();
    } catch {
      throw invalid(`manifest.json names an image ${JSON.stringify(t)}, which is not a valid reference`);
    }
  });
}

async function dockerRepoTags(src: ArchiveFiles): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const e of await dockerEntries(src)) {
    const cfg = await src.materialize(String(e.Config));
    out.set(cfg.digest.toString(), normaliseTags(e.RepoTags));
  }
  return out;
}

/** docker save (any version): manifest.json → synthesised OCI manifests over the same blobs. */
async function fromDockerArchive(src: ArchiveFiles): Promise<Pending[]> {
  const out: Pending[] = [];
  for (const e of await dockerEntries(src)) {
    const cfgName = String(e.Config);
    const cfg = await src.materialize(cfgName);
    // Config files are named by their digest (<hex>.json or blobs/sha256/<hex>): check it.
    const named = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(cfgName)?.[1];
    if (named && named !== cfg.digest.hex) throw new NbuildError('DIGEST_MISMATCH', `cannot load: ${cfgName} has digest ${cfg.digest}`);
    if (cfg.size > 16 << 20) throw invalid(`${cfgName} is too large`);
    const configBytes = await fs.readFile(cfg.file);
    const config = parseJson<ImageConfig>(configBytes, cfgName);
    const diffIds = config?.rootfs?.diff_ids;
    const layerNames = e.Layers as string[];
    if (!Array.isArray(diffIds) || diffIds.length !== layerNames.length) throw invalid(`${cfgName}: ${layerNames.length} layers but ${Array.isArray(diffIds) ? diffIds.length : 'no'} diff_ids`);
    const blobs: MaterializedFile[] = [];
    const layers: Descriptor[] = [];
    for (const [i, name] of layerNames.entries()) {
      const f = await src.materialize(name);
      const named = /(?:^|\/)blobs\/sha256\/([0-9a-f]{64})$/.exec(name)?.[1];
      if (named && named !== f.digest.hex) throw new NbuildError('DIGEST_MISMATCH', `cannot load: ${name} has digest ${f.digest}`);
      const mediaType = await sniffLayer(f.file);
      // An uncompressed layer's digest is its diff_id: checkable here. Compressed ones are checked on unpacking.
      if (mediaType === OCI_LAYER && f.digest.toString() !== diffIds[i]) throw new NbuildError('DIGEST_MISMATCH', `cannot load: layer ${name} has digest ${f.digest}, the config says ${diffIds[i]}`);
      blobs.push(f);
      layers.push({ mediaType, digest: f.digest.toString(), size: f.size });
    }
    const manifest: Manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: cfg.digest.toString(), size: cfg.size }, layers };
    const image = wrapInvalid(() => Image.fromBytes(Buffer.from(canonicalJson(manifest)), configBytes));
    out.push({ image, names: normaliseTags(e.RepoTags), refNames: [], blobs });
  }
  return out;
}

async function sniffLayer(file: string): Promise<string> {
  const head = Buffer.alloc(4);
  const fh = await fs.open(file, 'r');
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return OCI_LAYER_GZIP;
  if (head.readUInt32LE(0) === 0xfd2fb528) return OCI_LAYER_ZSTD;
  return OCI_LAYER;
}
