// The content-addressed store (DESIGN "Store on disk"):
//   blobs/sha256/<hex>   layers/<diffid-hex>/   refs.json   cache/   tmp/   lock
//   (and context-stat/, the COPY stat cache's shards: cache/stat-cache.ts)
// Blobs and unpacked layers need no lock: they appear by rename, complete or not at
// all. refs.json and cache records change under the lock file. Every process that
// opens the store leaves an owner record in tmp/ so that the next open can clean
// up after it if it dies, and gc can tell which blobs may still be in use.
import { existsSync, lstatSync, mkdirSync, readFileSync, utimesSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError, StoreError } from '../errors.js';
import { Digest } from '../image/digest.js';
import { Image, type Layer } from '../image/image.js';
import { ImageIndex } from '../image/image-index.js';
import { hostPlatform, platformMatches, type Platform } from '../image/platform.js';
import { isManifestType } from '../image/media-types.js';
import { parseReference } from '../image/reference.js';
import type { Manifest } from '../image/types.js';
import { type CacheRecord, isCacheRecord } from '../cache/record.js';
import { errnoOf, exists, fsyncPath, hashFile, randomSuffix, removeTree, storeFsError, writeFileAtomic } from './fsutil.js';
import { Lease, liveLeases, type Leased } from './lease.js';
import { FileLock } from './lock.js';
import { NativeError } from '../native/errors.js';
import { nativeLayers } from './native-bridge.js';
import { type Refs, RefsSnapshot, namesOf, readRefs, writeRefs } from './refs.js';
import { cleanTemp, liveOwnersSince, otherLiveOwners, writeOwnerFile, writeSessionFile } from './temp.js';
import { sha256Hex } from '../native/index.js';
import { isoTime } from '../iso-time.js';

export type { CacheRecord } from '../cache/record.js';

export interface ImageListEntry {
  names: string[];
  image: Image;
  created?: string;
  /** When the image entered the store. */
  added: string;
  /** Set when the entry is a multi-platform index (`image` is then its image for this host, or its first). */
  index?: ImageIndex;
  /** The index's images in the store. */
  images?: Image[];
}

/** Names an image is stored under, normalised; a digest reference is refused before anything is written. */
function refNames(names: string[]): string[] {
  return names.map((name) => {
    const ref = parseReference(name);
    if (ref.digest) throw new NbuildError('USAGE', `cannot tag with a digest reference: ${name}`, { exitCode: 2 });
    return ref.toString();
  });
}

export class Store {
  readonly root: string;
  private readonly lock: FileLock;
  private readonly extracting = new Map<string, Promise<string>>();
  private readonly lease: Lease;
  /** refs.json for lookups, parsed again only when the file changed. */
  private readonly refs: RefsSnapshot;

  private constructor(root: string) {
    this.root = root;
    this.lock = new FileLock(path.join(root, 'lock'));
    this.lease = new Lease(this.tmpRoot);
    this.refs = new RefsSnapshot(this.refsFile);
  }

