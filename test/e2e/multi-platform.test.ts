// Multi-platform builds (issue 17), through bin/nbuild as an unprivileged user: --platform lists
// give one OCI image index; FROM --platform=$BUILDPLATFORM cross builds need no emulator; a
// foreign RUN runs under qemu (a binfmt_misc handler with the F flag, registered by
// scripts/setup-host.sh) or fails before it starts; FROM of an index takes the stage's platform.
// The arm64 base is Debian's busybox-static:arm64, packed by scripts/make-busybox-image.sh.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { busyboxImage, hasCommand, nbuild, projectRoot, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { haveDistribution, startDistribution } from '../registry/helpers/distribution.js';

function arm64Busybox(): string | undefined {
  const out = path.join(tempDir('busybox-arm64'), 'busybox-arm64.oci.tar');
  try {
    execFileSync('bash', [path.join(projectRoot, 'scripts', 'make-busybox-image.sh'), out, 'latest', 'arm64'], { stdio: 'pipe' });
    return out;
  } catch (e) {
    console.error(`multi-platform tests skipped: no arm64 busybox (${(e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e)}); run scripts/setup-host.sh as root`);
    return undefined;
  }
}

/** An enabled qemu-aarch64 handler with the F flag: what emulated RUN needs. */
function haveArm64Emulation(): boolean {
  const dir = '/proc/sys/fs/binfmt_misc';
  try {
    for (const name of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, name), 'utf8');
      if (/^enabled/.test(text) && /^flags: .*F/m.test(text) && /^magic 7f454c460201010000000000000000000200b700/m.test(text)) return true;
    }
  } catch {
    // binfmt_misc not mounted
  }
  console.error('emulated RUN tests skipped: no qemu-aarch64 binfmt_misc handler with the F flag (scripts/setup-host.sh registers it)');
  return false;
}

const arm64Archive = arm64Busybox();
const base = arm64Archive ? test : test.skip;
const emulated = arm64Archive && haveArm64Emulation() ? test : test.skip;
const PLATFORMS = 'linux/amd64,linux/arm64';

/** A store with busybox:amd64 and busybox:arm64. */
async function storeWithBoth(): Promise<string> {
  const root = tempDir('store');
  for (const [archive, tag] of [[busyboxImage(), 'busybox:amd64'], [arm64Archive ?? '', 'busybox:arm64']]) {
    const r = await nbuild(['--root', root, 'load', '-i', archive, '-t', tag]);
    if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  }
  return root;
}

function readJsonBlob(layoutDir: string, digest: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(layoutDir, 'blobs', 'sha256', digest.replace('sha256:', '')), 'utf8')) as Record<string, unknown>;
}

interface IndexDoc {
  mediaType: string;
  manifests: { digest: string; mediaType: string; platform?: { architecture: string; os: string; variant?: string } }[];
}

/** The cross pattern: the builder stage runs natively for $TARGETARCH; the final stage only copies. */
const CROSS = `FROM --platform=$BUILDPLATFORM busybox:amd64 AS build
ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT
RUN echo "T=$TARGETPLATFORM/$TARGETOS/$TARGETARCH/$TARGETVARIANT B=$BUILDPLATFORM/$BUILDOS/$BUILDARCH/$BUILDVARIANT m=$(uname -m)" > /values
FROM busybox:$TARGETARCH
COPY --from=build /values /values
`;

