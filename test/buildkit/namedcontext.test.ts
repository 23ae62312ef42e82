// BuildKit's frontend/dockerfile/dockerfile_namedcontext_test.go, ported (see README.md).
// BuildKit's frontend attribute `context:NAME=VALUE` is buildx's `--build-context NAME=VALUE`;
// a `local:NAME` mount is a folder. The tests that read alpine get an `alpine:latest` made here
// from busybox with /etc/alpine-release (offline); an image BuildKit pushes to its test registry
// is built into the store under the same name instead (a FROM finds it there first).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { bkBuild, bkBuildLocal, bkBuildOci, bkStore, readText, writeContext } from './harness.js';
import { tempDir } from '../helpers/nbuild-cli.js';

let alpine: Promise<string> | undefined;

/** The shared store, with an `alpine:latest` (busybox plus /etc/alpine-release). */
function storeWithAlpine(): Promise<string> {
  return (alpine ??= (async () => {
    const root = await bkStore();
    const r = await bkBuild({ root, dockerfile: 'FROM busybox:latest\nRUN echo 3.20.0 > /etc/alpine-release\n', args: ['-t', 'alpine:latest'] });
    if (r.code !== 0) throw new Error(`alpine fixture: build failed:\n${r.stderr}`);
    return root;
  })());
}

test('testNamedImageContext', async (t) => {
  const root = await storeWithAlpine();
  let destDir = await bkBuildLocal({
    root,
    dockerfile: `
FROM busybox AS base
RUN cat /etc/alpine-release > /out
FROM scratch
COPY --from=base /out /
`,
    // Make sure image resolution works as expected, do not add a tag or locator.
    args: ['--build-context', 'busybox=docker-image://alpine'],
  });
  t.true(fs.readFileSync(path.join(destDir, 'out')).length > 0);

  // Now test with an image with custom envs
  const target = 'localhost:5000/buildkit/testnamedimagecontext:latest';
  const pushed = await bkBuild({
    root,
    dockerfile: `
FROM alpine:latest
ENV PATH=/foobar:$PATH
ENV FOOBAR=foobar
`,
    args: ['-t', target],
  });
  t.is(pushed.code, 0, pushed.stderr);

  destDir = await bkBuildLocal({
    root,
    dockerfile: `
FROM busybox AS base
RUN cat /etc/alpine-release > /out
RUN env | grep PATH > /env_path
RUN env | grep FOOBAR > /env_foobar
FROM scratch
COPY --from=base /out /
COPY --from=base /env_path /
COPY --from=base /env_foobar /
	`,
    args: ['--build-context', `busybox=docker-image://${target}`],
  });
  t.true(fs.readFileSync(path.join(destDir, 'out')).length > 0);
  t.is(readText(destDir, 'env_foobar').trim(), 'FOOBAR=foobar');
  t.true(readText(destDir, 'env_path').includes('/foobar:'));

  // this case checks replacing stage that is based on another stage.
  // moby/buildkit#5578-2539397486
  const r = await bkBuild({
    root,
    dockerfile: `
FROM busybox AS parent
FROM parent AS base
RUN echo base > /out
FROM base
RUN [ -f /etc/alpine-release ]
RUN [ ! -f /out ]
`,
    args: ['--build-context', `base=docker-image://${target}`],
  });
  t.is(r.code, 0, r.stderr);
});

test('testNamedImageContextScratch', async (t) => {
  const destDir = await bkBuildLocal({
    dockerfile: `
FROM busybox AS build
COPY <<EOF /out
hello world!
EOF
`,
    args: ['--build-context', 'busybox=docker-image://scratch'],
  });
  const fileNames = fs.readdirSync(destDir).filter((n) => n === 'out');
  t.is(fileNames.length, 1);
  t.is(fileNames[0], 'out');
  t.is(readText(destDir, 'out'), 'hello world!\n');
});

