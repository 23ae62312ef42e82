// SPEC §Registries in builds, through the API (build()), against Debian's
// docker-registry on 127.0.0.1: FROM pulls into a fresh store, a registries.toml rewrite
// stands in for Docker Hub (air gap), --pull re-resolves, -o type=registry pushes, and a dead
// registry is one clear error.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectImages, listImages } from '../../src/index.js';
import { apiBuild } from '../helpers/api-build.js';
import { busyboxImage, hasCommand, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { openOciArchive } from '../helpers/oci.js';
import { freePort, haveDistribution, startDistribution, type Distribution } from '../registry/helpers/distribution.js';

const serial = haveDistribution && hasCommand('skopeo') ? test.serial : test.serial.skip;

/** No user or system registries.toml leaks into these tests. */
function registriesConfig(text = ''): string {
  const file = path.join(tempDir('regconf'), 'registries.toml');
  fs.writeFileSync(file, text);
  return file;
}

function skopeoPush(reg: Distribution, archive: string, dest: string): void {
  execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${reg.host}/${dest}`], { stdio: 'pipe' });
}

function skopeoDigest(ref: string): string {
  return (JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]).toString()) as { Digest: string }).Digest;
}

/** Builds `FROM from` + one RUN into a store; returns the result and the number of layers of the image. */
async function buildFrom(root: string, from: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<{ code: number; stderr: string; layers: number }> {
  const ctx = tempDir('regctx');
  writeFiles(ctx, { Dockerfile: `FROM ${from}\nRUN echo built > /built\n` });
  const out = path.join(tempDir('regout'), 'image.tar');
  const r = await apiBuild(root, ctx, ['-o', `type=oci,dest=${out}`, ...extra], { env });
  return { code: r.code, stderr: r.stderr, layers: r.code === 0 ? openOciArchive(out).manifest.layers.length : 0 };
}

let reg: Distribution;
test.before(async () => {
  if (!haveDistribution) return;
  reg = await startDistribution();
  skopeoPush(reg, busyboxImage(), 'library/busybox:latest');
});
test.after.always(async () => {
  await reg?.stop();
});

serial('a fresh store builds FROM 127.0.0.1:PORT/library/busybox:latest, pulling it', async (t) => {
  const env = { NBUILD_REGISTRIES_CONFIG: registriesConfig() };
  const root = tempDir('reg-store');
  const r = await buildFrom(root, `${reg.host}/library/busybox:latest`, env);
  t.is(r.code, 0, r.stderr);
  t.is(r.layers, 2);
  const images = await listImages({ storeRoot: root });
  const pulled = images.find((i) => i.repository === `${reg.host}/library/busybox`);
  t.truthy(pulled, JSON.stringify(images));
  t.is(pulled?.digest, skopeoDigest(`${reg.host}/library/busybox:latest`));
});

serial('air gap: registries.toml rewrites docker.io to the local registry; FROM busybox:latest builds', async (t) => {
  const env = { NBUILD_REGISTRIES_CONFIG: registriesConfig(`[[registry]]\nprefix = "docker.io"\nlocation = "${reg.host}"\n`) };
  const root = tempDir('airgap-store');
  const r = await buildFrom(root, 'busybox:latest', env);
  t.is(r.code, 0, r.stderr);
  t.is(r.layers, 2);
  // Stored under its own name, not the mirror's.
  const [inspect] = await inspectImages({ storeRoot: root, images: ['docker.io/library/busybox:latest'] });
  t.truthy(inspect);
});

serial('--pull re-resolves a tag that moved; without it the stored image is used', async (t) => {
  const env = { NBUILD_REGISTRIES_CONFIG: registriesConfig() };
  const ref = `${reg.host}/moving/base:latest`;
  skopeoPush(reg, busyboxImage(), 'moving/base:latest');
  const root = tempDir('pull-store');
  const first = await buildFrom(root, ref, env);
  t.is(first.code, 0, first.stderr);
  t.is(first.layers, 2);
  // Move the tag to an image with one more layer, built and pushed by nbuild itself (-o type=registry).
  const other = tempDir('pull-other');
  const ctx = tempDir('pull-ctx');
  writeFiles(ctx, { Dockerfile: `FROM oci-archive:${busyboxImage()}\nRUN echo moved > /moved\n` });
  const push = await apiBuild(other, ctx, ['-t', ref, '-o', 'type=registry'], { env });
  t.is(push.code, 0, push.stderr);
  const cached = await buildFrom(root, ref, env);
  t.is(cached.code, 0, cached.stderr);
  t.is(cached.layers, 2, 'without --pull the stored base is used');
  const pulled = await buildFrom(root, ref, env, ['--pull']);
  t.is(pulled.code, 0, pulled.stderr);
  t.is(pulled.layers, 3, '--pull takes the moved tag');
});

serial('-o type=registry pushes every -t name; skopeo inspects it', async (t) => {
  const env = { NBUILD_REGISTRIES_CONFIG: registriesConfig() };
  const root = tempDir('push-store');
  const ctx = tempDir('push-ctx');
  writeFiles(ctx, { Dockerfile: `FROM ${reg.host}/library/busybox:latest\nRUN echo app > /app\nLABEL app=one\n` });
  const metadata = path.join(tempDir('push-meta'), 'meta.json');
  const r = await apiBuild(root, ctx, ['-t', `${reg.host}/app:1`, '-t', `${reg.host}/app:latest`, '-o', 'type=registry', '--metadata-file', metadata], { env });
  t.is(r.code, 0, r.stderr);
  const digest = (JSON.parse(fs.readFileSync(metadata, 'utf8')) as Record<string, string>)['containerimage.digest'];
  const info = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/app:1`]).toString()) as { Digest: string; Layers: string[]; Labels: Record<string, string> };
  t.is(info.Digest, digest);
  t.is(info.Layers.length, 2);
  t.is(info.Labels.app, 'one');
  t.is(skopeoDigest(`${reg.host}/app:latest`), digest);
});

serial('a dead registry is one clear error naming the reference, exit 1, no stack trace', async (t) => {
  const env = { NBUILD_REGISTRIES_CONFIG: registriesConfig() };
  const dead = `127.0.0.1:${await freePort()}/library/busybox:latest`;
  const r = await buildFrom(tempDir('dead-store'), dead, env);
  t.is(r.code, 1, r.stderr);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('nbuild:'));
  t.is(errors.length, 1, r.stderr);
  t.true(errors[0].includes(dead), r.stderr);
  t.notRegex(r.stderr, /\n\s+at |internal error/, 'no stack trace');
});