  /** Opens (creating if needed) the store at `root` and cleans temp dirs of dead owners. */
  static async open(root: string): Promise<Store> {
    const abs = path.resolve(root);
    try {
      for (const d of ['blobs/sha256', 'layers', 'cache', 'tmp']) mkdirSync(path.join(abs, d), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw storeFsError(e, `creating the store at ${abs}`);
    }
    const store = new Store(abs);
    await cleanTemp(store.tmpRoot);
    await writeSessionFile(store.tmpRoot, `session-${randomSuffix()}`);
    return store;
  }

  /** Where the host probe's answers are kept between builds (src/snapshot/probe-cache.ts). */
  get probeCache(): { file: string; tmpDir: string } {
    return { file: path.join(this.root, 'host-probe.json'), tmpDir: this.tmpRoot };
  }

  get tmpRoot(): string {
    return path.join(this.root, 'tmp');
  }

  private get refsFile(): string {
    return path.join(this.root, 'refs.json');
  }

  /** A fresh work dir under root/tmp (same file system as blobs/ and layers/, so rename works). */
  async tempDir(purpose: string): Promise<string> {
    const name = `${purpose.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40)}-${randomSuffix()}`;
    try {
      await writeOwnerFile(this.tmpRoot, name);
      const dir = path.join(this.tmpRoot, name);
      await fs.mkdir(dir, { mode: 0o700 });
      return dir;
    } catch (e) {
      throw storeFsError(e, 'creating a temp dir');
    }
  }

  /** Removes a temp dir made by tempDir() (and its owner record). */
  async removeTempDir(dir: string): Promise<void> {
    await removeTree(dir);
    await fs.rm(`${dir}.owner`, { force: true });
  }

  blobPath(d: Digest): string {
    return path.join(this.root, 'blobs', 'sha256', d.hex);
  }

  // The store's small metadata (blob presence, configs and manifests, refs.json, cache records,
  // the lock) is read and written in place, not through the thread pool: a no-op rebuild makes
  // ~100 such calls one after another, and each round trip cost more than the call
  // (docs/decisions.md, "Cached steps looked up in place").
  async hasBlob(d: Digest): Promise<boolean> {
    try {
      lstatSync(this.blobPath(d));
      return true;
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return false;
      throw e;
    }
  }

  /** Stores a small blob held in memory; returns its digest. */
  async putBlob(data: Buffer, expected?: Digest): Promise<Digest> {
    const d = Digest.of(data);
    if (expected && !expected.equals(d)) throw new StoreError('DIGEST_MISMATCH', `blob digest mismatch: expected ${expected}, got ${d}`);
    if (this.touchIfPresent(d)) return d;
    await writeFileAtomic(this.blobPath(d), data, this.tmpRoot);
    return d;
  }

  /** Moves a blob file (written under tempDir) into the store, verifying it unless `trusted`. */
  async importBlobFile(file: string, expected: Digest, trusted = false): Promise<void> {
    try {
      if (!trusted) {
        const { digest } = await hashFile(file);
        if (!digest.equals(expected)) throw new StoreError('DIGEST_MISMATCH', `blob digest mismatch: expected ${expected}, got ${digest}`);
      }
      if (this.touchIfPresent(expected)) {
        await fs.rm(file, { force: true });
        return;
      }
      await fsyncPath(file);
      await fs.rename(file, this.blobPath(expected));
      await fsyncPath(path.dirname(this.blobPath(expected)));
    } catch (e) {
      throw storeFsError(e, `storing blob ${expected}`);
    }
  }

  /** Reads a blob and checks its digest. */
  async readBlob(d: Digest): Promise<Buffer> {
    let data: Buffer;
    try {
      data = readFileSync(this.blobPath(d));
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') throw new StoreError('BLOB_UNKNOWN', `blob ${d} is not in the store`);
      throw storeFsError(e, `reading blob ${d}`);
    }
    if (!Digest.of(data).equals(d)) throw new StoreError('BLOB_CORRUPT', `blob ${d} in the store is corrupt; run 'nbuild store check --repair'`);
    return data;
  }

  /** A blob's size, or undefined when missing. */
  async blobSize(d: Digest): Promise<number | undefined> {
    const st = await fs.stat(this.blobPath(d)).catch(() => undefined);
    return st?.size;
  }

  // Refreshing ctime of an existing blob tells a concurrent gc it is in use again. One system
  // call, made in place: a fully cached rebuild touches every step's blob in turn, and through
  // the thread pool each cost a round trip (docs/decisions.md, "Cached steps looked up in place").
  private touchIfPresent(d: Digest): boolean {
    const now = new Date();
    try {
      utimesSync(this.blobPath(d), now, now);
      return true;
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return false;
      if (errnoOf(e) === 'EPERM' || errnoOf(e) === 'EACCES') return existsSync(this.blobPath(d));
      throw storeFsError(e, `touching blob ${d}`);
    }
  }

  /**
   * Adds a layer the native engine just wrote: moves the blob in (its digest was
   * computed while writing it), and, if given, the unpacked tree to layers/<diffid-hex>.
   */
  async addLayer(blobFile: string, r: { digest: string; diffId: string; size: number }, mediaType: string, unpackedDir?: string): Promise<Layer> {
    const layer: Layer = Object.freeze({ digest: Digest.parse(r.digest), diffId: Digest.parse(r.diffId), size: r.size, mediaType });
    await this.importBlobFile(blobFile, layer.digest, true);
    if (unpackedDir !== undefined) await this.adoptLayerDir(unpackedDir, layer.diffId);
    return layer;
  }

  layerPath(diffId: Digest): string {
    return path.join(this.root, 'layers', diffId.hex);
  }

  private async adoptLayerDir(dir: string, diffId: Digest): Promise<void> {
    const dest = this.layerPath(diffId);
    // rename(2) replaces an existing *empty* folder (the empty layer, which every RUN that changes
    // nothing has): keep the one there, it may be a lower of a running step.
    if (await exists(dest)) {
      await removeTree(dir);
      return;
    }
    try {
      await fs.rename(dir, dest);
      const now = new Date();
      await fs.utimes(dest, now, now).catch(() => undefined);
    } catch (e) {
      const code = errnoOf(e);
      // Another writer got there first with the same content: keep theirs.
      if (code === 'ENOTEMPTY' || code === 'EEXIST') await removeTree(dir);
      else throw storeFsError(e, `adding unpacked layer ${diffId}`);
    }
  }

  /**
   * The layers' unpacked trees as overlay lower folders: top-most first, each once. A layer that
   * repeats (the empty layer of two RUNs that changed nothing, common in BuildKit's images too)
   * adds nothing under its top-most copy, and overlayfs refuses a folder twice (ELOOP).
   */
  async lowerDirs(layers: readonly Layer[]): Promise<string[]> {
    const dirs = await Promise.all(layers.map((l) => this.layerDir(l)));
    return [...new Set(dirs.reverse())];
  }

  /** The unpacked tree of a layer, extracting it from its blob first if needed. */
  async layerDir(layer: Layer): Promise<string> {
    const dest = this.layerPath(layer.diffId);
    if (await exists(dest)) return dest;
    let pending = this.extracting.get(layer.diffId.hex);
    if (!pending) {
      pending = this.extract(layer).finally(() => this.extracting.delete(layer.diffId.hex));
      this.extracting.set(layer.diffId.hex, pending);
    }
    return pending;
  }

  private async extract(layer: Layer): Promise<string> {
    const work = await this.tempDir('extract');
    try {
      const tree = await this.unpackInto(layer, work);
      await this.adoptLayerDir(tree, layer.diffId);
      return this.layerPath(layer.diffId);
    } finally {
      await this.removeTempDir(work).catch(() => undefined);
    }
  }

  /**
   * Unpacks a layer from its blob into `work`/tree as an overlay lower dir (whiteouts kept as
   * overlay whiteouts), checking its diff_id; returns the tree. A layer that cannot be unpacked
   * (hostile or corrupt) is an error naming it, with the engine's code kept.
   */
  async unpackInto(layer: Layer, work: string): Promise<string> {
    if (!(await this.hasBlob(layer.digest))) throw new StoreError('BLOB_UNKNOWN', `layer blob ${layer.digest} is not in the store`);
    const tree = path.join(work, 'tree');
    try {
      await fs.mkdir(tree, { mode: 0o755 });
      const native = await nativeLayers();
      await native.extractLayer({ inputPath: this.blobPath(layer.digest), destDir: tree, whiteouts: 'overlay', expectedDiffId: layer.diffId.toString() });
      return tree;
    } catch (e) {
      if (errnoOf(e) === 'EPERM' && process.geteuid?.() !== 0) {
        throw new StoreError('NEEDS_USERNS', `unpacking layer ${layer.diffId} needs the user namespace (the store keeps the image's file owners): ${(e as Error).message}`, { cause: e });
      }
      // A device node cannot be made without privileges: that is the layer's doing, not the store's.
      const device = e instanceof NativeError && e.syscall === 'mknodat';
      const mapped = device ? e : storeFsError(e, `unpacking layer ${layer.diffId}`);
      if (mapped !== e || !(e instanceof NbuildError)) throw mapped;
      // The engine names the entry only; say which layer of which blob it is in.
      throw new StoreError(e.code, `cannot unpack layer ${layer.diffId} (blob ${layer.digest}): ${e.message}`, { cause: e });
    }
  }

  /** Stores the config and manifest blobs and records the image, under `names` if given (else unnamed until tagged). */
  async writeImage(image: Image, names: string[] = []): Promise<void> {
    const refs = refNames(names);
    await this.putImageBlobs(image); // checks the layers are stored
    await this.addImage(image.manifestDigest, refs);
  }

  /** The config and manifest blobs of an image whose layers are stored; no refs entry (an index's image). */
  async putImageBlobs(image: Image): Promise<void> {
    for (const l of image.layers) {
      if (!(await this.hasBlob(l.digest))) throw new StoreError('BLOB_UNKNOWN', `cannot store image ${image.manifestDigest.short()}: layer ${l.digest} is not in the store`);
    }
    await this.putBlob(image.configBytes(), image.configDigest);
    await this.putBlob(image.manifestBytes(), image.manifestDigest);
  }

  /** Stores a multi-platform index (its images must be stored) and records it as an image of the store, under `names` if given. */
  async writeIndex(index: ImageIndex, names: string[] = []): Promise<void> {
    const refs = refNames(names);
    for (const d of index.manifests) {
      if (!(await this.hasBlob(Digest.parse(d.digest)))) throw new StoreError('BLOB_UNKNOWN', `cannot store index ${index.digest.short()}: manifest ${d.digest} is not in the store`);
    }
    await this.putBlob(index.bytes(), index.digest);
    await this.addImage(index.digest, refs);
  }

  /** The index stored under `digest`, or undefined when that blob is an image manifest (or missing). */
  async indexByDigest(digest: Digest): Promise<ImageIndex | undefined> {
    const bytes = await this.readBlob(digest).catch(() => undefined);
    return bytes && ImageIndex.isIndex(bytes) ? ImageIndex.fromBytes(bytes) : undefined;
  }

  /** True when an image argument names a multi-platform index. */
  async isIndex(refOrDigest: string): Promise<boolean> {
    const d = await this.resolve(refOrDigest).catch(() => undefined);
    return d !== undefined && (await this.indexByDigest(d)) !== undefined;
  }

  /** The images a store entry stands for: itself, or an index's images that are in the store. */
  async entryImages(digest: Digest): Promise<Image[]> {
    const index = await this.indexByDigest(digest);
    if (!index) return [await this.imageByDigest(digest)];
    const out: Image[] = [];
    for (const d of index.manifests) {
      const img = await this.imageByDigest(Digest.parse(d.digest)).catch(() => undefined);
      if (img) out.push(img);
    }
    return out;
  }

  /**
   * Runs `fn` on refs.json under the store lock and writes the result back, if it changed: a
   * rebuild that stores the image and name already there costs no write (and no fsync).
   */
  async updateRefs<T>(fn: (refs: Refs) => T | Promise<T>): Promise<T> {
    return this.lock.with(async () => {
      const refs = await readRefs(this.refsFile);
      const before = JSON.stringify(refs);
      const out = await fn(refs);
      if (JSON.stringify(refs) !== before) await writeRefs(this.refsFile, refs, this.tmpRoot);
      return out;
    });
  }

  /** Runs `fn` holding the store lock (gc, repair). */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.with(fn);
  }

