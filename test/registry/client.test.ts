import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RegistryError } from '../../src/errors.js';
import { parseChallenges } from '../../src/registry/auth.js';
import { RegistryClient } from '../../src/registry/client.js';
import { parseRetryAfter } from '../../src/registry/retry.js';
import { FakeRegistry, type FakeRegistryOptions } from './helpers/fake-registry.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const fastRetry = { attempts: 4, baseDelayMs: 5, maxDelayMs: 40 };
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function setup(t: { teardown: (f: () => Promise<void> | void) => void }, opts: FakeRegistryOptions = {}) {
  const reg = await new FakeRegistry(opts).start();
  t.teardown(() => reg.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-client-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { reg, dir };
}

test('parseChallenges reads Bearer and Basic challenges with quoted commas', (t) => {
  const got = parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push", Basic realm="x"');
  t.deepEqual(got, [
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } },
    { scheme: 'basic', params: { realm: 'x' } },
  ]);
});

test('parseRetryAfter reads seconds and HTTP dates and caps them', (t) => {
  t.is(parseRetryAfter('2'), 2000);
  t.is(parseRetryAfter('100000'), 60_000);
  t.is(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1)), 10_000);
  t.is(parseRetryAfter('soon'), undefined);
});

test('anonymous: manifest by tag and by digest, blob streamed and verified', async (t) => {
  const { reg, dir } = await setup(t);
  const blob = randomBytes(100_000);
  const d = reg.addBlob('lib/app', blob);
  const man = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }));
  const md = reg.addManifest('lib/app', 'v1', man, OCI_MANIFEST);
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry });
  const byTag = await client.getManifest('lib/app', 'v1');
  t.is(byTag.digest, md);
  t.is(byTag.mediaType, OCI_MANIFEST);
  t.deepEqual((await client.getManifest('lib/app', md)).bytes, man);
  t.is((await client.headManifest('lib/app', 'v1'))?.digest, md);
  t.is(await client.headManifest('lib/app', 'nope'), undefined);
  const dest = path.join(dir, 'blob');
  let progress = 0;
  await client.fetchBlob('lib/app', d, dest, { size: blob.length, onProgress: (n) => (progress += n) });
  t.deepEqual(fs.readFileSync(dest), blob);
  t.is(progress, blob.length);
});

test('bearer: a token per repository scope; anonymous denial names the reference, not the secret', async (t) => {
  const { reg } = await setup(t, { auth: 'bearer', users: { alice: 's3cret-pw' } });
  const man = Buffer.from('{"schemaVersion":2}');
  reg.addManifest('team/app', 'latest', man, OCI_MANIFEST);
  const anon = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry });
  const err = await t.throwsAsync(anon.getManifest('team/app', 'latest'), { instanceOf: RegistryError });
  t.is(err?.status, 401);
  t.regex(err?.message ?? '', /team\/app:latest/);

  const bad = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry, credentials: { username: 'alice', password: 'wrong-pw' } });
  const badErr = await t.throwsAsync(bad.getManifest('team/app', 'latest'), { instanceOf: RegistryError });
  t.notRegex(badErr?.message ?? '', /wrong-pw|alice:/);

  const alice = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry, credentials: { username: 'alice', password: 's3cret-pw' } });
  t.deepEqual((await alice.getManifest('team/app', 'latest')).bytes, man);
  await alice.getManifest('team/app', 'latest');
  const asked = reg.tokenRequests.filter((r) => r.user === 'alice').map((r) => r.scopes.join(' '));
  t.deepEqual(asked, ['repository:team/app:pull'], 'one token, cached, scoped to the repository');
});

test('bearer: anonymous pull where the token server allows it', async (t) => {
  const { reg } = await setup(t, { auth: 'bearer', anonymousPull: true });
  reg.addManifest('pub/x', '1', Buffer.from('{}'), OCI_MANIFEST);
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry });
  t.is((await client.getManifest('pub/x', '1')).bytes.toString(), '{}');
});

