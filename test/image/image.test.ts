import test from 'ava';
import { Digest } from '../../src/image/digest.js';
import { Image } from '../../src/image/image.js';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, layerMediaType } from '../../src/image/media-types.js';
import { parseReference } from '../../src/image/reference.js';
import { UsageError } from '../../src/errors.js';

const HEX = 'a'.repeat(64);
const layer = (c: string) => ({ digest: Digest.fromHex(c.repeat(64)), diffId: Digest.fromHex(c === 'b' ? 'c'.repeat(64) : 'd'.repeat(64)), size: 10, mediaType: OCI_LAYER_GZIP });
const cfg = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' as const, diff_ids: [] }, history: [{ created_by: 'a' }, { created_by: 'ENV x', empty_layer: true }] };

test('Digest parses and rejects', (t) => {
  const d = Digest.parse(`sha256:${HEX}`);
  t.is(d.hex, HEX);
  t.is(d.toString(), `sha256:${HEX}`);
  t.true(d.equals(Digest.fromHex(HEX)));
  for (const bad of ['', 'sha256:', `sha512:${HEX}`, `sha256:${HEX.toUpperCase()}`, `sha256:${HEX}0`, HEX]) {
    t.throws(() => Digest.parse(bad), { code: 'INVALID_DIGEST' } as never, bad);
  }
  t.is(Digest.of('').hex, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('media types', (t) => {
  t.is(layerMediaType('gzip'), OCI_LAYER_GZIP);
  t.is(layerMediaType('zstd'), 'application/vnd.oci.image.layer.v1.tar+zstd');
  t.is(layerMediaType('none'), 'application/vnd.oci.image.layer.v1.tar');
});

test('Image.build is canonical and validates', (t) => {
  const a = Image.build(cfg, [layer('b')]);
  const b = Image.build({ history: cfg.history, os: 'linux', rootfs: cfg.rootfs, architecture: 'amd64' }, [layer('b')]);
  t.true(a.manifestDigest.equals(b.manifestDigest), 'key order does not change the digest');
  t.is(a.manifest.mediaType, OCI_MANIFEST);
  t.is(a.manifest.config.mediaType, OCI_CONFIG);
  t.deepEqual(a.config.rootfs.diff_ids, [`sha256:${'c'.repeat(64)}`]);
  t.true(Digest.of(a.manifestBytes()).equals(a.manifestDigest));
  t.true(Digest.of(a.configBytes()).equals(a.configDigest));
  t.is(a.layers.length, 1);
  t.true(Object.isFrozen(a.config));
  const again = Image.fromBytes(a.manifestBytes(), a.configBytes());
  t.true(again.manifestDigest.equals(a.manifestDigest));
});

test('validate refuses broken images', (t) => {
  t.throws(() => Image.build(cfg, []), { code: 'INVALID_IMAGE', message: /history has 1 non-empty/ } as never);
  t.throws(() => Image.build({ ...cfg, os: '' }, [layer('b')]), { code: 'INVALID_IMAGE' } as never);
  const good = Image.build(cfg, [layer('b')]);
  const m = JSON.parse(good.manifestBytes().toString()) as { config: { size: number } };
  m.config.size += 1;
  t.throws(() => Image.fromBytes(Buffer.from(JSON.stringify(m)), good.configBytes()), { message: /config size/ });
  t.throws(() => Image.fromBytes(good.manifestBytes(), Buffer.from('{}')), { message: /config digest/ });
  t.throws(() => Image.fromBytes(Buffer.from('[]'), good.configBytes()), { code: 'INVALID_IMAGE' } as never);
});

test('references normalise like docker', (t) => {
  const cases: [string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['user/app:1.0', 'docker.io/user/app:1.0', 'user/app:1.0'],
    ['index.docker.io/library/alpine:3', 'docker.io/library/alpine:3', 'alpine:3'],
    ['localhost:5000/x/y', 'localhost:5000/x/y:latest', 'localhost:5000/x/y:latest'],
    ['quay.io/a/b:v1', 'quay.io/a/b:v1', 'quay.io/a/b:v1'],
    [`busybox@sha256:${HEX}`, `docker.io/library/busybox@sha256:${HEX}`, `busybox@sha256:${HEX}`],
    [`busybox:1@sha256:${HEX}`, `docker.io/library/busybox:1@sha256:${HEX}`, `busybox:1@sha256:${HEX}`],
  ];
  for (const [input, full, familiar] of cases) {
    const r = parseReference(input);
    t.is(r.toString(), full, input);
    t.is(r.familiar(), familiar, input);
  }
  const r = parseReference('busybox');
  t.is(r.registry, 'docker.io');
  t.is(r.repository, 'library/busybox');
  t.is(r.tag, 'latest');
  for (const bad of ['', 'Busybox', 'a:b:c', 'a/../b', 'x@sha256:12', ':tag', 'a//b']) t.throws(() => parseReference(bad), { instanceOf: UsageError }, bad);
});
