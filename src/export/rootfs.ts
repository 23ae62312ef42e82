// `type=local` and `type=tar` outputs: the final root filesystem, not an image.
// Layers are applied in order onto one folder (whiteouts delete).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { Store } from '../store/store.js';
import type { Image } from '../image/image.js';
import { extractLayer } from '../native/index.js';
import { NbuildError } from '../errors.js';

export async function writeRootfs(store: Store, image: Image, type: 'local' | 'tar', dest: string): Promise<void> {
  const work = await store.tempDir('rootfs');
  try {
    const root = type === 'local' ? dest : path.join(work, 'rootfs');
    await fs.mkdir(root, { recursive: true });
    for (const layer of image.layers) {
      await extractLayer({ inputPath: store.blobPath(layer.digest), destDir: root, whiteouts: 'apply', expectedDiffId: layer.diffId.toString() });
    }
    if (type === 'tar') await tarFolder(root, dest);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

function tarFolder(dir: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const tmp = `${dest}.tmp-${process.pid}`;
    const child = spawn('tar', ['--sort=name', '--numeric-owner', '--xattrs', '-C', dir, '-cf', tmp, '.'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) fs.rename(tmp, dest).then(resolve, reject);
      else reject(new NbuildError('OUTPUT_FAILED', `writing ${dest}: tar: ${err.trim()}`));
    });
  });
}