test('basic auth is sent when /v2/ asks for it', async (t) => {
  const { reg } = await setup(t, { auth: 'basic', users: { bob: 'pw' } });
  reg.addManifest('a/b', 't', Buffer.from('{}'), OCI_MANIFEST);
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry, credentials: { username: 'bob', password: 'pw' } });
  await client.getManifest('a/b', 't');
  t.true(reg.log.some((l) => l.authorization?.startsWith('Basic ')));
});

test('retries: dropped connections, 500s and a drop mid-body', async (t) => {
  const { reg, dir } = await setup(t);
  const blob = randomBytes(300_000);
  const d = reg.addBlob('r', blob);
  reg.faults = [
    { method: 'GET', path: '/blobs/', action: 'drop' },
    { method: 'GET', path: '/blobs/', action: { status: 503 } },
    { method: 'GET', path: '/blobs/', action: 'drop-mid-body' },
  ];
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry });
  const dest = path.join(dir, 'b');
  await client.fetchBlob('r', d, dest);
  t.is(sha(fs.readFileSync(dest)), d);
  t.is(reg.count('GET', `/blobs/${d}`), 4);
});

test('retries: 429 honours Retry-After', async (t) => {
  const { reg } = await setup(t);
  reg.addManifest('r', 't', Buffer.from('{}'), OCI_MANIFEST);
  reg.faults = [{ path: '/manifests/', action: { status: 429, headers: { 'retry-after': '1' } } }];
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry });
  const start = Date.now();
  await client.getManifest('r', 't');
  t.true(Date.now() - start >= 950, 'waited for Retry-After');
});

test('retries give up with a temporary RegistryError after the last attempt', async (t) => {
  const { reg } = await setup(t);
  reg.faults = [{ path: '/manifests/', action: { status: 500 }, times: 10 }];
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry });
  const err = await t.throwsAsync(client.getManifest('r', 't'), { instanceOf: RegistryError });
  t.true(err?.temporary);
  t.is(err?.status, 500);
  t.is(reg.count('GET', '/manifests/'), 4);
});

test('a blob with the wrong digest is refused and not kept', async (t) => {
  const { reg, dir } = await setup(t);
  const d = reg.addBlob('r', randomBytes(1000));
  reg.faults = [{ method: 'GET', path: '/blobs/', action: 'corrupt', times: 10 }];
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry });
  const dest = path.join(dir, 'b');
  const err = await t.throwsAsync(client.fetchBlob('r', d, dest), { instanceOf: RegistryError });
  t.regex(err?.message ?? '', /refused/);
  t.false(fs.existsSync(dest));
  t.is(reg.count('GET', '/blobs/'), 1, 'a wrong digest is not retried');
});

test('a manifest whose digest does not match the reference is refused', async (t) => {
  const { reg } = await setup(t);
  const fake = 'sha256:' + '0'.repeat(64);
  reg.manifests.set(`r@${fake}`, { bytes: Buffer.from('{}'), mediaType: OCI_MANIFEST });
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry });
  await t.throwsAsync(client.getManifest('r', fake), { message: /digest/ });
});

test('uploads: monolithic, chunked, skip existing, cross-repository mount, manifest', async (t) => {
  const { reg, dir } = await setup(t, { auth: 'bearer', users: { u: 'p' } });
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry, credentials: { username: 'u', password: 'p' }, chunkSize: 64 * 1024 });
  const small = randomBytes(1000);
  const big = randomBytes(200_000);
  const files = [small, big].map((b, i) => {
    const p = path.join(dir, `f${i}`);
    fs.writeFileSync(p, b);
    return { path: p, digest: sha(b), size: b.length };
  });
  t.false(await client.hasBlob('dst/app', files[0].digest));
  t.is(await client.uploadBlob('dst/app', files[0]), 'uploaded');
  t.is(await client.uploadBlob('dst/app', files[1]), 'uploaded');
  t.deepEqual(reg.blobs.get(files[1].digest), big);
  t.is(reg.count('PATCH', '/blobs/uploads/'), 4, '200 kB in 64 kB chunks');
  t.true(await client.hasBlob('dst/app', files[0].digest));
  t.is(await client.uploadBlob('other/app', files[1], { mountFrom: 'dst/app' }), 'mounted');
  t.true(reg.repoBlobs.get('other/app')?.has(files[1].digest));
  const man = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST }));
  t.is(await client.putManifest('dst/app', 'v1', man, OCI_MANIFEST), sha(man));
  t.deepEqual(reg.manifests.get('dst/app@v1')?.bytes, man);
});

