// Scale-out build cache (SPEC §Scale-out, docs/cache.md): `--cache-to` writes the cache records a
// build used (cache key → layer) and their layer blobs as one OCI artifact, `--cache-from` reads it
// back into the store before a build, so a runner with a fresh store takes those steps as CACHED.
//   type=local,dest=DIR / src=DIR  an OCI image layout folder (index.json tag "latest")
//   type=registry,ref=R            the same manifest pushed to / pulled from a registry as R
// Cache keys hash the parent chain and the step's material only (cache/key.ts, executor/stage.ts), never paths
// of the store or the context, so they mean the same thing on every runner.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError, UsageError } from '../errors.js';
import { Digest } from '../image/digest.js';
import { OCI_INDEX, OCI_MANIFEST } from '../image/media-types.js';
import { parseReference } from '../image/reference.js';
import type { Descriptor, Manifest } from '../image/types.js';
import { isCacheRecord, type CacheRecord } from './record.js';
import { OciLayout } from '../oci/layout.js';
import type { Store } from '../store/store.js';
import type { RegistryClient } from '../registry/client.js';
import type { SessionOptions } from '../registry/session.js';
import { noProgress, type BlobMeter, type TransferProgress } from '../executor/transfer-progress.js';

/** What export and import take besides the cache: where blob progress goes, the registry flags (and the interrupt signal). */
export interface CacheTransferOptions {
  progress?: TransferProgress;
  session?: SessionOptions;
}

export const CACHE_CONFIG_TYPE = 'application/vnd.nbuild.cache.config.v1+json';
export const CACHE_ARTIFACT_TYPE = 'application/vnd.nbuild.cache.v1';
const REF_NAME = 'org.opencontainers.image.ref.name';
const LOCAL_TAG = 'latest';

/** `mode`: min exports the records of the target stage only, max those of every stage (buildx). */
export type CacheSpec = ({ type: 'local'; dir: string } | { type: 'registry'; ref: string }) & { mode?: 'min' | 'max'; ignoreError?: boolean };

export interface CacheEntry {
  key: string;
  record: CacheRecord;
  /** The stage that used the record (for mode=min). */
  stage?: number;
}

/** The config blob of a cache artifact. */
interface CacheConfig {
  version: 1;
  records: CacheEntry[];
}

// The keys buildx documents per direction; the ones nbuild honours, and why it refuses the rest.
const CACHE_KEYS = {
  to: ['type', 'dest', 'ref', 'mode', 'ignore-error', 'oci-mediatypes', 'image-manifest'],
  from: ['type', 'src', 'dest', 'ref'],
} as const;
const REFUSED_CACHE_KEYS: Record<string, string> = {
  compression: 'cache layers keep the compression they were built with',
  'compression-level': 'cache layers keep the compression they were built with',
  'force-compression': 'cache layers keep the compression they were built with',
  digest: 'the cache is read from its tag',
  tag: 'a local cache is tagged "latest"',
};

