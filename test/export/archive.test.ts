import test from 'ava';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { writeDockerArchive } from '../../src/export/docker-archive.js';
import { writeOciArchive } from '../../src/export/oci-archive.js';
import { writeOciLayout } from '../../src/export/oci-layout.js';
import { TarWriter } from '../../src/oci/tar.js';
import { loadArchive } from '../../src/store/load.js';
import { Store } from '../../src/store/store.js';
import { makeImage, tempRoot } from '../store/fixtures.js';

const run = promisify(execFile);

async function has(cmd: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${cmd}`]).then(() => true, () => false);
}

async function setup(): Promise<{ store: Store; dir: string }> {
  const dir = await tempRoot('nbuild-export-');
  return { store: await Store.open(path.join(dir, 'store')), dir };
}

test('oci archive: save → load round trip into another store', async (t) => {
  const { store, dir } = await setup();
  const img = await makeImage(store, 'rt', 3);
  await store.tag('rt:1', img);
  const file = path.join(dir, 'rt.tar');
  await writeOciArchive(store, [{ image: img, names: ['rt:1'] }], file);
  t.deepEqual((await fs.readdir(dir)).filter((n) => n.includes('tmp')), []);
  const other = await Store.open(path.join(dir, 'other'));
  const loaded = await loadArchive(other, file);
  t.is(loaded.length, 1);
  t.true(loaded[0].image.manifestDigest.equals(img.manifestDigest));
  t.deepEqual(loaded[0].names, ['docker.io/library/rt:1']);
  t.truthy(await other.getImage('rt:1'));
  for (const l of img.layers) t.true(await other.hasBlob(l.digest));
  // docker load also takes a gzip-compressed archive.
  await run('gzip', ['-k', file]);
  const third = await Store.open(path.join(dir, 'third'));
  t.true((await loadArchive(third, `${file}.gz`))[0].image.manifestDigest.equals(img.manifestDigest));
});

test('docker archive: loads back, and its manifest.json is docker save shaped', async (t) => {
  const { store, dir } = await setup();
  const img = await makeImage(store, 'dk', 2);
  const file = path.join(dir, 'dk.tar');
  await writeDockerArchive(store, [{ image: img, names: ['dk:latest', 'quay.io/a/dk:2'] }], file);
  const { stdout } = await run('tar', ['-xOf', file, 'manifest.json']);
  const m = JSON.parse(stdout) as { Config: string; RepoTags: string[]; Layers: string[] }[];
  t.deepEqual(m[0].RepoTags, ['dk:latest', 'quay.io/a/dk:2']);
  t.is(m[0].Config, `blobs/sha256/${img.configDigest.hex}`);
  const other = await Store.open(path.join(dir, 'other'));
  const [loaded] = await loadArchive(other, file, { tag: 'extra' });
  t.true(loaded.image.manifestDigest.equals(img.manifestDigest));
  t.deepEqual([...loaded.names].sort(), ['docker.io/library/dk:latest', 'docker.io/library/extra:latest', 'quay.io/a/dk:2']);
});

test('old docker save format (<id>/layer.tar, symlinked layers) loads', async (t) => {
  const { store, dir } = await setup();
  const img = await makeImage(store, 'old', 1);
  // Recreate the layer uncompressed as docker ≤ 24 wrote it.
  const layerTar = path.join(dir, 'layer.tar');
  await run('sh', ['-c', `gzip -dc < '${store.blobPath(img.layers[0].digest)}' > '${layerTar}'`]);
  // Two images share the layer: docker wrote the second as a symlink to the first.
  const tree = path.join(dir, 'tree');
  await fs.mkdir(path.join(tree, 'abc'), { recursive: true });
  await fs.mkdir(path.join(tree, 'def'));
  await fs.rename(layerTar, path.join(tree, 'abc', 'layer.tar'));
  await fs.symlink('../abc/layer.tar', path.join(tree, 'def', 'layer.tar'));
  await fs.writeFile(path.join(tree, `${img.configDigest.hex}.json`), img.configBytes());
  const entries = [
    { Config: `${img.configDigest.hex}.json`, RepoTags: ['old:v1'], Layers: ['abc/layer.tar'] },
    { Config: `${img.configDigest.hex}.json`, RepoTags: ['old:v2'], Layers: ['def/layer.tar'] },
  ];
  await fs.writeFile(path.join(tree, 'manifest.json'), JSON.stringify(entries));
  const file = path.join(dir, 'old.tar');
  await run('tar', ['-cf', file, '-C', tree, '.']);
  const other = await Store.open(path.join(dir, 'other'));
  const [loaded, second] = await loadArchive(other, file);
  t.deepEqual(loaded.names, ['docker.io/library/old:v1']);
  t.deepEqual(second.names, ['docker.io/library/old:v2']);
  t.true(loaded.image.configDigest.equals(img.configDigest));
  t.true(loaded.image.layers[0].digest.equals(img.layers[0].diffId));
});

test('oci layout folder: written, added to, and loaded', async (t) => {
  const { store, dir } = await setup();
  const a = await makeImage(store, 'la', 1);
  const b = await makeImage(store, 'lb', 1);
  const layout = path.join(dir, 'layout');
  await writeOciLayout(store, [{ image: a, names: ['x:1'] }], layout);
  await writeOciLayout(store, [{ image: b, names: ['x:2'] }], layout);
  await writeOciLayout(store, [{ image: b, names: ['x:1'] }], layout); // x:1 moves to b
  const index = JSON.parse(await fs.readFile(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  t.is(index.manifests.length, 2);
  t.true(index.manifests.every((d) => d.digest === b.manifestDigest.toString()));
  const other = await Store.open(path.join(dir, 'other'));
  const loaded = await loadArchive(other, layout);
  t.is(loaded.length, 1);
  t.deepEqual([...loaded[0].names].sort(), ['docker.io/library/x:1', 'docker.io/library/x:2']);
});

test('skopeo inspects the oci archive and umoci unpacks it', async (t) => {
  if (!(await has('skopeo')) || !(await has('umoci'))) return t.pass('skopeo/umoci not installed');
  const { store, dir } = await setup();
  const img = await makeImage(store, 'tool', 2);
  const file = path.join(dir, 'tool.tar');
  await writeOciArchive(store, [{ image: img, names: ['tool:v1'] }], file);
  const { stdout } = await run('skopeo', ['inspect', '--raw', `oci-archive:${file}:v1`]);
  t.is((JSON.parse(stdout) as { config: { digest: string } }).config.digest, img.configDigest.toString());
  const info = JSON.parse((await run('skopeo', ['inspect', `oci-archive:${file}:v1`])).stdout) as { Layers: string[] };
  t.deepEqual(info.Layers, img.layers.map((l) => l.digest.toString()));
  const ociDir = path.join(dir, 'oci');
  await fs.mkdir(ociDir);
  await run('tar', ['-xf', file, '-C', ociDir]);
  const bundle = path.join(dir, 'bundle');
  await run('umoci', ['unpack', '--rootless', '--image', `${ociDir}:v1`, bundle]);
  t.is(await fs.readFile(path.join(bundle, 'rootfs', 'tool-1.txt'), 'utf8'), 'tool layer 1\n');
  const docker = path.join(dir, 'tool-docker.tar');
  await writeDockerArchive(store, [{ image: img, names: ['tool:v1'] }], docker);
  const d = JSON.parse((await run('skopeo', ['inspect', `docker-archive:${docker}`])).stdout) as { Layers: string[] };
  t.is(d.Layers.length, 2);
});

test('oci layout folder: a tampered or symlinked blob is refused, the store keeps no image', async (t) => {
  const { store, dir } = await setup();
  const img = await makeImage(store, 'lt', 1);
  const layout = path.join(dir, 'layout');
  await writeOciLayout(store, [{ image: img, names: ['t:1'] }], layout);
  const layer = path.join(layout, 'blobs/sha256', img.layers[0].digest.hex);
  const bytes = await fs.readFile(layer);
  bytes[bytes.length - 1] ^= 1; // same size, other bytes
  await fs.rm(layer);
  await fs.writeFile(layer, bytes);
  const other = await Store.open(path.join(dir, 'other'));
  await t.throwsAsync(loadArchive(other, layout), { code: 'DIGEST_MISMATCH' } as never);
  await fs.rm(layer);
  await fs.writeFile(path.join(dir, 'elsewhere'), bytes);
  await fs.symlink(path.join(dir, 'elsewhere'), layer);
  await t.throwsAsync(loadArchive(other, layout), { code: 'ARCHIVE_INVALID', message: /layer 0 .* missing/ } as never);
  t.deepEqual(await other.listImages(), []);
});
