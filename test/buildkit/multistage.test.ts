// BuildKit's frontend/dockerfile/dockerfile_multistage_test.go, ported (README.md).
import test from 'ava';
import { bkBuildError, bkBuildLocal, readText } from './harness.js';

test('testMultiStageImplicitFrom', async (t) => {
  let out = await bkBuildLocal({ dockerfile: `
FROM scratch
COPY --from=busybox /etc/passwd test
` });
  t.true(readText(out, 'test').includes('root'));

  // testing masked image will load actual stage
  out = await bkBuildLocal({ dockerfile: `
FROM busybox AS golang
RUN mkdir -p /usr/bin && echo -n foo > /usr/bin/go

FROM scratch
COPY --from=golang /usr/bin/go go
` });
  t.true(readText(out, 'go').includes('foo'));
});

test('testMultiStageCaseInsensitive', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch AS STAge0
COPY foo bar
FROM scratch AS staGE1
COPY --from=staGE0 bar baz
FROM scratch
COPY --from=stage1 baz bax
`,
    files: { foo: { content: 'foo-contents', mode: 0o600 } },
    args: ['--target', 'Stage1'],
  });
  t.true(readText(out, 'baz').includes('foo-contents'));
});

test('testOutOfOrderStage', async (t) => {
  // BuildKit's second stage is alpine; it only needs to be an image. The build must fail
  // before anything is pulled (the harness blocks the registry anyway).
  for (const src of ['/', '/d2']) {
    const err = await bkBuildError({ dockerfile: `
FROM busybox AS target
COPY --from=build ${src} /out

FROM busybox AS build
COPY /Dockerfile /d2

FROM target
` });
    t.true(err.includes('cannot copy from stage'), err);
    t.true(err.includes('needs to be defined before current stage'), err);
  }
});

test('testEmptyStages', async (t) => {
  const err = await bkBuildError({ dockerfile: `ARG foo=bar` });
  t.true(err.includes('dockerfile contains no stages to build'), err);
});
