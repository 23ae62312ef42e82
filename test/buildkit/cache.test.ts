// BuildKit's frontend/dockerfile/dockerfile_cache_test.go, ported (test/buildkit/README.md).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bkBuild, bkBuildImage, bkBuildLocal, readText } from './harness.js';
import { pruneStore } from '../../src/index.js';
import { tempDir } from '../helpers/nbuild-cli.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';

// `alpine` → our busybox: the stages only need a shell. BuildKit's `c.Prune` is pruneStore({ all }) (`nbuild prune -a`)
// (on a store of the test's own, so other tests keep their cache).
test('testExportCacheLoop', async (t) => {
  const root = await apiStoreWithBusybox();
  const dockerfile = `
FROM busybox as base
RUN echo aa > /foo
WORKDIR /bar

FROM base as base1
COPY hello.txt .

FROM base as base2
COPY --from=base1 /bar/hello.txt .
RUN true

FROM scratch
COPY --from=base2 /foo /f
`;
  const cache = path.join(tempDir('bk-cache'), 'cache');
  const files = { 'hello.txt': 'hello' };
  let r = await bkBuild({ root, dockerfile, files, args: ['--cache-to', `type=local,dest=${cache}`] });
  t.is(r.code, 0, r.stderr);
  await pruneStore({ storeRoot: root, all: true });
  r = await bkBuild({ root, dockerfile, files, args: ['--cache-to', `type=local,dest=${cache}`, '--cache-from', `type=local,src=${cache}`] });
  t.is(r.code, 0, r.stderr);
});

// Building the same Dockerfile twice gives the same image (BuildKit compares the manifest descriptors).
test('testReproducibleIDs', async (t) => {
  const dockerfile = `
FROM busybox
ENV foo=bar
COPY foo /
RUN echo bar > bar
`;
  const files = { foo: 'foo-contents' };
  const img = await bkBuildImage({ dockerfile, files }, 'example.com/moby/dockerfileids:test');
  const img2 = await bkBuildImage({ dockerfile, files }, 'example.com/moby/dockerfileids2:test');
  // img.Target: the manifest's descriptor
  t.is((img as unknown as { Digest: string }).Digest, (img2 as unknown as { Digest: string }).Digest);
});

// BuildKit's no-cache="" is `--no-cache`, no-cache=s1 is `--no-cache-filter s1`.
test('testNoCache', async (t) => {
  const dockerfile = `
FROM busybox AS s0
RUN cat /dev/urandom | head -c 100 | sha256sum | tee unique
FROM busybox AS s1
RUN cat /dev/urandom | head -c 100 | sha256sum | tee unique2
FROM scratch
COPY --from=s0 unique /
COPY --from=s1 unique2 /
`;
  const context = tempDir('bk-ctx');
  const destDir = await bkBuildLocal({ dockerfile, context });
  const destDir2 = await bkBuildLocal({ dockerfile, context, args: ['--no-cache'] });
  const unique1Dir1 = readText(destDir, 'unique');
  const unique1Dir2 = readText(destDir2, 'unique');
  const unique2Dir1 = readText(destDir, 'unique2');
  const unique2Dir2 = readText(destDir2, 'unique2');
  t.not(unique1Dir1, unique1Dir2);
  t.not(unique2Dir1, unique2Dir2);

  const destDir3 = await bkBuildLocal({ dockerfile, context, args: ['--no-cache-filter', 's1'] });
  const unique1Dir3 = readText(destDir3, 'unique');
  const unique2Dir3 = readText(destDir3, 'unique2');
  t.is(unique1Dir2, unique1Dir3);
  t.not(unique2Dir1, unique2Dir3);
});

// moby/buildkit#5305
test('testCacheMountModeNoCache', async (t) => {
  const root = await apiStoreWithBusybox();
  const dockerfile = `
FROM busybox AS base
ARG FOO=abc
RUN --mount=type=cache,target=/cache,mode=0773 touch /cache/$FOO && ls -l /cache | wc -l > /out

FROM scratch
COPY --from=base /out /
`;
  const context = tempDir('bk-ctx');
  let dest = await bkBuildLocal({ root, dockerfile, context });
  t.is(readText(dest, 'out'), '2\n');

  dest = await bkBuildLocal({ root, dockerfile, context, args: ['--no-cache', '--build-arg', 'FOO=def'] });
  t.is(readText(dest, 'out'), '2\n');

  // safety check without no-cache
  dest = await bkBuildLocal({ root, dockerfile, context, args: ['--build-arg', 'FOO=ghi'] });
  t.is(readText(dest, 'out'), '3\n');
});

// #2008; `alpine` → our busybox (the step only needs `ls`).
test('testWildcardRenameCache', async (t) => {
  const dockerfile = `
FROM busybox
COPY file* /files/
RUN ls /files/file1
`;
  const context = tempDir('bk-ctx');
  let r = await bkBuild({ dockerfile, context, files: { file1: 'foo' } });
  t.is(r.code, 0, r.stderr);
  fs.renameSync(path.join(context, 'file1'), path.join(context, 'file2'));
  // cache should be invalidated and build should fail
  r = await bkBuild({ dockerfile, context });
  t.not(r.code, 0);
});
