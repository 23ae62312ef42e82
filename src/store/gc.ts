// Removing images and garbage: rmi, prune and the collector they share. A blob or
// unpacked layer goes only when no image, no cache record and no running build's
// lease (lease.ts) uses it, and only if it is older than every live process using
// the store (a running build may be about to reference it). Unpacked layers stay while another nbuild runs: its
// overlays may be stacked on them.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError } from '../errors.js';
import { Digest } from '../image/digest.js';
import type { Image } from '../image/image.js';
import { parseReference } from '../image/reference.js';
import { isCacheRecord } from '../cache/record.js';
import { pruneStatCache, STAT_CACHE_DIR } from '../cache/stat-cache.js';
import { removeTree } from './fsutil.js';
import { type Refs, namesOf } from './refs.js';
import type { Store } from './store.js';

export interface GcResult {
  images: string[];
  blobs: number;
  layers: number;
  cacheRecords: number;
  /** prune: stat cache files of context folders that no longer exist (cache/stat-cache.ts). */
  statCacheFiles: number;
  bytes: number;
  /** Why something was kept, for the user. */
  notes: string[];
}

function emptyResult(): GcResult {
  return { images: [], blobs: 0, layers: 0, cacheRecords: 0, statCacheFiles: 0, bytes: 0, notes: [] };
}

async function imagesOf(store: Store, refs: Refs): Promise<Map<string, Image>> {
  const out = new Map<string, Image>();
  for (const m of Object.keys(refs.images)) {
    // An index keeps its images (and their manifests) alive.
    for (const img of await store.entryImages(Digest.parse(m)).catch(() => [])) out.set(img.manifestDigest.toString(), img);
  }
  return out;
}

interface CacheFile {
  file: string;
  layer?: { digest: string; diffId: string; size: number };
  mtimeMs: number;
}

async function cacheFiles(store: Store): Promise<CacheFile[]> {
  const dir = path.join(store.root, 'cache');
  const out: CacheFile[] = [];
  for (const n of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!n.endsWith('.json')) continue;
    const file = path.join(dir, n);
    const st = await fs.stat(file).catch(() => undefined);
    if (!st) continue;
    const v = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as { record?: unknown }, () => undefined);
    const rec = v && isCacheRecord(v.record) ? v.record : undefined;
    out.push({ file, layer: rec?.layer, mtimeMs: st.mtimeMs });
  }
  return out;
}

/** Deletes unreferenced blobs and unpacked layers. The caller holds the lock. */
async function collectLocked(store: Store, refs: Refs, result: GcResult, dropAllUnpacked: boolean): Promise<void> {
  const cutoff = await store.gcCutoff();
  // What running builds use without naming it (their base images) stays.
  const { blobs: liveBlobs, layers: liveLayers } = await store.leased();
  for (const m of Object.keys(refs.images)) liveBlobs.add(Digest.parse(m).hex);
  for (const img of (await imagesOf(store, refs)).values()) {
    liveBlobs.add(img.manifestDigest.hex);
    liveBlobs.add(img.configDigest.hex);
    for (const l of img.layers) {
      liveBlobs.add(l.digest.hex);
      liveLayers.add(l.diffId.hex);
    }
  }
  for (const c of await cacheFiles(store)) {
    if (!c.layer) continue;
    liveBlobs.add(Digest.parse(c.layer.digest).hex);
    liveLayers.add(Digest.parse(c.layer.diffId).hex);
  }
  const blobDir = path.join(store.root, 'blobs', 'sha256');
  for (const n of await fs.readdir(blobDir)) {
    if (liveBlobs.has(n)) continue;
    const st = await fs.stat(path.join(blobDir, n)).catch(() => undefined);
    if (!st || st.ctimeMs >= cutoff) continue;
    await fs.rm(path.join(blobDir, n), { force: true });
    result.blobs++;
    result.bytes += st.size;
  }
  const others = await store.otherUsers();
  const layerDirs = await fs.readdir(path.join(store.root, 'layers'));
  const doomed = layerDirs.filter((n) => dropAllUnpacked || !liveLayers.has(n));
  if (doomed.length && others > 0) {
    result.notes.push(`kept ${doomed.length} unpacked layer(s) while ${others} other nbuild process(es) use the store`);
    return;
  }
  for (const n of doomed) {
    if (!/^[0-9a-f]{64}$/.test(n)) continue;
    await store.removeLayerDir(Digest.fromHex(n));
    result.layers++;
  }
}