base('the cross pattern needs no emulator: two platforms, one index, the platform ARGs', async (t) => {
  const root = await storeWithBoth();
  const ctx = tempDir('ctx');
  writeFiles(ctx, { Dockerfile: CROSS });
  const out = tempDir('out');
  const noBinfmt = tempDir('binfmt'); // no handlers at all
  const r = await nbuild(['--root', root, 'build', '--progress', 'plain', '--platform', PLATFORMS, '-t', 'cross:1',
    '-o', `type=oci-layout,dest=${path.join(out, 'layout')}`, '-o', `type=local,dest=${path.join(out, 'files')}`, ctx], { env: { NBUILD_BINFMT_DIR: noBinfmt } });
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.stderr, /emulated/);
  // The platforms' steps share one numbering: progress tells them apart by id.
  const ids = [...r.stderr.matchAll(/^#(\d+) \[/gm)].map((m) => m[1]);
  t.is(ids.length, 6, r.stderr);
  t.is(new Set(ids).size, ids.length, r.stderr);
  t.is(fs.readFileSync(path.join(out, 'files', 'linux_amd64', 'values'), 'utf8'), 'T=linux/amd64/linux/amd64/ B=linux/amd64/linux/amd64/ m=x86_64\n');
  t.is(fs.readFileSync(path.join(out, 'files', 'linux_arm64', 'values'), 'utf8'), 'T=linux/arm64/linux/arm64/ B=linux/amd64/linux/amd64/ m=x86_64\n');
  // index.json → the image index → one manifest per platform, each config of its platform.
  const layout = path.join(out, 'layout');
  const top = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as IndexDoc;
  t.is(top.manifests.length, 1);
  t.is(top.manifests[0].mediaType, 'application/vnd.oci.image.index.v1+json');
  const index = readJsonBlob(layout, top.manifests[0].digest) as unknown as IndexDoc;
  t.deepEqual(index.manifests.map((m) => m.platform), [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux' }]);
  for (const m of index.manifests) {
    const manifest = readJsonBlob(layout, m.digest) as { config: { digest: string } };
    t.is((readJsonBlob(layout, manifest.config.digest) as { architecture: string }).architecture, m.platform?.architecture ?? '');
  }
  t.is(r.stdout.trim(), top.manifests[0].digest, 'build prints the index digest');
  // The store keeps the index under the tag: images lists its platforms, inspect shows both.
  const images = await nbuild(['--root', root, 'images']);
  t.regex(images.stdout, /cross\s+1\s+\S+\s+linux\/amd64,linux\/arm64/);
  const inspect = JSON.parse((await nbuild(['--root', root, 'inspect', 'cross:1'])).stdout) as { Platforms: string[]; Manifests: { Architecture: string }[] }[];
  t.deepEqual(inspect[0].Platforms, ['linux/amd64', 'linux/arm64']);
  t.deepEqual(inspect[0].Manifests.map((m) => m.Architecture), ['amd64', 'arm64']);
});

base('a RUN for a platform with no binfmt handler fails before anything runs, naming the fix', async (t) => {
  const root = await storeWithBoth();
  const ctx = tempDir('ctx');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:$TARGETARCH\nRUN echo started > /started\n' });
  const binfmt = tempDir('binfmt'); // binfmt_misc mounted, no handler registered
  fs.writeFileSync(path.join(binfmt, 'status'), 'enabled\n');
  const r = await nbuild(['--root', root, 'build', '--progress', 'plain', '--platform', PLATFORMS, ctx], { env: { NBUILD_BINFMT_DIR: binfmt } });
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /Dockerfile:2: RUN for linux\/arm64 cannot run on this linux\/amd64 host: no binfmt_misc handler for arm64 programs .*apt-get install qemu-user-static.*update-binfmts --enable qemu-aarch64/);
  t.notRegex(r.stderr, /#\d+ \[/, 'no step started');
  t.notRegex(r.stderr, /at .*\.js:\d+/, 'no stack trace');
});

emulated('two platforms with a RUN in each: the arm64 RUN runs under qemu and sees aarch64', async (t) => {
  const root = await storeWithBoth();
  const ctx = tempDir('ctx');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:$TARGETARCH\nRUN uname -m > /arch && cat /arch\n' });
  const out = tempDir('out');
  const archive = path.join(out, 'image.oci.tar');
  const r = await nbuild(['--root', root, 'build', '--progress', 'plain', '--platform', PLATFORMS, '-t', 'two:1',
    '-o', `type=oci,dest=${archive}`, '-o', `type=local,dest=${path.join(out, 'files')}`, ctx]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /\[linux\/arm64 stage-0 2\/2\] RUN uname -m > \/arch && cat \/arch {2}\(emulated: qemu-aarch64\)/);
  t.regex(r.stderr, /\[linux\/amd64 stage-0 2\/2\] RUN uname -m > \/arch && cat \/arch\n/);
  t.is(fs.readFileSync(path.join(out, 'files', 'linux_arm64', 'arch'), 'utf8'), 'aarch64\n');
  t.is(fs.readFileSync(path.join(out, 'files', 'linux_amd64', 'arch'), 'utf8'), 'x86_64\n');
  if (hasCommand('skopeo')) {
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${archive}`]).toString()) as IndexDoc;
    t.is(raw.mediaType, 'application/vnd.oci.image.index.v1+json');
    t.deepEqual(raw.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`), ['linux/amd64', 'linux/arm64']);
  }
});

base('FROM of an index takes the stage platform; a missing platform names what the index has', async (t) => {
  const root = await storeWithBoth();
  const ctx = tempDir('ctx');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:$TARGETARCH\nCOPY hello /hello\n', hello: 'hi\n' });
  const archive = path.join(tempDir('out'), 'base.oci.tar');
  const made = await nbuild(['--root', root, 'build', '--progress', 'plain', '--platform', PLATFORMS, '-t', 'base:multi', '-o', `type=oci,dest=${archive}`, ctx]);
  t.is(made.code, 0, made.stderr);
  for (const from of ['base:multi', `oci-archive:${archive}`]) {
    const ctx2 = tempDir('ctx');
    writeFiles(ctx2, { Dockerfile: `FROM ${from}\nLABEL from=index\n` });
    const layout = path.join(tempDir('out'), 'layout');
    const r = await nbuild(['--root', root, 'build', '--progress', 'plain', '--platform', 'linux/arm64', '-o', `type=oci-layout,dest=${layout}`, ctx2]);
    t.is(r.code, 0, r.stderr);
    const top = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as IndexDoc;
    const manifest = readJsonBlob(layout, top.manifests[0].digest) as { config: { digest: string } };
    t.is((readJsonBlob(layout, manifest.config.digest) as { architecture: string }).architecture, 'arm64', from);
    const missing = await nbuild(['--root', root, 'build', '--progress', 'plain', '--platform', 'linux/s390x', ctx2]);
    t.is(missing.code, 1);
    t.regex(missing.stderr, /has no image for linux\/s390x \(it has: linux\/amd64, linux\/arm64\)/, from);
  }
});

base('the same inputs give the same index digest twice (SOURCE_DATE_EPOCH)', async (t) => {
  const digests: string[] = [];
  for (let i = 0; i < 2; i++) {
    const root = await storeWithBoth();
    const ctx = tempDir('ctx');
    writeFiles(ctx, { Dockerfile: CROSS });
    const r = await nbuild(['--root', root, 'build', '--progress', 'plain', '--platform', PLATFORMS, ctx], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    t.is(r.code, 0, r.stderr);
    digests.push(r.stdout.trim());
  }
  t.regex(digests[0], /^sha256:[0-9a-f]{64}$/);
  t.is(digests[0], digests[1]);
});

base('a multi-platform build refuses a docker output before building', async (t) => {
  const root = await storeWithBoth();
  const ctx = tempDir('ctx');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:$TARGETARCH\n' });
  const r = await nbuild(['--root', root, 'build', '--platform', PLATFORMS, '-o', `type=docker,dest=${path.join(tempDir('out'), 'd.tar')}`, ctx]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /type=docker.*one platform/);
});

/** Builds the cross Dockerfile for both platforms into `root` under `tag`; returns the index digest. */
async function buildCross(root: string, tag: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const ctx = tempDir('ctx');
  writeFiles(ctx, { Dockerfile: CROSS });
  const r = await nbuild(['--root', root, 'build', '--progress', 'plain', '--platform', PLATFORMS, '-t', tag, ...extra, ctx], { env });
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
  return r.stdout.trim();
}

base('the store keeps an index: tag, save/load round trip, prune keeps its images, rmi removes them', async (t) => {
  const root = await storeWithBoth();
  const digest = await buildCross(root, 'idx:1');
  t.is((await nbuild(['--root', root, 'tag', 'idx:1', 'idx:2'])).code, 0);
  const inspect = JSON.parse((await nbuild(['--root', root, 'inspect', 'idx:2'])).stdout) as { Id: string; Platforms: string[] }[];
  t.is(inspect[0].Id, digest, 'tag points the new name at the index');
  // prune removes dangling images only: the index's images are reachable, their blobs stay.
  t.is((await nbuild(['--root', root, 'prune'])).code, 0);
  const check = await nbuild(['--root', root, 'store', 'check']);
  t.is(check.code, 0, check.stdout + check.stderr);
  const archive = path.join(tempDir('save'), 'idx.oci.tar');
  const saved = await nbuild(['--root', root, 'save', '-o', archive, 'idx:1']);
  t.is(saved.code, 0, saved.stderr);
  const docker = await nbuild(['--root', root, 'save', '--format', 'docker', '-o', `${archive}.docker`, 'idx:1']);
  t.is(docker.code, 2);
  t.regex(docker.stderr, /multi-platform image .*--format oci/);
  const fresh = tempDir('store');
  const loaded = await nbuild(['--root', fresh, 'load', '-i', archive]);
  t.is(loaded.code, 0, loaded.stderr);
  const again = JSON.parse((await nbuild(['--root', fresh, 'inspect', 'idx:1'])).stdout) as { Id: string; Platforms: string[] }[];
  t.is(again[0].Id, digest, 'load keeps the index whole');
  t.deepEqual(again[0].Platforms, ['linux/amd64', 'linux/arm64']);
  // rmi of both names deletes the index; gc then removes its images' blobs.
  const blobs = (dir: string): number => fs.readdirSync(path.join(dir, 'blobs', 'sha256')).length;
  const before = blobs(fresh);
  t.is((await nbuild(['--root', fresh, 'rmi', 'idx:1'])).code, 0);
  t.true(blobs(fresh) < before - 4, `${blobs(fresh)} blobs left of ${before}`);
  t.is((await nbuild(['--root', fresh, 'images', '-q'])).stdout, '');
});

(haveDistribution && hasCommand('skopeo') && arm64Archive ? test.serial : test.serial.skip)('an index goes to a registry (type=registry and nbuild push) and reads back with skopeo and nbuild pull --all-platforms', async (t) => {
  const reg = await startDistribution();
  try {
    const env = { NBUILD_REGISTRIES_CONFIG: path.join(tempDir('regconf'), 'none.toml') };
    fs.writeFileSync(env.NBUILD_REGISTRIES_CONFIG, '');
    const root = await storeWithBoth();
    const ref = `${reg.host}/multi/cross:1`;
    const digest = await buildCross(root, ref, ['--tls-verify=false', '-o', 'type=registry'], env);
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]).toString()) as IndexDoc;
    t.is(raw.mediaType, 'application/vnd.oci.image.index.v1+json');
    t.deepEqual(raw.manifests.map((m) => m.platform?.architecture), ['amd64', 'arm64']);
    const arm = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--override-arch', 'arm64', `docker://${ref}`]).toString()) as { Architecture: string; Digest: string };
    t.is(arm.Architecture, 'arm64');
    t.is(arm.Digest, digest, 'skopeo reports the index digest for the tag');
    // nbuild push of the stored index to another name; skopeo copy --all of it works.
    const pushed = await nbuild(['--root', root, 'push', '--tls-verify=false', ref, `${reg.host}/multi/again:2`], { env });
    t.is(pushed.code, 0, pushed.stderr);
    t.is(pushed.stdout.trim(), digest);
    const copy = path.join(tempDir('copy'), 'all.oci.tar');
    execFileSync('skopeo', ['copy', '--all', '--src-tls-verify=false', `docker://${reg.host}/multi/again:2`, `oci-archive:${copy}`], { stdio: 'pipe' });
    const reloaded = await nbuild(['--root', tempDir('store'), 'load', '-q', '-i', copy]);
    t.is(reloaded.code, 0, reloaded.stderr);
    t.is(reloaded.stdout.trim(), digest, "skopeo's copy of the index loads whole");
    // FROM the registry's index in a fresh store: each platform's build pulls its own image.
    const ctx = tempDir('ctx');
    writeFiles(ctx, { Dockerfile: `FROM ${ref}\nLABEL from=registry\n` });
    const regStore = tempDir('store');
    const fromReg = await nbuild(['--root', regStore, 'build', '--progress', 'plain', '--tls-verify=false', '--platform', PLATFORMS, '-t', 'fromreg:1', ctx], { env });
    t.is(fromReg.code, 0, fromReg.stderr);
    const built = JSON.parse((await nbuild(['--root', regStore, 'inspect', 'fromreg:1'])).stdout) as { Manifests: { Architecture: string; RootFS: { Layers: string[] } }[] }[];
    t.deepEqual(built[0].Manifests.map((m) => m.Architecture), ['amd64', 'arm64']);
    t.notDeepEqual(built[0].Manifests[0].RootFS.Layers, built[0].Manifests[1].RootFS.Layers);
    // pull --all-platforms keeps the index; pull --platform takes one image.
    const fresh = tempDir('store');
    const all = await nbuild(['--root', fresh, 'pull', '--tls-verify=false', '--all-platforms', ref], { env });
    t.is(all.code, 0, all.stderr);
    t.is(all.stdout.trim(), digest);
    const one = await nbuild(['--root', tempDir('store'), 'pull', '--tls-verify=false', '--platform', 'linux/arm64', ref], { env });
    t.is(one.code, 0, one.stderr);
    t.is(one.stdout.trim(), raw.manifests[1].digest);
    const missing = await nbuild(['--root', tempDir('store'), 'pull', '--tls-verify=false', '--platform', 'linux/s390x', ref], { env });
    t.is(missing.code, 1);
    t.regex(missing.stderr, /no image for linux\/s390x \(it has: linux\/amd64, linux\/arm64\)/);
  } finally {
    await reg.stop();
  }
});