/** `type=local,dest=DIR` (to) / `type=local,src=DIR` (from) / `type=registry,ref=R`; a bare value is a registry ref (as buildx). */
export function parseCacheSpec(text: string, direction: 'from' | 'to'): CacheSpec {
  const flag = `--cache-${direction}`;
  if (!text.includes('=')) return { type: 'registry', ref: checkedRef(text, flag) };
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new UsageError(`${flag} ${text}: "${part}" is not key=value`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const type = fields.get('type') ?? 'registry';
  if (type === 'inline' || type === 'gha' || type === 's3' || type === 'azblob') {
    throw new UsageError(`${flag} type=${type}: not supported by nbuild (local, registry)`);
  }
  if (type !== 'local' && type !== 'registry') throw new UsageError(`${flag}: unknown type "${type}" (local, registry)`);
  const allowed: readonly string[] = CACHE_KEYS[direction];
  for (const key of fields.keys()) {
    if (allowed.includes(key)) continue;
    throw new UsageError(`${flag} ${key}=…: not supported by nbuild: ${REFUSED_CACHE_KEYS[key] ?? `not a key of ${flag} (${allowed.join(', ')})`}`);
  }
  const options = cacheOptions(fields, flag);
  if (type === 'local') {
    const dir = direction === 'to' ? fields.get('dest') : (fields.get('src') ?? fields.get('dest'));
    if (!dir) throw new UsageError(`${flag} type=local needs ${direction === 'to' ? 'dest' : 'src'}=DIR`);
    return { type: 'local', dir: path.resolve(dir), ...options };
  }
  const ref = fields.get('ref');
  if (!ref) throw new UsageError(`${flag} type=registry needs ref=NAME:TAG`);
  return { type: 'registry', ref: checkedRef(ref, flag), ...options };
}

function cacheOptions(fields: Map<string, string>, flag: string): { mode?: 'min' | 'max'; ignoreError?: boolean } {
  const out: { mode?: 'min' | 'max'; ignoreError?: boolean } = {};
  const mode = fields.get('mode');
  if (mode !== undefined) {
    if (mode !== 'min' && mode !== 'max') throw new UsageError(`${flag} mode=${mode}: expected min or max`);
    out.mode = mode;
  }
  const bool = (key: string): boolean | undefined => {
    const v = fields.get(key);
    if (v === undefined) return undefined;
    if (/^(true|1)$/i.test(v)) return true;
    if (/^(false|0)$/i.test(v)) return false;
    throw new UsageError(`${flag} ${key}=${v}: expected true or false`);
  };
  if (bool('ignore-error')) out.ignoreError = true;
  if (bool('oci-mediatypes') === false) throw new UsageError(`${flag} oci-mediatypes=false: not supported; the cache is an OCI artifact`);
  if (bool('image-manifest') === false) throw new UsageError(`${flag} image-manifest=false: not supported; the cache is one OCI image manifest`);
  return out;
}

function checkedRef(ref: string, flag: string): string {
  try {
    return parseReference(ref).toString();
  } catch (e) {
    throw new UsageError(`${flag} ${ref}: ${(e as Error).message}`);
  }
}

/** The artifact for `entries`: config (the records) + one layer descriptor per distinct blob. */
function buildArtifact(entries: CacheEntry[]): { config: Buffer; manifest: Buffer; layers: Descriptor[] } {
  const byKey = new Map(entries.map((e) => [e.key, { key: e.key, record: e.record }]));
  const records = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const config = Buffer.from(JSON.stringify({ version: 1, records } satisfies CacheConfig));
  const layers = new Map<string, Descriptor>();
  for (const { record } of records) {
    if (record.layer) layers.set(record.layer.digest, { mediaType: record.layer.mediaType, digest: record.layer.digest, size: record.layer.size });
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: CACHE_ARTIFACT_TYPE,
    config: { mediaType: CACHE_CONFIG_TYPE, digest: Digest.of(config).toString(), size: config.length },
    layers: [...layers.values()],
  };
  return { config, manifest: Buffer.from(JSON.stringify(manifest)), layers: [...layers.values()] };
}

function parseConfig(bytes: Buffer, where: string): CacheEntry[] {
  let v: Partial<CacheConfig>;
  try {
    v = JSON.parse(bytes.toString('utf8')) as Partial<CacheConfig>;
  } catch (e) {
    throw new NbuildError('CACHE_INVALID', `${where}: the cache records are not JSON`, { cause: e });
  }
  if (v.version !== 1 || !Array.isArray(v.records)) throw new NbuildError('CACHE_INVALID', `${where}: not an nbuild cache (version ${String(v.version)})`);
  return v.records.filter((e): e is CacheEntry => typeof e?.key === 'string' && isCacheRecord(e.record));
}

function parseManifest(bytes: Buffer, where: string): Manifest {
  const m = JSON.parse(bytes.toString('utf8')) as Manifest;
  if (m.config?.mediaType !== CACHE_CONFIG_TYPE) throw new NbuildError('CACHE_INVALID', `${where} is not an nbuild build cache (config ${String(m.config?.mediaType)})`);
  return m;
}

/** Writes `entries` and their layer blobs to `spec`. */
export async function exportCache(store: Store, used: CacheEntry[], spec: CacheSpec, targetStage?: number, opts: CacheTransferOptions = {}): Promise<void> {
  // mode=min (buildx's default): only what the exported stage used; max: every stage's steps.
  const entries = spec.mode === 'max' || targetStage === undefined ? used : used.filter((e) => e.stage === targetStage);
  for (const { record } of entries) {
    if (record.layer && !(await store.hasBlob(Digest.parse(record.layer.digest)))) {
      throw new NbuildError('BLOB_UNKNOWN', `cannot export the build cache: layer ${record.layer.digest} is not in the store`);
    }
  }
  const progress = opts.progress ?? noProgress;
  if (spec.type === 'local') await exportLocal(store, entries, spec.dir, progress);
  else await exportRegistry(store, entries, spec.ref, progress, opts.session);
}

/** Reads the cache at `spec` into the store; returns how many records it brought in. */
export async function importCache(store: Store, spec: CacheSpec, opts: CacheTransferOptions = {}): Promise<number> {
  const progress = opts.progress ?? noProgress;
  return spec.type === 'local' ? importLocal(store, spec.dir, progress) : importRegistry(store, spec.ref, progress, opts.session);
}

// ---- local: an OCI image layout folder ----

async function exportLocal(store: Store, entries: CacheEntry[], dir: string, progress: TransferProgress): Promise<void> {
  // Each blob lands whole or not at all (OciLayout.writeBlob): another runner's --cache-from never sees half a blob.
  const layout = await OciLayout.create(dir);
  const { config, manifest, layers } = buildArtifact(entries);
  for (const l of layers) {
    const digest = Digest.parse(l.digest);
    if (await layout.hasBlob(digest, l.size)) {
      progress.settled(l.digest, l.size, 'exists');
      continue;
    }
    const meter = progress.blob(l.digest, l.size);
    await layout.writeBlob({ file: store.blobPath(digest), fromStore: true }, { expect: { digest, size: l.size }, onBytes: (n) => meter.add(n) });
    meter.done();
  }
  await layout.writeBlob(config);
  const written = await layout.writeBlob(manifest);
  const entry = { mediaType: OCI_MANIFEST, artifactType: CACHE_ARTIFACT_TYPE, digest: written.digest.toString(), size: written.size, annotations: { [REF_NAME]: LOCAL_TAG } };
  // index.json last: until it is replaced, readers see the previous complete cache.
  await layout.updateIndex(() => ({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry] }));
}

