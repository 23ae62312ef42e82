// Interop with real tools: Debian's docker-registry (with and without htpasswd auth)
// and skopeo reading what nbuild pushes / writing what nbuild pulls. Also the CLI commands.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OCI_INDEX } from '../../src/image/media-types.js';
import { pullImage, pushImage } from '../../src/registry/index.js';
import { haveDistribution, startDistribution } from './helpers/distribution.js';
import { makeImage, tempStore } from './helpers/images.js';

const haveSkopeo = fs.existsSync('/usr/bin/skopeo');
const serial = haveDistribution && haveSkopeo ? test.serial : test.serial.skip;
// The registry commands alone (helpers/cli.ts), as bin/nbuild would run them.
const nbuildBin = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'cli.js');
const cfg = { registries: [] };

function tmp(t: { teardown: (f: () => void) => void }, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function nbuild(args: string[], env: Record<string, string>, input?: string) {
  const r = spawnSync(process.execPath, [nbuildBin, ...args], { env: { ...process.env, ...env }, input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

serial('login, push with basic auth, skopeo reads it, pull it back, logout', async (t) => {
  const reg = await startDistribution({ users: { builder: 'correct horse' } });
  t.teardown(() => reg.stop());
  const dir = tmp(t, 'nbuild-auth-');
  const authFile = path.join(dir, 'auth.json');
  const env = { REGISTRY_AUTH_FILE: authFile };

  const bad = nbuild(['login', reg.host, '-u', 'builder', '--password-stdin'], env, 'wrong\n');
  t.is(bad.status, 1);
  t.regex(bad.stderr, /refused/);
  t.notRegex(bad.stderr, /wrong/);
  t.false(fs.existsSync(authFile));
  const ok = nbuild(['login', reg.host, '-u', 'builder', '--password-stdin'], env, 'correct horse\n');
  t.is(ok.status, 0, ok.stderr);
  t.is((fs.statSync(authFile).mode & 0o777), 0o600);

  const store = await tempStore(t);
  const image = await makeImage(store, { hello: 'world', second: 'layer' });
  const name = `${reg.host}/team/app:v1`;
  const { digest } = await pushImage(store, image, name, { authFiles: [authFile], registriesConfig: cfg });
  t.is(digest, image.manifestDigest.toString());
  const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--authfile', authFile, `docker://${name}`]).toString()) as { Digest: string; Layers: string[] };
  t.is(inspect.Digest, digest);
  t.deepEqual(inspect.Layers, image.layers.map((l) => l.digest.toString()));

  const fresh = await tempStore(t);
  const pulled = await pullImage(fresh, name, { authFiles: [authFile], registriesConfig: cfg });
  t.is(pulled.manifestDigest.toString(), digest);
  t.deepEqual(await fresh.readBlob(image.layers[1].digest), await store.readBlob(image.layers[1].digest));

  const out = nbuild(['logout', reg.host], env);
  t.is(out.status, 0, out.stderr);
  const after = JSON.parse(fs.readFileSync(authFile, 'utf8')) as { auths: Record<string, unknown> };
  t.deepEqual(after.auths, {});
  const denied = await t.throwsAsync(pullImage(await tempStore(t), name, { authFiles: [authFile], registriesConfig: cfg }));
  t.regex(denied?.message ?? '', /team\/app:v1.*401/);
});

serial('skopeo copies a multi-platform oci-archive in; nbuild pull (CLI) resolves the host platform', async (t) => {
  const reg = await startDistribution();
  t.teardown(() => reg.stop());
  const store = await tempStore(t);
  const host = await makeImage(store, { arch: 'host' });
  const other = await makeImage(store, { arch: 'other' }, { os: 'linux', architecture: 's390x' });
  const layout = tmp(t, 'nbuild-layout-');
  fs.mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  const put = (bytes: Buffer, hex: string) => fs.writeFileSync(path.join(layout, 'blobs', 'sha256', hex), bytes);
  for (const img of [host, other]) {
    put(img.manifestBytes(), img.manifestDigest.hex);
    put(img.configBytes(), img.configDigest.hex);
    for (const l of img.layers) put(await store.readBlob(l.digest), l.digest.hex);
  }
  const index = {
    schemaVersion: 2, mediaType: OCI_INDEX,
    manifests: [
      { ...other.descriptor(), platform: { os: 'linux', architecture: 's390x' } },
      { ...host.descriptor(), platform: { os: 'linux', architecture: host.config.architecture } },
    ],
  };
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: OCI_INDEX, ...indexDescriptor(layout, index), annotations: { 'org.opencontainers.image.ref.name': 'v2' } }] }));
  fs.writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const archive = path.join(tmp(t, 'nbuild-archive-'), 'multi.tar');
  execFileSync('tar', ['-C', layout, '-cf', archive, '.']);
  execFileSync('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci-archive:${archive}:v2`, `docker://${reg.host}/multi/app:v2`], { stdio: 'pipe' });

  const root = tmp(t, 'nbuild-root-');
  const r = nbuild(['--root', root, 'pull', `${reg.host}/multi/app:v2`], {});
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), host.manifestDigest.toString());
  const s = nbuild(['--root', root, 'pull', '--platform', 'linux/s390x', `${reg.host}/multi/app:v2`], {});
  t.is(s.stdout.trim(), other.manifestDigest.toString());
  const none = nbuild(['--root', root, 'pull', '--platform', 'linux/mips64le', `${reg.host}/multi/app:v2`], {});
  t.is(none.status, 1);
  t.regex(none.stderr, /no image for linux\/mips64le/);
  t.notRegex(none.stderr, /at .*\.js/, 'no stack trace');

  const push = nbuild(['--root', root, 'push', `${reg.host}/multi/app:v2`, `${reg.host}/copied/app:latest`], {});
  t.is(push.status, 0, push.stderr);
  // The last pull (s390x) owns the name now, as with docker.
  t.is(push.stdout.trim(), other.manifestDigest.toString());
  t.regex(push.stderr, /mounted/);
  const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/copied/app:latest`]).toString()) as { Digest: string };
  t.is(inspect.Digest, other.manifestDigest.toString());
});

serial('a fresh store pulls through a rewrite configured in registries.toml', async (t) => {
  const reg = await startDistribution();
  t.teardown(() => reg.stop());
  const store = await tempStore(t);
  const image = await makeImage(store, { f: 'air-gapped' });
  await pushImage(store, image, `${reg.host}/dockerhub/library/busybox:1.36`, { registriesConfig: cfg });
  const conf = path.join(tmp(t, 'nbuild-conf-'), 'registries.toml');
  fs.writeFileSync(conf, `# air gap: Docker Hub lives on the internal mirror\n[[registry]]\nprefix = "docker.io"\nlocation = "${reg.host}/dockerhub"\n`);
  const root = tmp(t, 'nbuild-root-');
  const r = nbuild(['--root', root, 'pull', 'busybox:1.36'], { NBUILD_REGISTRIES_CONFIG: conf });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), image.manifestDigest.toString());
  t.regex(r.stderr, /docker\.io\/library\/busybox:1\.36/);
});

function indexDescriptor(layout: string, index: object): { digest: string; size: number } {
  const bytes = Buffer.from(JSON.stringify(index));
  const hex = createHash('sha256').update(bytes).digest('hex');
  fs.writeFileSync(path.join(layout, 'blobs', 'sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}
