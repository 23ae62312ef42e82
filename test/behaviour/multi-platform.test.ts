// Multi-platform builds (issue 17), through the API (build()): --platform lists give one OCI
// image index; FROM --platform=$BUILDPLATFORM cross builds need no emulator; a foreign RUN runs
// under qemu (a binfmt_misc handler with the F flag, registered by scripts/setup-host.sh) or
// fails before it starts; FROM of an index takes the stage's platform. The store's commands on
// an index (tag, save, load, prune, rmi), push/pull and `nbuild manifest` are
// test/e2e/multi-platform-cli.test.ts's.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectImages, listImages, loadImages, type IndexDetails } from '../../src/index.js';
import { apiBuild } from '../helpers/api-build.js';
import { busyboxImage, hasCommand, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { arm64Busybox, CROSS, haveArm64Emulation, PLATFORMS, readJsonBlob, type IndexDoc } from '../helpers/multi-platform.js';

const arm64Archive = arm64Busybox();
// The binfmt_misc table is read from NBUILD_BINFMT_DIR (src/sandbox/binfmt.ts), this process's
// environment: the tests that set it are serial (ava runs them before the others, one at a time).
const base = arm64Archive ? test : test.skip;
const baseSerial = arm64Archive ? test.serial : test.serial.skip;
const emulated = arm64Archive && haveArm64Emulation() ? test : test.skip;

/** A store with busybox:amd64 and busybox:arm64. */
async function storeWithBoth(): Promise<string> {
  const storeRoot = tempDir('store');
  for (const [input, tag] of [[busyboxImage(), 'busybox:amd64'], [arm64Archive ?? '', 'busybox:arm64']]) await loadImages({ storeRoot, input, tag });
  return storeRoot;
}

/** Runs `fn` with NBUILD_BINFMT_DIR set to `dir` (serial tests only). */
async function withBinfmtDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.NBUILD_BINFMT_DIR;
  process.env.NBUILD_BINFMT_DIR = dir;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.NBUILD_BINFMT_DIR;
    else process.env.NBUILD_BINFMT_DIR = before;
  }
}

baseSerial('the cross pattern needs no emulator: two platforms, one index, the platform ARGs', async (t) => {
  const root = await storeWithBoth();
  const ctx = tempDir('ctx');
  writeFiles(ctx, { Dockerfile: CROSS });
  const out = tempDir('out');
  const noBinfmt = tempDir('binfmt'); // no handlers at all
  const r = await withBinfmtDir(noBinfmt, () => apiBuild(root, ctx, ['--platform', PLATFORMS, '-t', 'cross:1',
    '-o', `type=oci-layout,dest=${path.join(out, 'layout')}`, '-o', `type=local,dest=${path.join(out, 'files')}`]));
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
  const images = await listImages({ storeRoot: root });
  t.deepEqual(images.find((i) => i.repository === 'cross' && i.tag === '1')?.platforms, ['linux/amd64', 'linux/arm64'], JSON.stringify(images));
  const inspect = (await inspectImages({ storeRoot: root, images: ['cross:1'] })) as IndexDetails[];
  t.deepEqual(inspect[0].Platforms, ['linux/amd64', 'linux/arm64']);
  t.deepEqual(inspect[0].Manifests.map((m) => m.Architecture), ['amd64', 'arm64']);
});

baseSerial('a RUN for a platform with no binfmt handler fails before anything runs, naming the fix', async (t) => {
  const root = await storeWithBoth();
  const ctx = tempDir('ctx');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:$TARGETARCH\nRUN echo started > /started\n' });
  const binfmt = tempDir('binfmt'); // binfmt_misc mounted, no handler registered
  fs.writeFileSync(path.join(binfmt, 'status'), 'enabled\n');
  const r = await withBinfmtDir(binfmt, () => apiBuild(root, ctx, ['--platform', PLATFORMS]));
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
  const r = await apiBuild(root, ctx, ['--platform', PLATFORMS, '-t', 'two:1', '-o', `type=oci,dest=${archive}`, '-o', `type=local,dest=${path.join(out, 'files')}`]);
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
  const made = await apiBuild(root, ctx, ['--platform', PLATFORMS, '-t', 'base:multi', '-o', `type=oci,dest=${archive}`]);
  t.is(made.code, 0, made.stderr);
  for (const from of ['base:multi', `oci-archive:${archive}`]) {
    const ctx2 = tempDir('ctx');
    writeFiles(ctx2, { Dockerfile: `FROM ${from}\nLABEL from=index\n` });
    const layout = path.join(tempDir('out'), 'layout');
    const r = await apiBuild(root, ctx2, ['--platform', 'linux/arm64', '-o', `type=oci-layout,dest=${layout}`]);
    t.is(r.code, 0, r.stderr);
    const top = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as IndexDoc;
    const manifest = readJsonBlob(layout, top.manifests[0].digest) as { config: { digest: string } };
    t.is((readJsonBlob(layout, manifest.config.digest) as { architecture: string }).architecture, 'arm64', from);
    const missing = await apiBuild(root, ctx2, ['--platform', 'linux/s390x']);
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
    // The epoch as a build arg, as the CLI passes $SOURCE_DATE_EPOCH (that convention: test/behaviour/engine.test.ts).
    const r = await apiBuild(root, ctx, ['--platform', PLATFORMS, '--build-arg', 'SOURCE_DATE_EPOCH=1700000000']);
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
  const r = await apiBuild(root, ctx, ['--platform', PLATFORMS, '-o', `type=docker,dest=${path.join(tempDir('out'), 'd.tar')}`]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /type=docker.*one platform/);
});
