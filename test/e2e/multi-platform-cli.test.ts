// Multi-platform images through bin/nbuild as an unprivileged user (issue 17): the store's
// commands on an index (tag, save/load, prune, rmi, store check), a built index pushed to a
// registry (-o type=registry, nbuild push) and read back (skopeo, FROM, nbuild pull
// --all-platforms / --platform), and `nbuild manifest`. The builds themselves:
// test/behaviour/multi-platform.test.ts.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { busyboxImage, hasCommand, nbuild, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { arm64Busybox, CROSS, PLATFORMS, type IndexDoc } from '../helpers/multi-platform.js';
import { haveDistribution, startDistribution } from '../registry/helpers/distribution.js';

const arm64Archive = arm64Busybox();
const base = arm64Archive ? test : test.skip;

/** A store with busybox:amd64 and busybox:arm64. */
async function storeWithBoth(): Promise<string> {
  const root = tempDir('store');
  for (const [archive, tag] of [[busyboxImage(), 'busybox:amd64'], [arm64Archive ?? '', 'busybox:arm64']]) {
    const r = await nbuild(['--root', root, 'load', '-i', archive, '-t', tag]);
    if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  }
  return root;
}

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
