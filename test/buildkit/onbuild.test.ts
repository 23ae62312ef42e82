// BuildKit's frontend/dockerfile/dockerfile_onbuild_test.go, ported (see README.md).
// BuildKit pushes each base to a test registry and builds FROM it; here the base is a tag in
// the store (the registry is only the transport between the two builds).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bkBuild, bkBuildLocal, bkStore, readText } from './harness.js';
import { loadImages } from '../../src/index.js';
import { tempDir } from '../helpers/nbuild-cli.js';

const tagFor = (name: string): string => `bk-${name}-${process.pid}`;

async function buildTagged(t: import('ava').ExecutionContext, dockerfile: string, tag: string): Promise<void> {
  const r = await bkBuild({ dockerfile, args: ['-t', tag] });
  t.is(r.code, 0, r.stderr);
}

test('testOnBuildCleared', async (t) => {
  const target = `${tagFor('testonbuild')}:base`;
  await buildTagged(t, `
FROM busybox
ONBUILD RUN mkdir -p /out && echo -n 11 >> /out/foo
`, target);

  const target2 = `${tagFor('testonbuild')}:child`;
  await buildTagged(t, `
	FROM ${target}
	`, target2);

  const out = await bkBuildLocal({
    dockerfile: `
	FROM ${target2} AS base
	FROM scratch
	COPY --from=base /out /
	`,
  });
  t.is(readText(out, 'foo'), '11');
});

// testOnBuildWithChildStage tests that ONBUILD rules from the parent image do
// not run again if another stage inherits from current stage.
// moby/buildkit#5578
test('testOnBuildWithChildStage', async (t) => {
  const target = `${tagFor('testonbuildstage')}:base`;
  await buildTagged(t, `
FROM busybox
ONBUILD RUN mkdir -p /out && echo -n yes >> /out/didrun
`, target);

  const out = await bkBuildLocal({
    dockerfile: `
FROM ${target} AS base
RUN [ -f /out/didrun ] && touch /step1
RUN rm /out/didrun
RUN [ ! -f /out/didrun ] && touch /step2

FROM base AS child
RUN [ ! -f /out/didrun ] && touch /step3

FROM scratch
COPY --from=child /step* /
`,
  });
  for (const step of ['step1', 'step2', 'step3']) t.true(fs.existsSync(path.join(out, step)), step);
});

// BuildKit passes the base as a named context (`context:base=oci-layout:…`) read from an OCI
// export. nbuild has no named contexts: the same OCI export is loaded into the store as `base`,
// which is what `FROM base` then resolves to.
test('testOnBuildNamedContext', async (t) => {
  // create an image with onbuild that relies on "otherstage" when imported
  const ociTar = path.join(tempDir('bk-out'), 'oci.tar');
  const r = await bkBuild({
    dockerfile: `
	FROM busybox:latest
	ONBUILD COPY --from=otherstage /testfile /out/foo
	`,
    args: ['-o', `type=oci,dest=${ociTar}`],
  });
  t.is(r.code, 0, r.stderr);
  const root = await bkStore();
  await loadImages({ storeRoot: root, input: ociTar, tag: 'base:latest' });

  // BuildKit's `FROM alpine AS otherstage` only needs a shell: busybox stands in.
  const out = await bkBuildLocal({
    dockerfile: `
		FROM busybox AS otherstage
		RUN echo -n "hello" > /testfile

		FROM base AS inputstage

		FROM scratch
		COPY --from=inputstage /out/foo /bar
	`,
  });
  t.is(readText(out, 'bar'), 'hello');
});

test('testOnBuildInheritedStageRun', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM busybox AS base
ONBUILD RUN mkdir -p /out && echo -n 11 >> /out/foo

FROM base AS mid
RUN cp /out/foo /out/bar

FROM scratch
COPY --from=mid /out/bar /
`,
  });
  t.is(readText(out, 'bar'), '11');
});

// BuildKit's `FROM alpine AS src` only needs a shell: busybox stands in.
test('testOnBuildInheritedStageWithFrom', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM busybox AS src
RUN mkdir -p /in && echo -n 12 > /in/file

FROM busybox AS base
ONBUILD COPY --from=src /in/file /out/foo

FROM base AS mid
RUN cp /out/foo /out/bar

FROM scratch
COPY --from=mid /out/bar /
`,
  });
  t.is(readText(out, 'bar'), '12');
});

test('testOnBuildWithCacheMount', async (t) => {
  const target = `${tagFor('testonbuildcache')}:base`;
  await buildTagged(t, `
FROM busybox
ONBUILD RUN --mount=type=cache,target=/cache echo -n 42 >> /cache/foo && echo -n 11 >> /bar
`, target);
  const r = await bkBuild({
    dockerfile: `FROM ${target}
RUN --mount=type=cache,target=/cache [ "$(cat /cache/foo)" = "42" ] && [ "$(cat /bar)" = "11" ]
`,
  });
  t.is(r.code, 0, r.stderr);
});
