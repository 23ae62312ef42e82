// `nbuild store check [--repair]`: verify every blob, name, image, unpacked layer
// and cache record. Repair removes what is broken (never a healthy blob), drops
// images whose blobs are gone, rebuilds refs.json from the manifests in blobs/ if
// it is unreadable, and re-extracts unpacked layers that differ from their blobs
// (check-layers.ts).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { formatPlatform } from '../image/platform.js';
import { Digest } from '../image/digest.js';
import type { Layer } from '../image/image.js';
import { isManifestType } from '../image/media-types.js';
import { type CacheRecord, isCacheRecord } from '../cache/record.js';
import { checkLayerDirs, type Fix } from './check-layers.js';
import { hashFile, removeTree } from './fsutil.js';
import { type Refs, emptyRefs } from './refs.js';
import type { Store } from './store.js';
import { isoTime } from '../iso-time.js';

/**
 * Older versions kept the COPY stat cache in one file beside the cache records (it is not one);
 * it now lives in context-stat/ (cache/stat-cache.ts), which removes this file on its first save.
 */
export const LEGACY_STAT_CACHE_FILE = 'context-stat.json';

export interface CheckResult {
  blobs: number;
  images: number;
  /** Unpacked layers compared with their blobs. */
  layers: number;
  problems: string[];
  repaired: number;
  /** Problems --repair had to leave while another nbuild process used the store (a subset of `problems`). */
  notRepaired: string[];
}

export async function checkStore(store: Store, repair: boolean): Promise<CheckResult> {
  const r: CheckResult = { blobs: 0, images: 0, layers: 0, problems: [], repaired: 0, notRepaired: [] };
  const fix: Fix = async (problem, action) => {
    r.problems.push(problem);
    if (!repair) return;
    if ((await action()) === false) r.notRepaired.push(problem);
    else r.repaired++;
  };
  await store.withLock(async () => {
    const blobDir = path.join(store.root, 'blobs', 'sha256');
    const good = new Set<string>();
    for (const n of (await fs.readdir(blobDir)).sort()) {
      const p = path.join(blobDir, n);
      const st = await fs.lstat(p);
      if (!/^[0-9a-f]{64}$/.test(n) || !st.isFile()) {
        await fix(`blobs/sha256/${n}: not a blob`, () => removeTree(p));
        continue;
      }
      r.blobs++;
      const { digest } = await hashFile(p);
      if (digest.hex !== n) await fix(`blob ${n}: content has digest ${digest} (corrupt)`, () => fs.rm(p, { force: true }));
      else good.add(n);
    }
    let refs: Refs;
    try {
      refs = await store.readRefs();
    } catch (e) {
      refs = emptyRefs();
      await fix(`refs.json: ${(e as Error).message}`, async () => {
        await fs.rename(path.join(store.root, 'refs.json'), path.join(store.root, `refs.json.corrupt-${Date.now()}`)).catch(() => undefined);
        for (const n of good) if (await looksLikeManifest(path.join(blobDir, n))) refs.images[`sha256:${n}`] = { added: isoTime(Date.now()) };
      });
    }
    for (const m of Object.keys(refs.images)) {
      r.images++;
      const why = await imageProblem(store, Digest.parse(m), good);
      if (why) {
        await fix(`image ${m}: ${why}`, async () => {
          delete refs.images[m];
          for (const [n, d] of Object.entries(refs.names)) if (d === m) delete refs.names[n];
        });
      }
    }
    for (const [n, d] of Object.entries(refs.names)) {
      if (d in refs.images) continue;
      await fix(`name ${n} points at ${d}, which is not an image of the store`, async () => {
        if (good.has(Digest.parse(d).hex) && !(await imageProblem(store, Digest.parse(d), good))) refs.images[d] = { added: isoTime(Date.now()) };
        else delete refs.names[n];
      });
    }
    if (repair && r.repaired > 0) await store.replaceRefsLocked(refs);
    const known = new Map<string, Layer>();
    for (const m of Object.keys(refs.images)) {
      const img = await store.imageByDigest(Digest.parse(m)).catch(() => undefined);
      for (const l of img?.layers ?? []) known.set(l.diffId.hex, l);
    }
    const cacheDir = path.join(store.root, 'cache');
    for (const rec of await cacheRecords(cacheDir)) {
      const l = rec.layer;
      if (l) known.set(Digest.parse(l.diffId).hex, { digest: Digest.parse(l.digest), diffId: Digest.parse(l.diffId), size: l.size, mediaType: l.mediaType });
    }
    r.layers = await checkLayerDirs(store, known, good, fix);
    for (const n of await fs.readdir(cacheDir)) {
      if (n === LEGACY_STAT_CACHE_FILE) continue;
      const p = path.join(cacheDir, n);
      const v = await fs.readFile(p, 'utf8').then((t) => JSON.parse(t) as { record?: unknown }, () => undefined);
      if (!v || !isCacheRecord(v.record)) await fix(`cache/${n}: not a cache record`, () => fs.rm(p, { force: true }));
      else if (v.record.layer && !good.has(Digest.parse(v.record.layer.digest).hex)) await fix(`cache/${n}: its layer ${v.record.layer.digest} is gone`, () => fs.rm(p, { force: true }));
    }
  });
  return r;
}

async function cacheRecords(dir: string): Promise<CacheRecord[]> {
  const out: CacheRecord[] = [];
  for (const n of await fs.readdir(dir)) {
    if (n === LEGACY_STAT_CACHE_FILE) continue;
    const v = await fs.readFile(path.join(dir, n), 'utf8').then((t) => JSON.parse(t) as { record?: unknown }, () => undefined);
    if (v && isCacheRecord(v.record)) out.push(v.record);
  }
  return out;
}

async function imageProblem(store: Store, m: Digest, good: Set<string>): Promise<string | undefined> {
  if (!good.has(m.hex)) return 'its manifest blob is missing or corrupt';
  try {
    const index = await store.indexByDigest(m);
    for (const d of index?.manifests ?? []) if (!good.has(Digest.parse(d.digest).hex)) return `its ${d.platform ? formatPlatform(d.platform) : ''} manifest ${d.digest} is missing or corrupt`;
    for (const img of await store.entryImages(m)) {
      for (const l of img.layers) if (!good.has(l.digest.hex)) return `layer ${l.digest} is missing or corrupt`;
    }
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

async function looksLikeManifest(file: string): Promise<boolean> {
  const st = await fs.stat(file);
  if (st.size > 1 << 20) return false;
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as { schemaVersion?: unknown; mediaType?: string; config?: unknown; layers?: unknown };
    return v.schemaVersion === 2 && (v.mediaType === undefined || isManifestType(v.mediaType)) && typeof v.config === 'object' && Array.isArray(v.layers);
  } catch {
    return false;
  }
}