test('uploads are restarted after a transient failure', async (t) => {
  const { reg, dir } = await setup(t);
  const data = randomBytes(5000);
  const p = path.join(dir, 'x');
  fs.writeFileSync(p, data);
  reg.faults = [{ method: 'PUT', path: '/uploads/', action: { status: 502 } }];
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry });
  await client.uploadBlob('r', { path: p, digest: sha(data), size: data.length });
  t.deepEqual(reg.blobs.get(sha(data)), data);
  t.is(reg.count('POST', '/uploads/'), 2);
});

test('an unreachable registry is a clear error', async (t) => {
  const client = new RegistryClient({ registry: '127.0.0.1:1', insecure: true, retry: fastRetry });
  await t.throwsAsync(client.getManifest('x', 'y'), { instanceOf: RegistryError, message: /cannot reach registry 127\.0\.0\.1:1/ });
});

test('timeouts: a manifest dripped a byte at a time fails at the deadline, retries included', async (t) => {
  const { reg } = await setup(t, { dripMs: 20 });
  const man = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [], padding: 'x'.repeat(500) }));
  reg.addManifest('r', 't', man, OCI_MANIFEST);
  reg.faults = [{ path: '/manifests/', action: 'drip', times: 100 }];
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry, timeouts: { requestMs: 600 } });
  const started = Date.now();
  const err = await t.throwsAsync(client.getManifest('r', 't'), { instanceOf: RegistryError });
  t.regex(err?.message ?? '', new RegExp(`^${reg.host}/r:t: no complete answer within 0.6 s \\(NBUILD_REGISTRY_TIMEOUT\\)$`));
  t.deepEqual(err?.codes, ['TIMEOUT']);
  t.false(err?.temporary);
  t.true(Date.now() - started < 2000, `${Date.now() - started} ms`);
  t.is(reg.count('GET', '/manifests/'), 1, 'a passed deadline is not retried');
});

test('timeouts: a blob that stalls is retried, then fails naming registry, repository and digest', async (t) => {
  const { reg, dir } = await setup(t);
  const blob = randomBytes(200_000);
  const d = reg.addBlob('lib/app', blob);
  reg.faults = [{ path: '/blobs/', action: 'stall', times: 100 }];
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry, timeouts: { stallMs: 300 } });
  const dest = path.join(dir, 'b');
  const err = await t.throwsAsync(client.fetchBlob('lib/app', d, dest), { instanceOf: RegistryError });
  t.is(err?.message, `${reg.host}/lib/app@${d}: download stalled: no data for 0.3 s (NBUILD_REGISTRY_STALL_TIMEOUT)`);
  t.deepEqual(err?.codes, ['STALLED']);
  t.is(reg.count('GET', `/blobs/${d}`), 4, 'a stall is retried like a dropped connection');
  t.false(fs.existsSync(dest));
  // A slow but steady blob is not a stall.
  reg.faults = [{ path: '/blobs/', action: 'drip', times: 1 }];
  const small = reg.addBlob('lib/app', Buffer.from('0123456789'));
  await client.fetchBlob('lib/app', small, dest);
  t.is(fs.readFileSync(dest, 'utf8'), '0123456789');
});

test('timeouts: a token server that drips fails at the deadline naming the token', async (t) => {
  const { reg } = await setup(t, { auth: 'bearer', anonymousPull: true, dripMs: 50 });
  reg.addManifest('r', 't', Buffer.from('{}'), OCI_MANIFEST);
  reg.faults = [{ path: '/token', action: 'drip', times: 100 }];
  const client = new RegistryClient({ registry: reg.host, insecure: true, retry: fastRetry, timeouts: { requestMs: 500 } });
  const err = await t.throwsAsync(client.getManifest('r', 't'), { instanceOf: RegistryError });
  t.regex(err?.message ?? '', /token for repository:r:pull: no complete answer within 0.5 s/);
});
