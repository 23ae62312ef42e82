// `store check`'s look at the unpacked layers (layers/<diffid-hex>/): each is compared with a
// fresh extraction of its blob, both walked by the native layer writer into the tar it would
// make with every mtime 0 (digestTree): any change to a file's content, mode, owner, xattrs or
// links, and any file added or removed, changes that digest. The reference is the blob itself —
// content-addressed and verified just before — not a digest recorded beside the layer, which
// whoever rewrote the layer could rewrite too (docs/decisions.md, "store check: unpacked layers").
// --repair swaps the fresh extraction in.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Layer } from '../image/image.js';
import { removeTree } from './fsutil.js';
import type { Store } from './store.js';

/** Records a problem; `repair` (run only with --repair) returns false when it could not act. */
export type Fix = (problem: string, repair: () => Promise<boolean | void>) => Promise<void>;

interface DigestTree {
  digestTree(o: { sourceDir: string; mode: 'overlay-upper'; clampMtime: number }): Promise<{ digest: string }>;
}

/** The tree digest of an unpacked layer (an overlay lower dir), its mtimes left out. */
async function treeDigest(dir: string): Promise<string> {
  const native = (await import('../native/index.js')) as DigestTree;
  return (await native.digestTree({ sourceDir: dir, mode: 'overlay-upper', clampMtime: 0 })).digest;
}

/**
 * Verifies every unpacked layer that an image or cache record names (with a good blob) against
 * its blob. `good` holds the hex of the blobs that hashed right. Returns how many were verified.
 */
export async function checkLayerDirs(store: Store, known: Map<string, Layer>, good: Set<string>, fix: Fix): Promise<number> {
  let verified = 0;
  for (const n of (await fs.readdir(path.join(store.root, 'layers'))).sort()) {
    const dir = path.join(store.root, 'layers', n);
    const st = await fs.lstat(dir);
    if (!/^[0-9a-f]{64}$/.test(n) || !st.isDirectory()) {
      await fix(`layers/${n}: not an unpacked layer`, () => removeTree(dir));
      continue;
    }
    const layer = known.get(n);
    // Unnamed by any image or record (kept while another build ran, or a build's newest layer
    // not yet recorded): nothing to verify against; prune removes it when it is unused.
    if (!layer || !good.has(layer.digest.hex)) continue;
    const work = await store.tempDir('check-layer');
    try {
      const fresh = await store.unpackInto(layer, work);
      verified++;
      const why = await difference(fresh, dir, layer);
      if (why) await fix(`layers/${n}: ${why}`, () => swapIn(store, layer, fresh));
    } finally {
      await store.removeTempDir(work).catch(() => undefined);
    }
  }
  return verified;
}

/** Why `dir` is not what its blob unpacks to (`fresh`), or undefined when it is. */
async function difference(fresh: string, dir: string, layer: Layer): Promise<string | undefined> {
  const want = await treeDigest(fresh);
  let got: string;
  try {
    got = await treeDigest(dir);
  } catch (e) {
    return `cannot be read as a layer (${(e as Error).message}); it is not what its blob ${layer.digest} unpacks to`;
  }
  return got === want ? undefined : `its files differ from what its blob ${layer.digest} unpacks to (changed after it was unpacked)`;
}

/** Puts the fresh extraction in place of the layer; false while other nbuild processes may have it mounted. */
async function swapIn(store: Store, layer: Layer, fresh: string): Promise<boolean> {
  if ((await store.otherUsers()) > 0) return false;
  await store.removeLayerDir(layer.diffId);
  await fs.rename(fresh, store.layerPath(layer.diffId));
  return true;
}
