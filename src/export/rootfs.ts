// `type=local` and `type=tar` outputs: the final root filesystem, not an image.
// Layers are applied in order onto one folder (whiteouts delete).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Store } from '../store/store.js';
import type { Image } from '../image/image.js';
import { extractLayer, writeLayer } from '../native/index.js';

export async function writeRootfs(store: Store, image: Image, type: 'local' | 'tar', dest: string): Promise<void> {
  const work = await store.tempDir('rootfs');
  try {
    const root = type === 'local' ? dest : path.join(work, 'rootfs');
    await fs.mkdir(root, { recursive: true });
    for (const layer of image.layers) {
      await extractLayer({ inputPath: store.blobPath(layer.digest), destDir: root, whiteouts: 'apply', expectedDiffId: layer.diffId.toString() });
    }
    if (type === 'tar') {
      // The layer writer's tar: sorted, numeric ids, the same bytes for the same tree.
      const tmp = `${dest}.tmp-${process.pid}`;
      await writeLayer({ sourceDir: root, outputPath: tmp, mode: 'plain', compression: 'none' });
      await fs.rename(tmp, dest);
    }
  } finally {
    await store.removeTempDir(work);
  }
}