  async readRefs(): Promise<Refs> {
    return readRefs(this.refsFile);
  }

  /** Replaces refs.json; the caller holds the lock (withLock). */
  async replaceRefsLocked(refs: Refs): Promise<void> {
    await writeRefs(this.refsFile, refs, this.tmpRoot);
  }

  /** Loads an image from its manifest digest (verifying both blobs). */
  async imageByDigest(manifestDigest: Digest): Promise<Image> {
    const manifestBytes = await this.readBlob(manifestDigest);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
    } catch (e) {
      throw new StoreError('STORE_CORRUPT', `manifest ${manifestDigest} is not JSON`, { cause: e });
    }
    if (manifest.mediaType !== undefined && !isManifestType(manifest.mediaType)) {
      if (ImageIndex.isIndex(manifestBytes)) throw new StoreError('NOT_AN_IMAGE', `${manifestDigest} is a multi-platform index (${ImageIndex.fromBytes(manifestBytes).platforms().join(', ')}), not one image; name a platform`);
      throw new StoreError('NOT_AN_IMAGE', `${manifestDigest} is not an image manifest`);
    }
    const configBytes = await this.readBlob(Digest.parse(manifest.config?.digest));
    return Image.fromBytes(manifestBytes, configBytes);
  }

  /**
   * Resolves a name (normalised), a full digest (manifest or config), or a unique id prefix.
   * A name of a multi-platform index gives its image for `platform` (default this host's).
   */
  async getImage(refOrDigest: string, platform?: Platform): Promise<Image | undefined> {
    const d = await this.resolve(refOrDigest);
    if (d === undefined) return undefined;
    const index = await this.indexByDigest(d);
    if (!index) return this.imageByDigest(d);
    return this.imageByDigest(Digest.parse(index.select(platform ?? hostPlatform(), refOrDigest).digest));
  }

  /** What an image argument names: an image, or a multi-platform index as it is (tag, push). */
  async getImageOrIndex(refOrDigest: string): Promise<Image | ImageIndex | undefined> {
    const d = await this.resolve(refOrDigest);
    if (d === undefined) return undefined;
    return (await this.indexByDigest(d)) ?? this.imageByDigest(d);
  }

  /** The manifest digest an image argument stands for. */
  async resolve(refOrDigest: string): Promise<Digest | undefined> {
    const refs = await this.refs.get();
    const text = refOrDigest.trim();
    if (Digest.isValid(text)) return this.findByDigest(refs, Digest.parse(text).hex, true);
    let byName: string | undefined;
    try {
      const ref = parseReference(text);
      if (ref.digest) return ref.digest in refs.images ? Digest.parse(ref.digest) : undefined;
      byName = refs.names[ref.toString()];
    } catch (e) {
      if (!/^[0-9a-f]{1,64}$/.test(text)) throw e;
    }
    if (byName) return Digest.parse(byName);
    if (/^[0-9a-f]{4,64}$/.test(text)) return this.findByDigest(refs, text, false);
    return undefined;
  }

  private async findByDigest(refs: Readonly<Refs>, hex: string, full: boolean): Promise<Digest | undefined> {
    const hits = new Set<string>();
    for (const m of Object.keys(refs.images)) {
      const md = Digest.parse(m);
      if (full ? md.hex === hex : md.hex.startsWith(hex)) hits.add(m);
      // The image id is the config digest, as docker shows it.
      const img = await this.imageByDigest(md).catch(() => undefined);
      if (img && (full ? img.configDigest.hex === hex : img.configDigest.hex.startsWith(hex))) hits.add(m);
    }
    if (hits.size > 1) throw new NbuildError('AMBIGUOUS_ID', `${hex} matches ${hits.size} images; give more of the id`, { exitCode: 2 });
    const [only] = hits;
    return only === undefined ? undefined : Digest.parse(only);
  }

  /** Points `name` at `image` (or a multi-platform index), storing it if needed. */
  async tag(name: string, image: Image | ImageIndex): Promise<void> {
    if (!(await this.hasBlob(image.manifestDigest))) {
      if (image instanceof ImageIndex) await this.writeIndex(image, [name]);
      else await this.writeImage(image, [name]);
      return;
    }
    await this.addImage(image.manifestDigest, refNames([name]));
  }

  /**
   * Records a stored manifest as an image of the store, under its names (normalised, refNames):
   * one refs.json update, which reads, checks and compares the whole file (a build stores its
   * image and names it in one).
   */
  private async addImage(manifest: Digest, names: string[]): Promise<void> {
    // A rebuild of an image already stored under its names changes nothing: no lock, no read and
    // compare of the whole file (refs.json is replaced whole, so this read sees one version).
    const m = manifest.toString();
    const now = await this.refs.get();
    if (m in now.images && names.every((n) => now.names[n] === m)) return;
    await this.updateRefs((refs) => {
      refs.images[manifest.toString()] ??= { added: isoTime(Date.now()) };
      for (const n of names) refs.names[n] = manifest.toString();
    });
  }

  /** Removes a name; the image stays (dangling) until rmi or prune. */
  async untag(name: string): Promise<boolean> {
    const key = parseReference(name).toString();
    return this.updateRefs((refs) => {
      const had = key in refs.names;
      delete refs.names[key];
      return had;
    });
  }

  async listImages(): Promise<ImageListEntry[]> {
    const refs = await this.readRefs();
    const out: ImageListEntry[] = [];
    for (const [m, entry] of Object.entries(refs.images)) {
      const index = await this.indexByDigest(Digest.parse(m));
      // An index is listed by its image for this host (else its first), with its platforms.
      const images = index ? await this.entryImages(Digest.parse(m)).catch(() => []) : [];
      const host = hostPlatform();
      const image = index ? (images.find((i) => platformMatches(host, i.config)) ?? images[0]) : await this.imageByDigest(Digest.parse(m)).catch(() => undefined);
      if (!image) continue; // broken: `store check` reports it
      out.push({ names: namesOf(refs, m), image, created: image.config.created, added: entry.added, ...(index ? { index, images } : {}) });
    }
    return out;
  }

  private cacheFile(key: string): string {
    return path.join(this.root, 'cache', `${sha256Hex(key)}.json`);
  }

  /**
   * A build cache record, if there is one whose layer is still in the store (its blob touched, so
   * a caller need not check it again). Read in place, not through the thread pool: a record is a
   * few hundred bytes, and a fully cached rebuild looks up every step in turn (three round trips
   * each before; docs/decisions.md, "Cached steps looked up in place").
   */
  async cacheGet(key: string): Promise<CacheRecord | undefined> {
    const file = this.cacheFile(key);
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return undefined;
    }
    const entry = v as { key?: unknown; record?: unknown };
    if (entry.key !== key || !isCacheRecord(entry.record)) return undefined;
    const record = entry.record;
    if (record.layer && !this.touchIfPresent(Digest.parse(record.layer.digest))) return undefined;
    const now = new Date();
    try {
      utimesSync(file, now, now); // last use, for prune --keep-storage
    } catch {
      // removed meanwhile, or not ours to touch: the record was read
    }
    return record;
  }

  async cachePut(key: string, record: CacheRecord): Promise<void> {
    if (!isCacheRecord(record)) throw new NbuildError('INVALID_CACHE_RECORD', 'invalid cache record');
    await this.lock.with(() => writeFileAtomic(this.cacheFile(key), JSON.stringify({ key, record }), this.tmpRoot));
  }

  /**
   * Keeps an image's blobs and unpacked layers from gc for as long as this process runs (or until
   * releaseLease): a build's base images may lose their names to a concurrent rmi, and their
   * blobs are older than the build. Checked under the lock, so gc either ran before (and this
   * says so) or sees the lease.
   */
  async leaseImage(image: Image, what: string): Promise<void> {
    await this.lock.with(async () => {
      for (const d of [image.manifestDigest, image.configDigest, ...image.layers.map((l) => l.digest)]) {
        if (!(await this.hasBlob(d))) throw new StoreError('BLOB_UNKNOWN', `${what}: blob ${d} was removed from the store (a concurrent rmi or prune); run the build again`);
      }
      await this.lease.add([image.manifestDigest.hex, image.configDigest.hex, ...image.layers.map((l) => l.digest.hex)], image.layers.map((l) => l.diffId.hex));
    });
  }

  /** Drops this process's lease (the build is over: what it made names what it used). */
  async releaseLease(): Promise<void> {
    await this.lease.release();
  }

  /** What the live builds using the store hold (gc keeps it). */
  async leased(): Promise<Leased> {
    return liveLeases(this.tmpRoot);
  }

  /** Start time of the oldest live process using the store: gc spares anything newer. */
  async gcCutoff(): Promise<number> {
    return liveOwnersSince(this.tmpRoot);
  }

  /** How many other live processes use the store (their overlays may use any unpacked layer). */
  async otherUsers(): Promise<number> {
    return otherLiveOwners(this.tmpRoot);
  }

  async removeLayerDir(diffId: Digest): Promise<void> {
    const dir = this.layerPath(diffId);
    if (!(await exists(dir))) return;
    // Rename first so a half-deleted tree is never seen as a layer.
    const trash = path.join(this.tmpRoot, `trash-${diffId.hex.slice(0, 12)}-${randomSuffix()}`);
    await fs.rename(dir, trash);
    await removeTree(trash);
  }
}
