// BuildKit's frontend/dockerfile/dockerfile_mount_test.go, ported (test/buildkit/README.md).
import test from 'ava';
import { bkBuild, bkBuildLocal, readText } from './harness.js';
import { storeWithBusybox, tempDir } from '../helpers/nbuild-cli.js';

// Tests with cache mounts get a store of their own: ava runs a file's tests at once, and BuildKit's
// tests (one daemon each) do not share cache mounts either.
const ownStore = storeWithBusybox;

test('testMountContext', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN --mount=target=/context [ "$(cat /context/testfile)" == "contents0" ]
`,
    files: { testfile: 'contents0' },
  });
  t.is(r.code, 0, r.stderr);
});

test('testMountTmpfs', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN --mount=target=/mytmp,type=tmpfs touch /mytmp/foo
RUN [ ! -f /mytmp/foo ]
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testMountInvalid', async (t) => {
  let r = await bkBuild({
    dockerfile: `
FROM scratch
RUN --mont=target=/mytmp,type=tmpfs /bin/true
`,
  });
  t.not(r.code, 0);
  t.true(r.stderr.includes('unknown flag: --mont'), r.stderr);
  t.true(r.stderr.includes('did you mean mount?'), r.stderr);

  r = await bkBuild({
    dockerfile: `
	FROM scratch
	RUN --mount=typ=tmpfs /bin/true
	`,
  });
  t.not(r.code, 0);
  t.true(r.stderr.includes("unexpected key 'typ'"), r.stderr);
  t.true(r.stderr.includes('did you mean type?'), r.stderr);

  r = await bkBuild({
    dockerfile: `
	FROM scratch
	RUN --mount=type=tmp /bin/true
	`,
  });
  t.not(r.code, 0);
  t.true(r.stderr.includes('unsupported mount type "tmp"'), r.stderr);
  t.true(r.stderr.includes('did you mean tmpfs?'), r.stderr);
});

test('testMountRWCache', async (t) => {
  const dockerfile = `
from busybox AS build
copy cachebust /
run mkdir out && echo foo > out/foo

from busybox as second
RUN --mount=from=build,src=out,target=/out,rw touch /out/bar && cat /dev/urandom | head -c 100 | sha256sum > /unique

from scratch
COPY --from=second /unique /unique
`;
  const dest1 = await bkBuildLocal({ dockerfile, files: { cachebust: '0' } });
  const dt1 = readText(dest1, 'unique');
  // repeat with changed file that should be still cached by content
  const dest2 = await bkBuildLocal({ dockerfile, files: { cachebust: '1' } });
  const dt2 = readText(dest2, 'unique');
  t.is(dt1, dt2);
});

test('testCacheMountUser', async (t) => {
  const r = await bkBuild({
    root: await ownStore(),
    dockerfile: `
FROM busybox
RUN --mount=type=cache,target=/mycache,uid=1001,gid=1002,mode=0751 [ "$(stat -c "%u %g %f" /mycache)" == "1001 1002 41e9" ]
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testCacheMountDefaultID', async (t) => {
  const r = await bkBuild({
    root: await ownStore(),
    dockerfile: `
FROM busybox
RUN --mount=type=cache,target=/mycache touch /mycache/foo
RUN --mount=type=cache,target=/mycache2 [ ! -f /mycache2/foo ]
RUN --mount=type=cache,target=/mycache [ -f /mycache/foo ]
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testMountEnvVar', async (t) => {
  const r = await bkBuild({
    root: await ownStore(),
    dockerfile: `
FROM busybox
ENV SOME_PATH=/mycache
RUN --mount=type=cache,target=/mycache touch /mycache/foo
RUN --mount=type=cache,target=$SOME_PATH [ -f $SOME_PATH/foo ]
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testMountArg', async (t) => {
  const r = await bkBuild({
    root: await ownStore(),
    dockerfile: `
FROM busybox
ARG MNT_TYPE=cache
RUN --mount=type=$MNT_TYPE,target=/mycache2 touch /mycache2/foo
RUN --mount=type=cache,target=/mycache2 [ -f /mycache2/foo ]
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testMountEnvAcrossStages', async (t) => {
  const r = await bkBuild({
    root: await ownStore(),
    dockerfile: `
FROM busybox as stage1

ENV MNT_ID=mycache
ENV MNT_TYPE2=cache
RUN --mount=type=cache,id=mycache,target=/abcabc touch /abcabc/foo
RUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/cbacba [ -f /cbacba/foo ]

FROM stage1
RUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/whatever [ -f /whatever/foo ]
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testMountMetaArg', async (t) => {
  const r = await bkBuild({
    root: await ownStore(),
    dockerfile: `
ARG META_PATH=/tmp/meta

FROM busybox
ARG META_PATH
RUN --mount=type=cache,id=mycache,target=/tmp/meta touch /tmp/meta/foo
RUN --mount=type=cache,id=mycache,target=$META_PATH [ -f /tmp/meta/foo ]
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testMountFromError', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox as test
RUN touch /tmp/test

FROM busybox
ENV ttt=test
RUN --mount=from=$ttt,type=cache,target=/tmp ls
`,
  });
  t.not(r.code, 0);
  t.true(r.stderr.includes("'from' doesn't support variable expansion, define alias stage instead"), r.stderr);
});

test('testMountTmpfsSize', async (t) => {
  const dest = await bkBuildLocal({
    dockerfile: `
FROM busybox AS base
RUN --mount=type=tmpfs,target=/dev/shm,size=128m mount | grep /dev/shm > /tmpfssize
FROM scratch
COPY --from=base /tmpfssize /
`,
  });
  t.true(readText(dest, 'tmpfssize').includes('size=131072k'), readText(dest, 'tmpfssize'));
});

// moby/buildkit#4123
test('testMountDuplicate', async (t) => {
  const dockerfile = `
FROM busybox AS base
RUN --mount=source=.,target=/tmp/test \\
  --mount=source=b.txt,target=/tmp/b.txt \\
  cat /tmp/test/a.txt /tmp/b.txt > /combined.txt
FROM scratch
COPY --from=base /combined.txt /
`;
  // Run this dockerfile a few times. It should update the context
  // for a.txt properly and update the output.
  for (const text of ['foo\n', 'updated\n']) {
    const dest = await bkBuildLocal({ dockerfile, files: { 'a.txt': text, 'b.txt': 'bar\n' } });
    t.is(readText(dest, 'combined.txt'), `${text}bar\n`);
  }
});

// Two stages sharing nested cache mounts run side by side, 20 times (moby/buildkit#5566).
// `alpine` → our busybox: the stages only need a shell and /etc/passwd.
test('testCacheMountParallel', async (t) => {
  const dockerfile = `
FROM busybox AS b1
RUN --mount=type=cache,target=/foo/bar --mount=type=cache,target=/foo/bar/baz echo 1

FROM busybox AS b2
RUN --mount=type=cache,target=/foo/bar --mount=type=cache,target=/foo/bar/baz echo 2

FROM scratch
COPY --from=b1 /etc/passwd p1
COPY --from=b2 /etc/passwd p2
`;
  const root = await ownStore();
  const context = tempDir('bk-ctx');
  for (let i = 0; i < 20; i++) {
    const r = await bkBuild({ root, dockerfile, context, args: ['--no-cache'] });
    t.is(r.code, 0, r.stderr);
    if (r.code !== 0) return;
  }
});

test('testCacheMountSourceEscape', async (t) => {
  const r = await bkBuild({
    root: await ownStore(),
    dockerfile: `
FROM busybox AS init
RUN --mount=type=cache,id=sourceescape,target=/cache mkdir -p /cache/sel && echo benign > /cache/sel/benign.txt

FROM init AS link
RUN --mount=type=cache,id=sourceescape,target=/cache rm -rf /cache/sel && ln -s /etc /cache/sel

FROM link AS victim
RUN --mount=type=cache,id=sourceescape,source=sel,target=/victim cat /victim/hostname

FROM scratch
COPY --from=victim /etc/hostname /hostname
`,
    args: ['--no-cache'],
  });
  t.not(r.code, 0, 'build must fail when a cache source= resolves through a link outside the cache root');
});
