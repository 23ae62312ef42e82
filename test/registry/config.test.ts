import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { authKeys, lookupCredentials, storeCredentials } from '../../src/registry/auth-config.js';
import { configPaths, loadRegistriesConfig, parseRegistriesToml, resolveEndpoints, resolveShortNameEndpoints } from '../../src/registry/registries-config.js';

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
  t.throws(() => parseRegistriesToml('[engine]\n', 'bad.toml'), { message: /bad\.toml:1: unsupported table/ });
  t.throws(() => parseRegistriesToml('\nprefix = unquoted\n', 'bad.toml'), { message: /bad\.toml:2:/ });
});

test('containers-registries.conf(5): search list over several lines, v1 tables, [aliases] read and ignored', (t) => {
  const cfg = parseRegistriesToml(`
unqualified-search-registries = [
  "quay.io",   # first
  "docker.io",
]
short-name-mode = "enforcing"
[[registry]]
location = "quay.io"
[[registry.mirror]]
location = "mirror.internal/quay"
[aliases]
  "centos" = "quay.io/centos/centos"
`, 'c.conf');
  t.deepEqual(cfg.unqualifiedSearch, ['quay.io', 'docker.io']);
  const opts = { push: false, byDigest: false };
  // alpine: quay.io/alpine (its mirror first), then docker.io/library/alpine.
  t.deepEqual(resolveShortNameEndpoints(cfg, 'library/alpine', opts).map((e) => `${e.registry}/${e.repository}`), [
    'mirror.internal/quay/alpine', 'quay.io/alpine', 'docker.io/library/alpine',
  ]);
  t.deepEqual(resolveShortNameEndpoints(cfg, 'user/app', opts).map((e) => `${e.registry}/${e.repository}`), ['mirror.internal/quay/user/app', 'quay.io/user/app', 'docker.io/user/app']);
  // A push of a short name goes to docker.io, as docker; an empty or unset list is docker.io.
  t.deepEqual(resolveShortNameEndpoints(cfg, 'library/alpine', { push: true, byDigest: false }).map((e) => e.registry), ['docker.io']);
  t.deepEqual(resolveShortNameEndpoints({ registries: [], unqualifiedSearch: [] }, 'library/alpine', opts).map((e) => `${e.registry}/${e.repository}`), ['docker.io/library/alpine']);
  // v1: [registries.search|insecure|block].
  const v1 = parseRegistriesToml(`[registries.search]\nregistries = ['one.internal', 'two.internal']\n[registries.insecure]\nregistries = ['two.internal']\n[registries.block]\nregistries = ['one.internal']\n`, 'v1.conf');
  t.deepEqual(v1.unqualifiedSearch, ['one.internal', 'two.internal']);
  const found = resolveShortNameEndpoints(v1, 'library/alpine', opts);
  t.deepEqual(found, [{ registry: 'two.internal', repository: 'alpine', insecure: true, mirror: false }]); // one.internal is blocked
  t.throws(() => resolveShortNameEndpoints({ ...v1, unqualifiedSearch: ['one.internal'] }, 'library/alpine', opts), { message: /one\.internal\/alpine is blocked/ });
});

