import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Digest } from '../../src/image/digest.js';
import { Store } from '../../src/store/store.js';
import { prune, removeImages } from '../../src/store/gc.js';
import { checkStore } from '../../src/store/check.js';
import { makeImage, makeLayer, tempRoot } from './fixtures.js';
import { currentOwner } from '../../src/store/owner.js';

test('open creates the layout', async (t) => {
  const root = await tempRoot();
  const store = await Store.open(root);
  for (const d of ['blobs/sha256', 'layers', 'cache', 'tmp']) t.true((await fs.stat(path.join(root, d))).isDirectory(), d);
  t.is(store.root, root);
});

test('blobs are verified on write and read', async (t) => {
  const store = await Store.open(await tempRoot());
  const d = await store.putBlob(Buffer.from('hello'));
  t.true(await store.hasBlob(d));
  t.is((await store.readBlob(d)).toString(), 'hello');
  await t.throwsAsync(store.putBlob(Buffer.from('x'), d), { code: 'DIGEST_MISMATCH' } as never);
  await fs.chmod(store.blobPath(d), 0o644);
  await fs.writeFile(store.blobPath(d), 'tampered');
  await t.throwsAsync(store.readBlob(d), { code: 'BLOB_CORRUPT' } as never);
  await t.throwsAsync(store.readBlob(Digest.of('missing')), { code: 'BLOB_UNKNOWN' } as never);
  const tmp = await store.tempDir('t');
  await fs.writeFile(path.join(tmp, 'b'), 'big');
  await t.throwsAsync(store.importBlobFile(path.join(tmp, 'b'), Digest.of('other')), { code: 'DIGEST_MISMATCH' } as never);
  await store.importBlobFile(path.join(tmp, 'b'), Digest.of('big'));
  t.is((await store.readBlob(Digest.of('big'))).toString(), 'big');
  t.deepEqual(await fs.readdir(path.join(store.root, 'blobs', 'sha256')).then((x) => x.filter((n) => n.includes('tmp'))), []);
});

test('images: write, tag, get by name, digest and id prefix, untag', async (t) => {
  const store = await Store.open(await tempRoot());
  const img = await makeImage(store, 'a');
  await store.tag('myapp', img);
  await store.tag('quay.io/x/y:v1', img);
  for (const q of ['myapp', 'myapp:latest', 'docker.io/library/myapp:latest', img.manifestDigest.toString(), img.configDigest.toString(), img.configDigest.hex.slice(0, 12), 'quay.io/x/y:v1']) {
    const got = await store.getImage(q);
    t.truthy(got, q);
    t.true(got!.manifestDigest.equals(img.manifestDigest), q);
  }
  t.is(await store.getImage('nothere'), undefined);
  const list = await store.listImages();
  t.is(list.length, 1);
  t.deepEqual(list[0].names, ['docker.io/library/myapp:latest', 'quay.io/x/y:v1']);
  t.true(await store.untag('myapp'));
  t.false(await store.untag('myapp'));
  t.deepEqual((await store.listImages())[0].names, ['quay.io/x/y:v1']);
});

test('names are looked up in one parse of refs.json while it is the same file; every change is seen, also another process\'s', async (t) => {
  const root = await tempRoot();
  const store = await Store.open(root);
  const refsFile = path.join(root, 'refs.json');
  const img = await makeImage(store, 'a');
  const other = await makeImage(store, 'b');
  await store.tag('app:1', img);
  t.true((await store.getImage('app:1'))!.manifestDigest.equals(img.manifestDigest));
  // Tagging what is already there writes nothing: refs.json stays the same file, the lock untaken.
  const before = await fs.stat(refsFile, { bigint: true });
  // The lock held by a live process (this one): a tag that took it would wait (up to 10 minutes).
  await fs.writeFile(path.join(root, 'lock'), JSON.stringify({ ...currentOwner(), nonce: 'test' }));
  const waited = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the tag waited for the store lock')), 3000).unref());
  await Promise.race([store.tag('app:1', img), waited]);
  const after = await fs.stat(refsFile, { bigint: true });
  t.is(after.ino, before.ino);
  t.is(after.mtimeNs, before.mtimeNs);
  await fs.rm(path.join(root, 'lock'));
  // This process's own change.
  await store.tag('app:1', other);
  t.true((await store.getImage('app:1'))!.manifestDigest.equals(other.manifestDigest));
  // Another process's (another Store on the same root), and a name it removed.
  const second = await Store.open(root);
  await second.tag('app:2', img);
  await second.untag('app:1');
  t.true((await store.getImage('app:2'))!.manifestDigest.equals(img.manifestDigest));
  t.is(await store.getImage('app:1'), undefined);
  // refs.json gone: no names.
  await fs.rm(refsFile);
  t.is(await store.getImage('app:2'), undefined);
});