(haveDistribution && hasCommand('skopeo') && arm64Archive ? test.serial : test.serial.skip)('nbuild manifest create/add/annotate/inspect/push/rm: a list of two stored images, read back by skopeo', async (t) => {
  const root = await storeWithBoth();
  const m = (...args: string[]) => nbuild(['--root', root, 'manifest', ...args]);
  const created = await m('create', 'list:1', 'busybox:amd64');
  t.is(created.code, 0, created.stderr);
  t.is((await m('create', 'list:1')).code, 2, 'create refuses a name in use');
  const added = await m('add', 'list:1', 'busybox:arm64', '--variant', 'v8');
  t.is(added.code, 0, added.stderr);
  const annotated = await m('annotate', 'list:1', 'busybox:amd64', '--annotation', 'org.example.note=first');
  t.is(annotated.code, 0, annotated.stderr);
  const doc = JSON.parse((await m('inspect', 'list:1')).stdout) as IndexDoc & { manifests: { annotations?: Record<string, string> }[] };
  t.deepEqual(doc.manifests.map((d) => d.platform), [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux', variant: 'v8' }]);
  t.is(doc.manifests[0].annotations?.['org.example.note'], 'first');
  const wrong = await m('add', 'list:1', 'busybox:arm64', '--platform', 'linux/amd64');
  t.is(wrong.code, 2);
  t.regex(wrong.stderr, /busybox:arm64 is a linux\/arm64 image, not linux\/amd64/);
  // Only the last index is kept: the intermediate ones are not images of the store.
  t.is((await nbuild(['--root', root, 'images', '-q'])).stdout.trim().split('\n').length, 3);
  const reg = await startDistribution();
  try {
    const env = { NBUILD_REGISTRIES_CONFIG: path.join(tempDir('regconf'), 'none.toml') };
    fs.writeFileSync(env.NBUILD_REGISTRIES_CONFIG, '');
    const pushed = await m('push', '--tls-verify=false', 'list:1', `${reg.host}/lists/bb:1`);
    t.is(pushed.code, 0, pushed.stderr);
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/lists/bb:1`]).toString()) as IndexDoc;
    t.deepEqual(raw, doc);
  } finally {
    await reg.stop();
  }
  const removed = await m('rm', 'list:1');
  t.is(removed.code, 0, removed.stderr);
  t.is((await m('inspect', 'list:1')).code, 1);
  t.is((await nbuild(['--root', root, 'inspect', 'busybox:arm64'])).code, 0, 'the images stay');
});
