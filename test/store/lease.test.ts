// Leases (src/store/lease.ts): a running build's base images keep their blobs through a concurrent
// rmi + prune; the lease goes when released, and a dead holder's lease holds nothing and is
// removed by the next open.
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Digest } from '../../src/image/digest.js';
import type { Image } from '../../src/image/image.js';
import { prune, removeImages } from '../../src/store/gc.js';
import { Store } from '../../src/store/store.js';
import { makeImage, tempRoot } from './fixtures.js';

const blobsOf = (img: Image): string[] => [img.manifestDigest.hex, img.configDigest.hex, ...img.layers.map((l) => l.digest.hex)];

test('a leased image keeps its blobs through rmi and prune -a until the lease is released', async (t) => {
  const root = await tempRoot();
  const build = await Store.open(root);
  const base = await makeImage(build, 'base', 2);
  await build.tag('base:1', base);
  await build.leaseImage(base, 'base image base:1');
  const other = await Store.open(root);
  await removeImages(other, ['base:1'], false);
  await prune(other, { all: true });
  for (const hex of blobsOf(base)) t.true(await other.hasBlob(Digest.fromHex(hex)), `kept ${hex}`);
  t.deepEqual([...(await other.leased()).blobs].sort(), blobsOf(base).sort());
  await build.releaseLease();
  t.deepEqual((await fs.readdir(path.join(root, 'tmp'))).filter((n) => n.startsWith('lease-')), []);
  await prune(other, { all: true });
  for (const hex of blobsOf(base)) t.false(await other.hasBlob(Digest.fromHex(hex)), `collected ${hex}`);
});

test("a dead holder's lease holds nothing and the next open removes it", async (t) => {
  const root = await tempRoot();
  const store = await Store.open(root);
  const img = await makeImage(store, 'dead', 1);
  const name = 'lease-999999-0123456789ab';
  await fs.writeFile(path.join(root, 'tmp', `${name}.owner`), JSON.stringify({ pid: 999999, start: '1', since: 0 }));
  await fs.writeFile(path.join(root, 'tmp', name), JSON.stringify({ blobs: blobsOf(img), layers: [] }));
  t.is((await store.leased()).blobs.size, 0);
  await Store.open(root);
  t.deepEqual((await fs.readdir(path.join(root, 'tmp'))).filter((n) => n.startsWith('lease-')), []);
});

test('leasing an image whose blob is already gone is a clear error', async (t) => {
  const root = await tempRoot();
  const store = await Store.open(root);
  const img = await makeImage(store, 'gone', 1);
  await fs.rm(store.blobPath(img.layers[0].digest));
  await t.throwsAsync(store.leaseImage(img, 'base image gone:1'), { code: 'BLOB_UNKNOWN', message: /^base image gone:1: blob sha256:[0-9a-f]{64} was removed .*run the build again/ } as never);
});