test('cache records round trip and vanish with their layer', async (t) => {
  const store = await Store.open(await tempRoot());
  const layer = await makeLayer(store, { f: 'x' });
  const rec = { layer: { digest: layer.digest.toString(), diffId: layer.diffId.toString(), size: layer.size, mediaType: layer.mediaType }, config: { Env: ['A=1'] }, createdAt: '2024-01-01T00:00:00Z' };
  await store.cachePut('key one', rec);
  t.deepEqual(await store.cacheGet('key one'), rec);
  t.is(await store.cacheGet('key two'), undefined);
  await fs.rm(store.blobPath(layer.digest));
  t.is(await store.cacheGet('key one'), undefined);
});

test('rmi untags, deletes, keeps shared layers and refuses ambiguous deletes', async (t) => {
  const store = await Store.open(await tempRoot());
  const a = await makeImage(store, 'a');
  await store.tag('a', a);
  await store.tag('a2', a);
  await t.throwsAsync(removeImages(store, [a.configDigest.hex.slice(0, 12)], false), { code: 'IMAGE_IN_USE', message: /2 names/ } as never);
  const r1 = await removeImages(store, ['a2'], false);
  t.deepEqual(r1.lines, ['Untagged: a2:latest']);
  // The blobs stay while any process that might use them runs; a new process sees them as old.
  const r2 = await removeImages(store, ['a'], false);
  t.deepEqual(r2.lines, ['Untagged: a:latest', `Deleted: ${a.manifestDigest}`]);
  t.is((await store.listImages()).length, 0);
  await t.throwsAsync(removeImages(store, ['a'], false), { code: 'IMAGE_UNKNOWN' } as never);
});

test('prune drops dangling images and check finds corruption', async (t) => {
  const root = await tempRoot();
  let store = await Store.open(root);
  const keep = await makeImage(store, 'keep');
  await store.tag('keep', keep);
  await makeImage(store, 'dangling');
  await new Promise((r) => setTimeout(r, 20));
  store = await Store.open(root);
  const before = (await fs.readdir(path.join(root, 'blobs/sha256'))).length;
  const r = await prune(store, {});
  t.is(r.images.length, 1);
  const after = (await fs.readdir(path.join(root, 'blobs/sha256'))).length;
  t.true(after < before, `${after} < ${before}`);
  t.is((await store.listImages()).length, 1);
  t.deepEqual((await checkStore(store, false)).problems, []);
  const victim = keep.layers[0].digest;
  await fs.writeFile(store.blobPath(victim), 'bad');
  const c = await checkStore(store, true);
  t.is(c.problems.length, 2, c.problems.join('\n'));
  t.deepEqual((await checkStore(store, false)).problems, []);
  t.is((await store.listImages()).length, 0);
});

test('a corrupt refs.json is reported, and repair rebuilds it from the manifests in blobs/', async (t) => {
  const root = await tempRoot();
  const store = await Store.open(root);
  const img = await makeImage(store, 'r', 1);
  await store.tag('r', img);
  await fs.writeFile(path.join(root, 'refs.json'), '{"version": 1, "images": ');
  await t.throwsAsync(store.listImages(), { code: 'STORE_CORRUPT', message: /store check --repair/ } as never);
  const r = await checkStore(store, true);
  t.is(r.repaired, 1);
  const list = await store.listImages();
  t.is(list.length, 1);
  t.true(list[0].image.manifestDigest.equals(img.manifestDigest));
  t.deepEqual(list[0].names, []);
});

test('an unpacked layer already in the store is kept, also an empty one (rename would replace an empty folder)', async (t) => {
  const store = await Store.open(await tempRoot());
  const add = async (): Promise<void> => {
    const tmp = await store.tempDir('layer');
    await fs.writeFile(path.join(tmp, 'blob'), 'empty-layer-blob');
    await fs.mkdir(path.join(tmp, 'tree'));
    await store.addLayer(path.join(tmp, 'blob'), { digest: Digest.of('empty-layer-blob').toString(), diffId: Digest.of('empty-tar').toString(), size: 16 }, 'application/vnd.oci.image.layer.v1.tar', path.join(tmp, 'tree'));
  };
  await add();
  const dir = store.layerPath(Digest.of('empty-tar'));
  const before = await fs.stat(dir);
  await add();
  const after = await fs.stat(dir);
  t.is(after.ino, before.ino, 'the folder in the store is the first one, not replaced');
  t.deepEqual(await store.lowerDirs([0, 1].map(() => ({ digest: Digest.of('empty-layer-blob'), diffId: Digest.of('empty-tar'), size: 16, mediaType: 'x' }))), [dir], 'a repeated layer is one lower folder');
});
