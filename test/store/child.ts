// A separate process using a store, for the concurrency and crash tests.
// argv: ROOT MODE ID   (MODE: write | hold-lock | fill | unpack)
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Store } from '../../src/store/store.js';
import { checkStore } from '../../src/store/check.js';
import { isNbuildError } from '../../src/errors.js';
import { makeImage } from './fixtures.js';

const [root, mode, id] = process.argv.slice(2);
if (mode === 'unpack') await (await import('../../src/sandbox/index.js')).enterUserNamespace();
const store = await Store.open(root);
if (mode === 'write') {
  for (let i = 0; i < 5; i++) {
    const img = await makeImage(store, `w${id}-${i}`, 2);
    await store.tag(`writer${id}:v${i}`, img);
    await store.cachePut(`key-${id}-${i}`, { config: { i }, createdAt: new Date().toISOString(), layer: { digest: img.layers[0].digest.toString(), diffId: img.layers[0].diffId.toString(), size: img.layers[0].size, mediaType: img.layers[0].mediaType } });
  }
  process.stdout.write('done\n');
} else if (mode === 'hold-lock') {
  const tmp = await store.tempDir('build');
  await fs.writeFile(path.join(tmp, 'partial-layer'), Buffer.alloc(1 << 20));
  await store.withLock(async () => {
    process.stdout.write(`ready ${tmp}\n`);
    await new Promise((r) => setTimeout(r, 60_000));
  });
} else if (mode === 'fill') {
  // Fill the store's file system with blobs until it refuses, then report how it refused.
  let result = 'no error';
  try {
    for (let i = 0; i < 1000; i++) await store.putBlob(Buffer.alloc(256 << 10, i % 251));
  } catch (e) {
    result = isNbuildError(e) ? `${e.code}: ${e.message}` : `raw: ${(e as Error).message}`;
  }
  const check = await checkStore(store, false);
  process.stdout.write(`${JSON.stringify({ result, problems: check.problems })}\n`);
}
else if (mode === 'unpack') {
  // Layers unpack inside the user namespace and go away with the last image using them.
  const img = await makeImage(store, 'u', 2);
  await store.tag('u', img);
  const dirs = await Promise.all(img.layers.map((l) => store.layerDir(l)));
  const content = await fs.readFile(path.join(dirs[1], 'u-1.txt'), 'utf8');
  const { removeImages } = await import('../../src/store/gc.js');
  await removeImages(store, ['u'], false);
  const left = await fs.readdir(path.join(root, 'layers'));
  process.stdout.write(`${JSON.stringify({ content, unpacked: dirs.length, left })}\n`);
}