test('testNamedLocalContext', async (t) => {
  const dir2 = tempDir('bk-basedir');
  writeContext(dir2, {
    out: { content: 'dummy-result', mode: 0o600 },
    out2: { content: 'dummy-result', mode: 0o600 },
    '.dockerignore': { content: 'out2\n', mode: 0o600 },
  });
  const destDir = await bkBuildLocal({
    dockerfile: `
FROM busybox AS base
RUN cat /etc/alpine-release > /out
FROM scratch
COPY --from=base /o* /
`,
    args: ['--build-context', `base=${dir2}`],
  });
  t.true(fs.readFileSync(path.join(destDir, 'out')).length > 0);
  const err = t.throws(() => fs.readFileSync(path.join(destDir, 'out2')));
  t.is((err as NodeJS.ErrnoException).code, 'ENOENT');
});

test('testNamedOCILayoutContext', async (t) => {
  // 1- build an image with two files, "out" (first) and "out2" (second), as an OCI archive
  // 2- unpack it as an OCI layout folder
  // 3- build with the contexts "base" and "foo" set to that layout, by digest
  const root = await bkStore();
  const ocidir = tempDir('bk-ocilayout');
  const archive = path.join(tempDir('bk-ocitar'), 'out.tar');
  const first = await bkBuild({
    root,
    dockerfile: `
	FROM busybox:latest
	WORKDIR /test
	RUN sh -c "echo -n first > out"
	RUN sh -c "echo -n second > out2"
	ENV foo=bar
	`,
    args: ['-o', `type=oci,dest=${archive}`],
  });
  t.is(first.code, 0, first.stderr);
  execFileSync('tar', ['-xf', archive, '-C', ocidir]);
  const index = JSON.parse(fs.readFileSync(path.join(ocidir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  t.is(index.manifests.length, 1);
  const digest = index.manifests[0].digest.replace(/^sha256:/, '');

  // 1. busybox is used as is, but because we override the context for base,
  //    when we run `COPY --from=base`, it should take the /o* from the image in the store,
  //    rather than what we built on the first 2 lines here.
  // 2. we override the context for `foo` to be our local OCI store, which has an `ENV foo=bar` override.
  const destDir = await bkBuildLocal({
    root,
    dockerfile: `
FROM busybox AS base
RUN cat /etc/alpine-release > out

FROM foo AS imported
RUN echo -n $foo > outfoo

FROM scratch
COPY --from=base /test/o* /
COPY --from=imported /test/outfoo /
`,
    args: ['--build-context', `base=oci-layout://${ocidir}@sha256:${digest}`, '--build-context', `foo=oci-layout://${ocidir}@sha256:${digest}`],
  });
  t.is(readText(destDir, 'out'), 'first');
  t.is(readText(destDir, 'out2'), 'second');
  t.is(readText(destDir, 'outfoo'), 'bar');
});

test('testNamedOCILayoutContextExport', async (t) => {
  const root = await bkStore();
  const ocidir = tempDir('bk-ocilayout');
  const first = await bkBuildOci({
    root,
    dockerfile: `
FROM scratch
WORKDIR /test
ENV foo=bar
	`,
  });
  execFileSync('tar', ['-xf', first.file, '-C', ocidir]);
  const index = JSON.parse(fs.readFileSync(path.join(ocidir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  t.is(index.manifests.length, 1);
  const digest = index.manifests[0].digest.replace(/^sha256:/, '');

  const out = await bkBuildOci({
    root,
    dockerfile: `
FROM nonexistent AS base
`,
    args: ['--build-context', `nonexistent=oci-layout://${ocidir}@sha256:${digest}`],
  });
  t.is(out.index.manifests.length, 1);
  const cfg = out.config.config as { WorkingDir?: string; Env?: string[] };
  t.is(cfg.WorkingDir, '/test');
  t.true(cfg.Env?.includes('foo=bar'));
});

test('testEagerNamedContextLookup', async (t) => {
  const root = await storeWithAlpine();
  const out = await bkBuildLocal({
    root,
    dockerfile: `
FROM broken AS notused

FROM alpine AS base
RUN echo "base" > /foo

FROM busybox AS otherstage

FROM scratch
COPY --from=base /foo /foo
	`,
    args: ['--build-context', 'notused=docker-image://docker.io/library/nosuchimage:latest', '--build-context', 'busybox=docker-image://docker.io/library/dontexist:latest'],
  });
  t.is(readText(out, 'foo'), 'base\n');
});