/** `nbuild rmi`: untag names; delete images left without a name (or named by id). */
export async function removeImages(store: Store, args: string[], force: boolean): Promise<{ lines: string[]; gc: GcResult }> {
  const lines: string[] = [];
  const result = emptyResult();
  await store.withLock(async () => {
    const refs = await store.readRefs();
    const images = await imagesOf(store, refs);
    const doomed = new Set<string>();
    for (const arg of args) {
      const digest = await store.resolve(arg);
      if (!digest) throw new NbuildError('IMAGE_UNKNOWN', `no such image: ${arg}`);
      const m = digest.toString();
      let byName: string | undefined;
      try {
        const key = parseReference(arg).toString();
        if (refs.names[key] === m) byName = key;
      } catch {
        // an id prefix
      }
      if (byName) {
        delete refs.names[byName];
        lines.push(`Untagged: ${parseReference(byName).familiar()}`);
        if (namesOf(refs, m).length === 0) doomed.add(m);
        continue;
      }
      const names = namesOf(refs, m);
      if (names.length > 1 && !force) {
        throw new NbuildError('IMAGE_IN_USE', `image ${arg} has ${names.length} names (${names.map((n) => parseReference(n).familiar()).join(', ')}); remove them by name, or use -f`);
      }
      const self = images.get(m);
      const children = self ? [...images.entries()].filter(([d, img]) => d !== m && isBaseOf(self, img)) : [];
      if (children.length && !force) {
        const who = children.map(([d]) => describe(refs, d)).join(', ');
        throw new NbuildError('IMAGE_IN_USE', `image ${arg} is the base of ${who}: remove those first, or use -f (their layers are kept either way)`);
      }
      for (const n of names) {
        delete refs.names[n];
        lines.push(`Untagged: ${parseReference(n).familiar()}`);
      }
      doomed.add(m);
    }
    for (const m of doomed) {
      delete refs.images[m];
      result.images.push(m);
      lines.push(`Deleted: ${m}`);
    }
    await store.replaceRefsLocked(refs);
    noteShared(refs, images, doomed, result);
    await collectLocked(store, refs, result, false);
  });
  return { lines, gc: result };
}

function isBaseOf(base: Image, img: Image): boolean {
  if (base.layers.length === 0 || img.layers.length <= base.layers.length) return false;
  return base.layers.every((l, i) => img.layers[i].diffId.equals(l.diffId));
}

function describe(refs: Refs, m: string): string {
  const names = namesOf(refs, m);
  return names.length ? names.map((n) => parseReference(n).familiar()).join(' ') : Digest.parse(m).short();
}

// Says which images keep the layers of a deleted one (they are shared, so not deleted).
function noteShared(refs: Refs, images: Map<string, Image>, doomed: Set<string>, result: GcResult): void {
  for (const m of doomed) {
    const img = images.get(m);
    if (!img) continue;
    const users = new Set<string>();
    let kept = 0;
    for (const l of img.layers) {
      const by = [...images.entries()].filter(([d, o]) => !doomed.has(d) && o.layers.some((x) => x.digest.equals(l.digest)));
      if (by.length) kept++;
      for (const [d] of by) users.add(describe(refs, d));
    }
    if (kept) result.notes.push(`kept ${kept} layer(s) of ${Digest.parse(m).short()} still used by ${[...users].join(', ')}`);
  }
}

/** `nbuild prune`: dangling images, build cache (beyond --keep-storage), unused blobs and layers. */
export async function prune(store: Store, opts: { all?: boolean; keepStorage?: number }): Promise<GcResult> {
  const result = emptyResult();
  await store.withLock(async () => {
    const cutoff = await store.gcCutoff();
    const refs = await store.readRefs();
    for (const [m, entry] of Object.entries(refs.images)) {
      if (namesOf(refs, m).length > 0 || Date.parse(entry.added) >= cutoff) continue;
      delete refs.images[m];
      result.images.push(m);
    }
    await store.replaceRefsLocked(refs);
    // Build cache: keep the most recently used records while they fit in keepStorage.
    let budget = opts.keepStorage ?? 0;
    const records = (await cacheFiles(store)).sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const c of records) {
      if (c.mtimeMs >= cutoff) continue; // written by a build still running
      const size = c.layer?.size ?? 0;
      if (opts.keepStorage !== undefined && size <= budget) {
        budget -= size;
        continue;
      }
      await removeTree(c.file);
      result.cacheRecords++;
    }
    await collectLocked(store, refs, result, opts.all === true);
    result.statCacheFiles = (await pruneStatCache(path.join(store.root, STAT_CACHE_DIR))).files;
  });
  return result;
}
