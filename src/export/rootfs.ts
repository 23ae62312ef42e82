// `type=local` and `type=tar` outputs: the final root filesystem, not an image.
// Layers are applied in order onto one folder (whiteouts delete) — a folder of our own,
// never the destination itself: an image's whiteouts (an opaque `.wh..wh..opq` at its
// root) delete only what its own lower layers made, never a file the user already had
// there. The finished tree is renamed into place (or, into an existing folder, moved
// in entry by entry, replacing what has the same name, as BuildKit's local exporter
// does); a failure or an interruption leaves the destination as it was (partial.ts).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Store } from '../store/store.js';
import type { Image } from '../image/image.js';
import { NbuildError } from '../errors.js';
import { extractLayer, writeLayer } from '../native/index.js';
import { errnoOf, removeTree } from '../store/fsutil.js';
import { PartialOutput, removeStaleTemps, tempBeside, tempInside } from '../fs/partial.js';
import { outputError } from './output-error.js';
import { noProgress, type TransferProgress } from '../executor/transfer-progress.js';

/** `progress` hears of each layer as it is applied. */
export async function writeRootfs(store: Store, image: Image, type: 'local' | 'tar', dest: string, progress: TransferProgress = noProgress): Promise<void> {
  const abs = path.resolve(dest);
  const partial = new PartialOutput();
  try {
    await removeStaleTemps(abs);
    if (type === 'tar') await writeRootfsTar(store, image, abs, partial, progress);
    else await writeRootfsFolder(store, image, abs, partial, progress);
  } catch (e) {
    throw outputError(e, abs, store.root);
  }
}

async function applyLayers(store: Store, image: Image, root: string, progress: TransferProgress): Promise<void> {
  for (const layer of image.layers) {
    const meter = progress.blob(layer.digest.toString(), layer.size);
    await extractLayer({ inputPath: store.blobPath(layer.digest), destDir: root, whiteouts: 'apply', expectedDiffId: layer.diffId.toString() });
    meter.done();
  }
}

async function writeRootfsTar(store: Store, image: Image, dest: string, partial: PartialOutput, progress: TransferProgress): Promise<void> {
  const work = await store.tempDir('rootfs');
  try {
    const root = path.join(work, 'rootfs');
    await fs.mkdir(root);
    await applyLayers(store, image, root, progress);
    const tmp = tempBeside(dest);
    partial.add(tmp);
    // The layer writer's tar: sorted, numeric ids, the same bytes for the same tree.
    await partial.run(async () => {
      await writeLayer({ sourceDir: root, outputPath: tmp, mode: 'plain', compression: 'none' });
      await fs.rename(tmp, dest);
    });
  } finally {
    await store.removeTempDir(work);
  }
}

async function writeRootfsFolder(store: Store, image: Image, dest: string, partial: PartialOutput, progress: TransferProgress): Promise<void> {
  const st = await fs.stat(dest).catch((e: unknown) => (errnoOf(e) === 'ENOENT' ? undefined : Promise.reject(e)));
  if (st && !st.isDirectory()) throw new NbuildError('OUTPUT_FAILED', `cannot write ${dest}: it exists and is not a folder`);
  if (!st) await fs.mkdir(path.dirname(dest), { recursive: true });
  const tmp = st ? tempInside(dest) : tempBeside(dest);
  partial.add(tmp);
  await partial.run(async () => {
    await fs.mkdir(tmp, { mode: 0o755 });
    await applyLayers(store, image, tmp, progress);
    if (!st) await fs.rename(tmp, dest);
    else {
      await moveInto(tmp, dest);
      await removeTree(tmp);
    }
  });
}

/** Moves the entries of `from` into `to`: folders on both sides merge, anything else replaces. */
async function moveInto(from: string, to: string): Promise<void> {
  for (const name of await fs.readdir(from)) {
    const src = path.join(from, name);
    const dst = path.join(to, name);
    const [s, d] = await Promise.all([fs.lstat(src), fs.lstat(dst).catch(() => undefined)]);
    if (d?.isDirectory() && s.isDirectory()) {
      await moveInto(src, dst);
      await fs.chmod(dst, s.mode & 0o7777).catch(() => undefined);
      await fs.utimes(dst, s.atime, s.mtime).catch(() => undefined);
      continue;
    }
    if (d) await removeTree(dst);
    await fs.rename(src, dst);
  }
}
