// `nbuild store check [--repair]`: verify every blob, name, image, unpacked layer
// and cache record. Repair removes what is broken (never a healthy blob), drops
// images whose blobs are gone, and rebuilds refs.json from the manifests in
// blobs/ if it is unreadable.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { formatPlatform } from '../image/platform.js';
import { Digest } from '../image/digest.js';
import { isManifestType } from '../image/media-types.js';
import { isCacheRecord } from './cache-record.js';
import { hashFile, removeTree } from './fsutil.js';
import { type Refs, emptyRefs } from './refs.js';
import type { Store } from './store.js';

/** The COPY stat cache (executor/content-hash.ts) lives beside the cache records; it is not one. */
export const STAT_CACHE_FILE = 'context-stat.json';

export interface CheckResult {
  blobs: number;
  images: number;
  problems: string[];
  repaired: number;
}

export async function checkStore(store: Store, repair: boolean): Promise<CheckResult> {
  const r: CheckResult = { blobs: 0, images: 0, problems: [], repaired: 0 };
  const fix = async (problem: string, action: () => Promise<void>): Promise<void> => {
    r.problems.push(problem);
    if (repair) {
      await action();
      r.repaired++;
    }
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
        for (const n of good) if (await looksLikeManifest(path.join(blobDir, n))) refs.images[`sha256:${n}`] = { added: new Date().toISOString() };
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
        if (good.has(Digest.parse(d).hex) && !(await imageProblem(store, Digest.parse(d), good))) refs.images[d] = { added: new Date().toISOString() };
        else delete refs.names[n];
      });
    }
    if (repair && r.repaired > 0) await store.replaceRefsLocked(refs);
    for (const n of await fs.readdir(path.join(store.root, 'layers'))) {
      const p = path.join(store.root, 'layers', n);
      const st = await fs.lstat(p);
      if (!/^[0-9a-f]{64}$/.test(n) || !st.isDirectory()) await fix(`layers/${n}: not an unpacked layer`, () => removeTree(p));
    }
    const cacheDir = path.join(store.root, 'cache');
    for (const n of await fs.readdir(cacheDir)) {
      if (n === STAT_CACHE_FILE) continue;
      const p = path.join(cacheDir, n);
      const v = await fs.readFile(p, 'utf8').then((t) => JSON.parse(t) as { record?: unknown }, () => undefined);
      if (!v || !isCacheRecord(v.record)) await fix(`cache/${n}: not a cache record`, () => fs.rm(p, { force: true }));
      else if (v.record.layer && !good.has(Digest.parse(v.record.layer.digest).hex)) await fix(`cache/${n}: its layer ${v.record.layer.digest} is gone`, () => fs.rm(p, { force: true }));
    }
  });
  return r;
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
