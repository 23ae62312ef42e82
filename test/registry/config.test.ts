import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { authKeys, lookupCredentials, storeCredentials } from '../../src/registry/auth-config.js';
import { parseRegistriesToml, resolveEndpoints } from '../../src/registry/registries-config.js';

function tmp(t: { teardown: (f: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-cfg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('credentials: first file that knows the registry wins; namespaced keys; Docker Hub v1 key', async (t) => {
  const dir = tmp(t);
  const a = path.join(dir, 'auth.json');
  const b = path.join(dir, 'config.json');
  const enc = (s: string) => Buffer.from(s).toString('base64');
  fs.writeFileSync(a, JSON.stringify({ auths: { 'reg.example/team': { auth: enc('team:t') } } }));
  fs.writeFileSync(b, JSON.stringify({ auths: { 'https://reg.example': { auth: enc('all:a') }, 'https://index.docker.io/v1/': { auth: enc('hub:h') } } }));
  t.deepEqual(await lookupCredentials('reg.example', 'team/app', [a, b]), { username: 'team', password: 't' });
  t.deepEqual(await lookupCredentials('reg.example', 'other/app', [a, b]), { username: 'all', password: 'a' });
  t.deepEqual(await lookupCredentials('docker.io', 'library/busybox', [a, b]), { username: 'hub', password: 'h' });
  t.is(await lookupCredentials('nowhere.example', 'x', [a, b]), undefined);
  t.deepEqual(authKeys('r.io', 'a/b'), ['r.io/a/b', 'r.io/a', 'r.io']);
});

test('credentials: a missing credential helper is an error that names the helper only', async (t) => {
  const dir = tmp(t);
  const f = path.join(dir, 'c.json');
  fs.writeFileSync(f, JSON.stringify({ credHelpers: { 'gcr.io': 'nbuild-test-absent' } }));
  await t.throwsAsync(lookupCredentials('gcr.io', 'p/x', [f]), { message: /docker-credential-nbuild-test-absent get failed/ });
});

test('storeCredentials keeps other fields, writes 0600, removes on logout', async (t) => {
  const f = path.join(tmp(t), 'sub', 'config.json');
  fs.mkdirSync(path.dirname(f));
  fs.writeFileSync(f, JSON.stringify({ credsStore: 'desktop', auths: { 'x.io': { auth: 'eDp5' } } }));
  t.true(await storeCredentials(f, 'r.io', { username: 'u', password: 'p' }));
  const data = JSON.parse(fs.readFileSync(f, 'utf8')) as { credsStore: string; auths: Record<string, unknown> };
  t.is(data.credsStore, 'desktop');
  t.deepEqual(Object.keys(data.auths).sort(), ['r.io', 'x.io']);
  t.is(fs.statSync(f).mode & 0o777, 0o600);
  t.true(await storeCredentials(f, 'r.io', undefined));
  t.false(await storeCredentials(f, 'r.io', undefined));
});

test('registries.toml: rewrites, mirrors, insecure, blocked, errors with line numbers', (t) => {
  const cfg = parseRegistriesToml(`
insecure-registries = ["plain.internal:5000"] # trailing comment
[[registry]]
prefix = "docker.io"
location = "mirror.internal:5000/dockerhub"
[[registry.mirror]]
location = "fast.internal/hub"
insecure = true
[[registry]]
prefix = "quay.io/bad"
blocked = true
`, 'r.toml');
  t.deepEqual(resolveEndpoints(cfg, 'docker.io', 'library/busybox', { push: false, byDigest: false }), [
    { registry: 'fast.internal', repository: 'hub/library/busybox', insecure: true, mirror: true },
    { registry: 'mirror.internal:5000', repository: 'dockerhub/library/busybox', insecure: false, mirror: false },
  ]);
  t.deepEqual(resolveEndpoints(cfg, 'docker.io', 'library/busybox', { push: true, byDigest: false }).map((e) => e.registry), ['mirror.internal:5000']);
  t.true(resolveEndpoints(cfg, 'plain.internal:5000', 'a', { push: false, byDigest: false })[0].insecure);
  t.false(resolveEndpoints(cfg, 'quay.io', 'badger/x', { push: false, byDigest: false })[0].insecure);
  t.throws(() => resolveEndpoints(cfg, 'quay.io', 'bad/x', { push: false, byDigest: false }), { message: /blocked/ });
  t.true(resolveEndpoints(cfg, 'r.io', 'x', { push: false, byDigest: false, tlsVerify: false })[0].insecure);
  t.throws(() => parseRegistriesToml('[registries.search]\n', 'bad.toml'), { message: /bad\.toml:1: unsupported table/ });
  t.throws(() => parseRegistriesToml('\nprefix = unquoted\n', 'bad.toml'), { message: /bad\.toml:2:/ });
});