async function importLocal(store: Store, dir: string, progress: TransferProgress): Promise<number> {
  const layout = await OciLayout.open(dir).catch((e: unknown) => {
    throw new NbuildError('CACHE_INVALID', `${dir} is not an OCI layout: ${(e as Error).message}`, { cause: e });
  });
  if (!(await layout.hasIndex())) throw new NbuildError('CACHE_NOT_FOUND', `no build cache in ${dir} (no index.json)`);
  const read = async (d: Descriptor, what: string): Promise<Buffer> =>
    layout.readBlobBytes({ digest: Digest.parse(d.digest), size: d.size }).catch((e: unknown) => {
      throw new NbuildError('CACHE_INVALID', `${dir}: ${what} ${d.digest} is ${e instanceof NbuildError && e.code === 'BLOB_UNKNOWN' ? 'missing' : 'corrupt'}`, { cause: e });
    });
  const index = await layout.readIndex().catch((e: unknown) => {
    throw new NbuildError('CACHE_INVALID', `${dir}: ${(e as Error).message}`, { cause: e });
  });
  const desc = index.manifests.find((m) => m.annotations?.[REF_NAME] === LOCAL_TAG) ?? index.manifests[0];
  if (!desc) throw new NbuildError('CACHE_INVALID', `${dir}/index.json lists no cache`);
  const manifest = parseManifest(await read(desc, 'manifest'), dir);
  const entries = parseConfig(await read(manifest.config, 'cache config'), dir);
  return adopt(store, entries, progress, async (layer, size, file, meter) => {
    // readBlob hashes while streaming and refuses a mismatch.
    await layout.copyBlobTo({ digest: layer, size }, file, (n) => meter.add(n)).catch((e: unknown) => {
      throw new NbuildError('CACHE_INVALID', `${dir}: layer ${layer}: ${(e as Error).message}`, { cause: e });
    });
    return true;
  });
}

