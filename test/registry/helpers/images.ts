// Tiny real images for registry tests: one gzip layer holding one file, made in a store.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Digest } from '../../../src/image/digest.js';
import { Image, hostPlatform, type Layer } from '../../../src/image/image.js';
import { OCI_LAYER_GZIP } from '../../../src/image/media-types.js';
import { Store } from '../../../src/store/store.js';

export async function tempStore(t: { teardown: (f: () => void) => void }): Promise<Store> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-store-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  return Store.open(root);
}

/** makeLayer tars one file (deterministically) and gzips it into the store. */
export async function makeLayer(store: Store, name: string, content: string): Promise<Layer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-layer-'));
  try {
    fs.writeFileSync(path.join(dir, name), content);
    const tar = execFileSync('tar', ['-C', dir, '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', '-', name]);
    const gz = gzipSync(tar);
    const digest = await store.putBlob(gz);
    return { digest, diffId: Digest.of(tar), size: gz.length, mediaType: OCI_LAYER_GZIP };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** makeImage builds and stores an image of `files.length` layers. */
export async function makeImage(store: Store, files: Record<string, string>, platform: { os: string; architecture: string; variant?: string } = hostPlatform()): Promise<Image> {
  const layers: Layer[] = [];
  for (const [name, content] of Object.entries(files)) layers.push(await makeLayer(store, name, content));
  const image = Image.build({ ...platform, created: '1970-01-01T00:00:00Z', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [] } }, layers);
  await store.writeImage(image);
  return image;
}
