// Test fixtures: real (small) layers written with the archive tar writer, so the
// store and exporters can be tested without the native engine.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { TarWriter } from '../../src/oci/tar.js';
import { Image, type Layer } from '../../src/image/image.js';
import { OCI_LAYER, OCI_LAYER_GZIP } from '../../src/image/media-types.js';
import type { ImageConfig } from '../../src/image/types.js';
import type { Store } from '../../src/store/store.js';

export async function tempRoot(prefix = 'nbuild-store-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A layer holding `files` (name → content), gzip-compressed unless `gzip` is false. */
export async function makeLayer(store: Store, files: Record<string, string>, gzip = true): Promise<Layer> {
  const dir = await store.tempDir('test-layer');
  const tarFile = path.join(dir, 'layer.tar');
  const fh = await fs.open(tarFile, 'w');
  const tar = new TarWriter(fh);
  for (const [name, content] of Object.entries(files).sort()) await tar.addBuffer(name, Buffer.from(content));
  await tar.finish();
  await fh.close();
  const raw = await fs.readFile(tarFile);
  const diffId = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  const blob = gzip ? gzipSync(raw) : raw;
  const blobFile = path.join(dir, 'blob');
  await fs.writeFile(blobFile, blob);
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const layer = await store.addLayer(blobFile, { digest, diffId, size: blob.length }, gzip ? OCI_LAYER_GZIP : OCI_LAYER);
  await store.removeTempDir(dir);
  return layer;
}

export function config(layers: number, extra: Partial<ImageConfig> = {}): ImageConfig {
  return {
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [
      ...Array.from({ length: layers }, (_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `COPY layer${i} /` })),
      { created: '2024-01-01T00:00:00Z', created_by: 'CMD ["/bin/sh"]', empty_layer: true },
    ],
    ...extra,
  };
}

/** An image of `n` one-file layers, stored (not named). */
export async function makeImage(store: Store, tag: string, n = 2): Promise<Image> {
  const layers: Layer[] = [];
  for (let i = 0; i < n; i++) layers.push(await makeLayer(store, { [`${tag}-${i}.txt`]: `${tag} layer ${i}\n` }));
  const image = Image.build(config(n), layers);
  await store.writeImage(image);
  return image;
}
