import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Digest } from '../../src/image/digest.js';
import { OciLayout } from '../../src/oci/layout.js';
import { tempRoot } from '../store/fixtures.js';

async function fresh(): Promise<{ dir: string; layout: OciLayout }> {
  const dir = path.join(await tempRoot('nbuild-oci-'), 'parent', 'layout');
  return { dir, layout: await OciLayout.create(dir) };
}

async function listAll(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).map(String).sort();
}

test('create writes oci-layout and blobs/sha256; blobs from bytes, file and stream land under their digest', async (t) => {
  const { dir, layout } = await fresh();
  t.is(await fs.readFile(path.join(dir, 'oci-layout'), 'utf8'), '{"imageLayoutVersion":"1.0.0"}');
  const a = Buffer.from('alpha');
  const fromBytes = await layout.writeBlob(a);
  t.true(fromBytes.digest.equals(Digest.of(a)));
  t.is(fromBytes.size, 5);
  t.true(fromBytes.written);
  const src = path.join(dir, '..', 'src');
  await fs.writeFile(src, 'beta-beta');
  let seen = 0;
  const fromFile = await layout.writeBlob({ file: src }, { expect: { digest: Digest.of(Buffer.from('beta-beta')), size: 9 }, onBytes: (n) => (seen += n) });
  t.is(seen, 9);
  t.true(fromFile.written);
  const fromStream = await layout.writeBlob(Readable.from([Buffer.from('gam'), Buffer.from('ma')]));
  t.true(fromStream.digest.equals(Digest.of(Buffer.from('gamma'))));
  t.false((await layout.writeBlob(a)).written, 'a blob already there is kept');
  t.deepEqual(await listAll(path.join(dir, 'blobs', 'sha256')), [fromBytes, fromFile, fromStream].map((b) => b.digest.hex).sort(), 'no temp files left');
  t.deepEqual(await layout.readBlobBytes(fromFile), Buffer.from('beta-beta'));
});

test('writeBlob refuses bytes that are not the expected digest or size and leaves nothing behind', async (t) => {
  const { dir, layout } = await fresh();
  const want = { digest: Digest.of(Buffer.from('right')), size: 5 };
  await t.throwsAsync(layout.writeBlob(Buffer.from('wrong'), { expect: want }), { message: /the descriptor says/ });
  await t.throwsAsync(layout.writeBlob(Readable.from([Buffer.from('right, and more')]), { expect: want }), { message: /more than the 5 bytes/ });
  await t.throwsAsync(layout.writeBlob(Buffer.from('righ'), { expect: want }), { message: /the descriptor says/ });
  const src = path.join(dir, '..', 'store-blob');
  await fs.writeFile(src, 'right, and more');
  await t.throwsAsync(layout.writeBlob({ file: src, fromStore: true }, { expect: want }), { message: /the store's copy has 15 bytes/ });
  t.deepEqual(await listAll(path.join(dir, 'blobs', 'sha256')), []);
  t.false(await layout.hasBlob(want.digest));
  await fs.writeFile(src, 'right');
  t.true((await layout.writeBlob({ file: src, fromStore: true }, { expect: want })).written);
  t.is(await fs.readFile(layout.blobPath(want.digest), 'utf8'), 'right');
});

test('readBlob verifies digest and size while streaming', async (t) => {
  const { layout } = await fresh();
  const id = await layout.writeBlob(Buffer.from('original'));
  await fs.writeFile(layout.blobPath(id.digest), 'tampered');
  await t.throwsAsync(layout.readBlobBytes(id), { instanceOf: Error, message: /the descriptor says/ });
  await fs.writeFile(layout.blobPath(id.digest), 'orig');
  await t.throwsAsync(layout.readBlobBytes(id), { message: /the descriptor says/ });
  await fs.writeFile(layout.blobPath(id.digest), 'original plus');
  await t.throwsAsync(layout.readBlobBytes(id), { message: /more than the 8 bytes/ });
  const missing = { digest: Digest.of(Buffer.from('none')), size: 4 };
  const err = await t.throwsAsync(layout.readBlobBytes(missing));
  t.is((err as { code?: string }).code, 'BLOB_UNKNOWN');
  await fs.writeFile(layout.blobPath(id.digest), 'original');
  t.is((await layout.readBlobBytes(id)).toString(), 'original');
  // A blob that is a symlink (to a file with the right bytes, even) is not followed.
  const outside = path.join(path.dirname(layout.dir), 'outside');
  await fs.writeFile(outside, 'original');
  await fs.rm(layout.blobPath(id.digest));
  await fs.symlink(outside, layout.blobPath(id.digest));
  t.false(await layout.hasBlob(id.digest));
  await t.throwsAsync(layout.readBlobBytes(id), { message: /is a symlink/ });
});

test('readIndex / updateIndex: an empty index at first, replaced whole, garbage refused', async (t) => {
  const { dir, layout } = await fresh();
  t.false(await layout.hasIndex());
  t.deepEqual((await layout.readIndex()).manifests, []);
  const id = await layout.writeBlob(Buffer.from('{}'));
  await layout.updateIndex((index) => ({ ...index, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: id.digest.toString(), size: id.size }] }));
  t.true(await layout.hasIndex());
  t.is((await (await OciLayout.open(dir)).readIndex()).manifests[0]?.digest, id.digest.toString());
  t.deepEqual((await fs.readdir(dir)).sort(), ['blobs', 'index.json', 'oci-layout'], 'no temp file beside index.json');
  await fs.writeFile(path.join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[{"digest":"nope"}]}');
  await t.throwsAsync(layout.readIndex(), { message: /is not an OCI image index/ });
  await fs.writeFile(path.join(dir, 'index.json'), 'not json');
  await t.throwsAsync(layout.readIndex(), { message: /is not valid JSON/ });
});

test('a layout of another version is refused', async (t) => {
  const { dir } = await fresh();
  await fs.writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
  await t.throwsAsync(OciLayout.open(dir), { message: /unsupported imageLayoutVersion 2\.0\.0/ });
  await t.throwsAsync(OciLayout.create(dir), { message: /unsupported imageLayoutVersion 2\.0\.0/ });
});
