// BuildKit's frontend/dockerfile/dockerfile_workdir_test.go, ported (see README.md).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bkBuild, bkBuildLocal, bkNewStore } from './harness.js';
import { tempDir } from '../helpers/nbuild-cli.js';

test('testWorkdirCreatesDir', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch
WORKDIR /foo
WORKDIR /
`,
  });
  t.true(fs.lstatSync(path.join(out, 'foo')).isDirectory());
});

// testWorkdirSourceDateEpochReproducible ensures that WORKDIR is reproducible with SOURCE_DATE_EPOCH.
// BuildKit's `FROM alpine` is only a base: busybox stands in. BuildKit prunes all its cache
// between the builds; here the second build uses a new store.
test('testWorkdirSourceDateEpochReproducible', async (t) => {
  const dockerfile = `
FROM busybox
WORKDIR /mydir
`;
  const epoch = String(Date.UTC(2023, 0, 10, 15, 34, 56) / 1000);
  const destDir1 = path.join(tempDir('bk-out'), 'oci');
  let r = await bkBuild({ dockerfile, args: ['--build-arg', `SOURCE_DATE_EPOCH=${epoch}`, '-o', `type=oci-layout,dest=${destDir1}`] });
  t.is(r.code, 0, r.stderr);
  const index1 = fs.readFileSync(path.join(destDir1, 'index.json'));

  await new Promise((resolve) => setTimeout(resolve, 3000));
  const destDir2 = path.join(tempDir('bk-out'), 'oci');
  r = await bkBuild({ dockerfile, root: await bkNewStore(), args: ['--build-arg', `SOURCE_DATE_EPOCH=${epoch}`, '-o', `type=oci-layout,dest=${destDir2}`] });
  t.is(r.code, 0, r.stderr);
  const index2 = fs.readFileSync(path.join(destDir2, 'index.json'));
  t.is(index2.toString(), index1.toString());
});

test('testWorkdirUser', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN adduser -D user
USER user
WORKDIR /mydir
RUN [ "$(stat -c "%U %G" /mydir)" == "user user" ]
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testWorkdirCopyIgnoreRelative', async (t) => {
  const baseImage = 'scratch';
  const r = await bkBuild({
    dockerfile: `
FROM ${baseImage} AS base
WORKDIR /foo
COPY Dockerfile /
FROM ${baseImage}
# relative path still loaded as absolute
COPY --from=base Dockerfile .
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testWorkdirExists', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN adduser -D user
RUN mkdir /mydir && chown user:user /mydir
WORKDIR /mydir
RUN [ "$(stat -c "%U %G" /mydir)" == "user user" ]
`,
  });
  t.is(r.code, 0, r.stderr);
});