test('containers-registries.conf(5): which files, in which order; drop-ins and later files win', (t) => {
  const home = tmp(t);
  const other = path.join(tmp(t), 'main.conf');
  const sys = (p: string) => p.startsWith('/etc/');
  // No user file: the system file and both drop-in folders, then nbuild's own files.
  fs.mkdirSync(path.join(home, '.config', 'containers', 'registries.conf.d'), { recursive: true });
  fs.writeFileSync(path.join(home, '.config', 'containers', 'registries.conf.d', 'b.conf'), 'unqualified-search-registries = ["b.internal"]\n');
  fs.writeFileSync(path.join(home, '.config', 'containers', 'registries.conf.d', 'a.conf'), 'unqualified-search-registries = ["a.internal"]\n[[registry]]\nprefix = "x.internal"\nblocked = true\n');
  fs.writeFileSync(path.join(home, '.config', 'containers', 'registries.conf.d', 'skip.txt'), 'not read');
  let paths = configPaths({ HOME: home });
  t.is(paths[0], '/etc/containers/registries.conf');
  const users = paths.filter((p) => !sys(p));
  t.deepEqual(users, [
    path.join(home, '.config/containers/registries.conf.d/a.conf'),
    path.join(home, '.config/containers/registries.conf.d/b.conf'),
    path.join(home, '.config/nbuild/registries.toml'),
  ]);
  const merged = loadRegistriesConfig(users);
  t.deepEqual(merged.unqualifiedSearch, ['b.internal']); // the later drop-in's list
  t.true(merged.registries.some((r) => r.prefix === 'x.internal' && r.blocked));
  // CONTAINERS_REGISTRIES_CONF names the main file.
  paths = configPaths({ HOME: home, CONTAINERS_REGISTRIES_CONF: other });
  t.is(paths[0], other);
  // A user registries.conf is the main file; the system one and its drop-ins are not read.
  fs.writeFileSync(path.join(home, '.config', 'containers', 'registries.conf'), '');
  paths = configPaths({ HOME: home });
  t.is(paths[0], path.join(home, '.config/containers/registries.conf'));
  t.deepEqual(paths.filter((p) => p.startsWith('/etc/containers')), []);
  // NBUILD_REGISTRIES_CONFIG replaces them all.
  t.deepEqual(configPaths({ HOME: home, NBUILD_REGISTRIES_CONFIG: other }), [other]);
});

test("this host's containers files parse (as every pull reads them)", (t) => {
  const files = configPaths({ HOME: tmp(t) }).filter((p) => p.startsWith('/etc/'));
  t.notThrows(() => loadRegistriesConfig(files));
});

test('registries.conf: wildcard prefixes match hosts; pull-from-mirror picks tag or digest references', (t) => {
  const cfg = parseRegistriesToml(`
[[registry]]
prefix = "*.corp.example"
insecure = true
[[registry.mirror]]
location = "cache.internal/corp"
pull-from-mirror = "digest-only"
[[registry]]
prefix = "docker.io"
[[registry.mirror]]
location = "tags.internal"
pull-from-mirror = "tag-only"
[[registry.mirror]]
location = "all.internal"
`, 'w.conf');
  const at = (eps: { registry: string; repository: string }[]) => eps.map((e) => `${e.registry}/${e.repository}`);
  t.deepEqual(at(resolveEndpoints(cfg, 'reg.corp.example', 'team/app', { push: false, byDigest: false })), ['reg.corp.example/team/app']);
  t.true(resolveEndpoints(cfg, 'reg.corp.example', 'team/app', { push: false, byDigest: false })[0].insecure);
  t.deepEqual(at(resolveEndpoints(cfg, 'reg.corp.example', 'team/app', { push: false, byDigest: true })), ['cache.internal/corp/team/app', 'reg.corp.example/team/app']);
  t.false(resolveEndpoints(cfg, 'corp.example.org', 'x', { push: false, byDigest: false })[0].insecure);
  t.deepEqual(at(resolveEndpoints(cfg, 'docker.io', 'library/alpine', { push: false, byDigest: false })), ['tags.internal/library/alpine', 'all.internal/library/alpine', 'docker.io/library/alpine']);
  t.deepEqual(at(resolveEndpoints(cfg, 'docker.io', 'library/alpine', { push: false, byDigest: true })), ['all.internal/library/alpine', 'docker.io/library/alpine']);
  t.throws(() => parseRegistriesToml('[[registry]]\nprefix = "*.x.example"\nlocation = "y.example"\n', 'bad.conf'), { message: /wildcard prefix \*\.x\.example names hosts only/ });
  t.throws(() => parseRegistriesToml('[[registry]]\nprefix = "a.example"\n[[registry.mirror]]\nlocation = "m"\npull-from-mirror = "sometimes"\n', 'bad.conf'), { message: /pull-from-mirror must be/ });
});