/**
 * Brings in each record whose layer blob is (or can be made) present. `fetch` writes a blob to a
 * temp file and says whether it was verified while being written.
 */
async function adopt(store: Store, entries: CacheEntry[], progress: TransferProgress, fetch: (layer: Digest, size: number, file: string, meter: BlobMeter) => Promise<boolean>): Promise<number> {
  let n = 0;
  const seen = new Set<string>();
  for (const { key, record } of entries) {
    if (record.layer && !seen.has(record.layer.digest)) {
      seen.add(record.layer.digest);
      const digest = Digest.parse(record.layer.digest);
      if (!(await store.hasBlob(digest))) {
        const work = await store.tempDir('cache-import');
        try {
          const file = path.join(work, 'blob');
          const meter = progress.blob(record.layer.digest, record.layer.size);
          const verified = await fetch(digest, record.layer.size, file, meter);
          await store.importBlobFile(file, digest, verified);
          meter.done();
        } finally {
          await store.removeTempDir(work).catch(() => undefined);
        }
      } else progress.settled(record.layer.digest, record.layer.size, 'cached');
    }
    await store.cachePut(key, record);
    n++;
  }
  return n;
}

// ---- registry: the same manifest under a tag ----

async function registryTarget(ref: string, push: boolean, options: SessionOptions = {}): Promise<{ client: RegistryClient; repo: string; tag: string }> {
  const { RegistrySession } = await import('../registry/index.js');
  const reference = parseReference(ref);
  const session = new RegistrySession(options);
  const [endpoint] = session.endpoints(reference.registry, reference.repository, { push, byDigest: reference.digest !== undefined });
  return { client: await session.client(endpoint), repo: endpoint.repository, tag: reference.digest ?? reference.tag };
}

async function exportRegistry(store: Store, entries: CacheEntry[], ref: string, progress: TransferProgress, session?: SessionOptions): Promise<void> {
  const { client, repo, tag } = await registryTarget(ref, true, session);
  const { config, manifest, layers } = buildArtifact(entries);
  for (const l of layers) {
    if (await client.hasBlob(repo, l.digest)) {
      progress.settled(l.digest, l.size, 'exists');
      continue;
    }
    const meter = progress.blob(l.digest, l.size);
    const outcome = await client.uploadBlob(repo, { digest: l.digest, size: l.size, path: store.blobPath(Digest.parse(l.digest)) }, { onProgress: (n) => meter.add(n) });
    meter.done(outcome === 'mounted' ? 'mounted' : undefined);
  }
  const configDigest = Digest.of(config);
  if (!(await client.hasBlob(repo, configDigest.toString()))) {
    const work = await store.tempDir('cache-export');
    try {
      const file = path.join(work, 'config');
      await fs.writeFile(file, config);
      await client.uploadBlob(repo, { digest: configDigest.toString(), size: config.length, path: file });
    } finally {
      await store.removeTempDir(work).catch(() => undefined);
    }
  }
  await client.putManifest(repo, tag, manifest, OCI_MANIFEST);
}

async function importRegistry(store: Store, ref: string, progress: TransferProgress, session?: SessionOptions): Promise<number> {
  const { client, repo, tag } = await registryTarget(ref, false, session);
  const answer = await client.getManifest(repo, tag, [OCI_MANIFEST]);
  const manifest = parseManifest(answer.bytes, ref);
  const work = await store.tempDir('cache-import');
  let entries: CacheEntry[];
  try {
    const file = path.join(work, 'config');
    await client.fetchBlob(repo, manifest.config.digest, file, { size: manifest.config.size });
    entries = parseConfig(await fs.readFile(file), ref);
  } finally {
    await store.removeTempDir(work).catch(() => undefined);
  }
  return adopt(store, entries, progress, async (layer, _size, file, meter) => {
    // fetchBlob hashes while streaming and refuses a mismatch.
    await client.fetchBlob(repo, layer.toString(), file, { onProgress: (n) => meter.add(n) });
    return true;
  });
}
