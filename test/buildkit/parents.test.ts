// BuildKit's frontend/dockerfile/dockerfile_parents_test.go, ported (see README.md).
// BuildKit's `FROM alpine` stages only need a shell: busybox stands in.
import test from 'ava';
import { bkBuild, bkBuildLocal, readText } from './harness.js';
import { tempDir } from '../helpers/nbuild-cli.js';

test('testCopyParents', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch
COPY --parents foo1/foo2/bar /

WORKDIR /test
COPY --parents foo1/foo2/ba* .
`,
    files: {
      'foo1/foo2/bar': { content: 'testing', mode: 0o600 },
      'foo1/foo2/baz': { content: 'testing2', mode: 0o600 },
    },
  });
  t.is(readText(out, 'foo1/foo2/bar'), 'testing');
  t.is(readText(out, 'test/foo1/foo2/bar'), 'testing');
  t.is(readText(out, 'test/foo1/foo2/baz'), 'testing2');
});

test('testCopyRelativeParents', async (t) => {
  const dockerfile = `
FROM busybox AS base
WORKDIR /test
RUN <<eot
	set -ex
	mkdir -p a/b/c/d/e
	mkdir -p a/b2/c/d/e
	mkdir -p a/b/c2/d/e
	mkdir -p a/b/c2/d/e2
	touch a/b/c/d/foo
	touch a/b/c/d/e/bay
	touch a/b2/c/d/e/bar
	touch a/b/c2/d/e/baz
	touch a/b/c2/d/e2/baz
eot

FROM busybox AS middle
COPY --from=base --parents /test/a/b/./c/d /out/
RUN <<eot
	set -ex
	[ -d /out/c/d/e ]
	[ -f /out/c/d/foo ]
	[ ! -d /out/a ]
	[ ! -d /out/e ]
eot

FROM busybox AS end
COPY --from=base --parents /test/a/b/c/d/. /out/
RUN <<eot
	set -ex
	[ -d /out/test/a/b/c/d/e ]
	[ -f /out/test/a/b/c/d/foo ]
eot

FROM busybox AS start
COPY --from=base --parents ./test/a/b/c/d /out/
RUN <<eot
	set -ex
	[ -d /out/test/a/b/c/d/e ]
	[ -f /out/test/a/b/c/d/foo ]
eot

FROM busybox AS double
COPY --from=base --parents /test/a/./b/./c /out/
RUN <<eot
	set -ex
	[ -d /out/b/c/d/e ]
	[ -f /out/b/c/d/foo ]
eot

FROM busybox AS wildcard
COPY --from=base --parents /test/a/./*/c /out/
RUN <<eot
	set -ex
	[ -d /out/b/c/d/e ]
	[ -f /out/b2/c/d/e/bar ]
eot

FROM busybox AS doublewildcard
COPY --from=base --parents /test/a/b*/./c/**/e /out/
RUN <<eot
	set -ex
	[ -d /out/c/d/e ]
	[ -f /out/c/d/e/bay ] # via b
	[ -f /out/c/d/e/bar ] # via b2
eot

FROM busybox AS doubleinputs
COPY --from=base --parents /test/a/b/c*/./d/**/baz /test/a/b*/./c/**/bar /out/
RUN <<eot
	set -ex
	[ -f /out/d/e/baz ]
	[ ! -f /out/d/e/bay ]
	[ -f /out/d/e2/baz ]
	[ -f /out/c/d/e/bar ] # via b2
eot
`;
  const context = tempDir('bk-ctx');
  for (const target of ['middle', 'end', 'start', 'double', 'wildcard', 'doublewildcard', 'doubleinputs']) {
    const r = await bkBuild({ dockerfile, context, args: ['--target', target] });
    t.is(r.code, 0, `target: ${target}\n${r.stderr}`);
  }
});

test('testCopyParentsMissingDirectory', async (t) => {
  const dockerfile = `
FROM busybox AS base
WORKDIR /test
RUN <<eot
	set -ex
	mkdir -p a/b/c/d/e
	touch a/b/c/d/foo
	touch a/b/c/d/e/bay
eot

FROM busybox AS normal
COPY --from=base --parents /test/a/b/c/d /out/
RUN <<eot
	set -ex
	[ -d /out/test/a/b/c/d/e ]
	[ -f /out/test/a/b/c/d/e/bay ]
	[ ! -d /out/e ]
	[ ! -d /out/a ]
eot

FROM busybox AS withpivot
COPY --from=base --parents /test/a/b/./c/d /out/
RUN <<eot
	set -ex
	[ -d /out/c/d/e ]
	[ -f /out/c/d/foo ]
	[ ! -d /out/a ]
	[ ! -d /out/e ]
eot

FROM busybox AS nonexistentfile
COPY --from=base --parents /test/nonexistent-file /out/

FROM busybox AS wildcard-nonexistent
COPY --from=base --parents /test/a/b2*/c /out/
RUN <<eot
	set -ex
	[ -d /out ]
	[ ! -d /out/a ]
eot

FROM busybox AS wildcard-afterpivot
COPY --from=base --parents /test/a/b/./c2* /out/
RUN <<eot
	set -ex
	[ -d /out ]
	[ ! -d /out/a ]
	[ ! -d /out/c* ]
eot
`;
  const tests: { target: string; errorRegex?: RegExp }[] = [
    { target: 'normal' },
    { target: 'withpivot' },
    { target: 'nonexistentfile', errorRegex: /failed to calculate checksum of ref.*: "\/test\/nonexistent-file": not found/ },
    { target: 'wildcard-nonexistent' },
    { target: 'wildcard-afterpivot' },
  ];
  const context = tempDir('bk-ctx');
  for (const tt of tests) {
    const r = await bkBuild({ dockerfile, context, args: ['--target', tt.target] });
    if (tt.errorRegex) {
      t.not(r.code, 0, `target: ${tt.target}`);
      t.regex(r.stderr, tt.errorRegex, `target: ${tt.target}`);
    } else {
      t.is(r.code, 0, `target: ${tt.target}\n${r.stderr}`);
    }
  }
});
