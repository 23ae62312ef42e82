// pullImage / pushImage against the in-process registry: token auth, skipping, mounts,
// index resolution, refusal of corrupt blobs, mirrors and blocked registries.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RegistryError } from '../../src/errors.js';
import { Digest } from '../../src/image/digest.js';
import { OCI_INDEX } from '../../src/image/media-types.js';
import { parseRegistriesToml } from '../../src/registry/registries-config.js';
import { pullImage, pushImage, resolveBaseImage, type PushEvent } from '../../src/registry/index.js';
import { FakeRegistry } from './helpers/fake-registry.js';
import { makeImage, tempStore } from './helpers/images.js';

const retry = { attempts: 4, baseDelayMs: 5, maxDelayMs: 40 };

function authFile(t: { teardown: (f: () => void) => void }, host: string, user: string, pass: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-auth-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'auth.json');
  fs.writeFileSync(file, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } } }));
  return file;
}

test('push then pull through token auth; second push skips; another repository mounts', async (t) => {
  const reg = await new FakeRegistry({ auth: 'bearer', users: { ci: 'pw' } }).start();
  t.teardown(() => reg.close());
  const authFiles = [authFile(t, reg.host, 'ci', 'pw')];
  const src = await tempStore(t);
  const image = await makeImage(src, { a: 'one', b: 'two' });
  const name = `${reg.host}/team/app:v1`;
  await src.tag(name, image);
  const events: PushEvent[] = [];
  const opts = { authFiles, retry, registriesConfig: { registries: [] }, onProgress: (e: PushEvent) => events.push(e) };
  const { digest } = await pushImage(src, image, name, opts);
  t.is(digest, image.manifestDigest.toString());
  t.is(events.filter((e) => e.kind === 'blob' && e.outcome === 'uploaded').length, 3);

  events.length = 0;
  await pushImage(src, image, name, opts);
  t.is(events.filter((e) => e.kind === 'blob' && e.outcome === 'exists').length, 3);

  events.length = 0;
  await pushImage(src, image, `${reg.host}/team/copy:v1`, opts);
  t.is(events.filter((e) => e.kind === 'blob' && e.outcome === 'mounted').length, 3, 'mounted from team/app');

  const dst = await tempStore(t);
  const pulled = await pullImage(dst, name, { authFiles, retry, registriesConfig: { registries: [] } });
  t.is(pulled.manifestDigest.toString(), digest);
  for (const l of pulled.layers) t.true(await dst.hasBlob(l.digest));
  t.is((await dst.getImage(name))?.manifestDigest.toString(), digest);
  const byDigest = await pullImage(dst, `${reg.host}/team/app@${digest}`, { authFiles, retry, registriesConfig: { registries: [] } });
  t.is(byDigest.manifestDigest.toString(), digest);
});

test('a multi-platform index resolves to the host, or --platform, or a clear error', async (t) => {
  const reg = await new FakeRegistry().start();
  t.teardown(() => reg.close());
  const src = await tempStore(t);
  const host = await makeImage(src, { f: 'host' });
  const other = await makeImage(src, { f: 'other' }, { os: 'linux', architecture: 's390x' });
  const cfg = { registries: [] };
  await pushImage(src, host, `${reg.host}/multi:host`, { retry, registriesConfig: cfg });
  await pushImage(src, other, `${reg.host}/multi:other`, { retry, registriesConfig: cfg });
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_INDEX,
    manifests: [
      { ...other.descriptor(), platform: { os: 'linux', architecture: 's390x' } },
      { ...host.descriptor(), platform: { os: host.config.os, architecture: host.config.architecture, variant: host.config.variant } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: Digest.of('x').toString(), size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
    ],
  }));
  reg.addManifest('multi', 'latest', index, OCI_INDEX);
  const dst = await tempStore(t);
  t.is((await pullImage(dst, `${reg.host}/multi`, { retry, registriesConfig: cfg })).manifestDigest.toString(), host.manifestDigest.toString());
  const s390 = await pullImage(dst, `${reg.host}/multi`, { retry, registriesConfig: cfg, platform: { os: 'linux', architecture: 's390x' } });
  t.is(s390.manifestDigest.toString(), other.manifestDigest.toString());
  await t.throwsAsync(pullImage(dst, `${reg.host}/multi`, { retry, registriesConfig: cfg, platform: { os: 'linux', architecture: 'mips64le' } }), {
    message: /has no image for linux\/mips64le \(it has: linux\/s390x, linux\//,
  });
  await t.throwsAsync(pullImage(dst, `${reg.host}/multi:other`, { retry, registriesConfig: cfg }), { message: /is a linux\/s390x image.*--platform linux\/s390x/ });
});

test('a corrupt layer from the registry fails the pull and is not stored', async (t) => {
  const reg = await new FakeRegistry().start();
  t.teardown(() => reg.close());
  const src = await tempStore(t);
  const image = await makeImage(src, { a: 'payload' });
  const cfg = { registries: [] };
  await pushImage(src, image, `${reg.host}/bad:v1`, { retry, registriesConfig: cfg });
  reg.faults = [{ method: 'GET', path: image.layers[0].digest.toString(), action: 'corrupt', times: 10 }];
  const dst = await tempStore(t);
  await t.throwsAsync(pullImage(dst, `${reg.host}/bad:v1`, { retry, registriesConfig: cfg }), { instanceOf: RegistryError, message: /refused/ });
  t.false(await dst.hasBlob(image.layers[0].digest));
  t.is(await dst.getImage(`${reg.host}/bad:v1`), undefined);
});

test('mirrors are tried first, a dead mirror falls through, and the image keeps its own name', async (t) => {
  const reg = await new FakeRegistry().start();
  t.teardown(() => reg.close());
  const src = await tempStore(t);
  const image = await makeImage(src, { m: 'mirrored' });
  await pushImage(src, image, `${reg.host}/hub/library/alpine:3`, { retry, registriesConfig: { registries: [] } });
  const config = parseRegistriesToml(`
[[registry]]
prefix = "docker.io"
location = "${reg.host}/unused"

[[registry.mirror]]
location = "127.0.0.1:1/dead"

[[registry.mirror]]
location = "${reg.host}/hub"
`, 'test.toml');
  const dst = await tempStore(t);
  const pulled = await pullImage(dst, 'alpine:3', { retry, registriesConfig: config });
  t.is(pulled.manifestDigest.toString(), image.manifestDigest.toString());
  t.truthy(await dst.getImage('docker.io/library/alpine:3'));
  t.is(reg.count('GET', '/v2/unused/'), 0);
  const again = await resolveBaseImage(dst, 'alpine:3', { pull: false, retry, registriesConfig: config });
  t.is(again.manifestDigest.toString(), image.manifestDigest.toString());
  const before = reg.log.length;
  await resolveBaseImage(dst, 'alpine:3', { pull: false, retry, registriesConfig: config });
  t.is(reg.log.length, before, 'the stored image is used without asking the registry');
});

test('blocked registries are refused before any request', async (t) => {
  const config = parseRegistriesToml('blocked-registries = ["evil.example.com"]\n', 'x.toml');
  const dst = await tempStore(t);
  await t.throwsAsync(pullImage(dst, 'evil.example.com/x:1', { retry, registriesConfig: config }), { message: /blocked/ });
});
