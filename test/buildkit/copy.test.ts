// BuildKit's frontend/dockerfile/dockerfile_copy_test.go, ported (see README.md).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bkBuild, bkBuildLocal, readText } from './harness.js';
import { tempDir } from '../helpers/nbuild-cli.js';

/** BuildKit's tests that only check that the build (its RUN assertions) succeeds. */
async function buildSucceeds(t: import('ava').ExecutionContext, req: Parameters<typeof bkBuild>[0]): Promise<void> {
  const r = await bkBuild(req);
  t.is(r.code, 0, r.stderr);
}

test('testDockerfileCopyFromArgs', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM scratch
COPY --from=$FOO . .
`,
  });
  t.not(r.code, 0);
  t.true(r.stderr.includes('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround'), r.stderr);
});

test('testEmptyDestDir', async (t) => {
  await buildSucceeds(t, {
    dockerfile: `
FROM busybox
ENV empty=""
COPY testfile $empty
RUN [ "$(cat testfile)" == "contents0" ]
`,
    files: { testfile: { content: 'contents0', mode: 0o600 } },
  });
});

test('testPreserveDestDirSlash', async (t) => {
  await buildSucceeds(t, {
    dockerfile: `
FROM busybox
COPY testfile /sample/
RUN [ "$(cat /sample/testfile)" == "contents0" ]
`,
    files: { testfile: { content: 'contents0', mode: 0o600 } },
  });
});

test('testCopyLinkDotDestDir', async (t) => {
  await buildSucceeds(t, {
    dockerfile: `
FROM busybox
WORKDIR /var/www
COPY --link testfile .
RUN [ "$(cat testfile)" == "contents0" ]
`,
    files: { testfile: { content: 'contents0', mode: 0o600 } },
  });
});

test('testCopyLinkEmptyDestDir', async (t) => {
  await buildSucceeds(t, {
    dockerfile: `
FROM busybox
WORKDIR /var/www
ENV empty=""
COPY --link testfile $empty
RUN [ "$(cat testfile)" == "contents0" ]
`,
    files: { testfile: { content: 'contents0', mode: 0o600 } },
  });
});

test('testCopyChownExistingDir', async (t) => {
  const check = (e: string, p: string): string =>
    ` e="${e}"; p="${p}"; a=\`stat -c "%u:%g" "$p"\`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi`;
  const dockerfile = `
# Set up files and directories with known ownership
FROM busybox AS source
RUN touch /file && chown 100:200 /file \\
 && mkdir -p /dir/subdir \\
 && touch /dir/subdir/nestedfile \\
 && chown 100:200 /dir \\
 && chown 101:201 /dir/subdir \\
 && chown 102:202 /dir/subdir/nestedfile

FROM busybox AS test_base
RUN mkdir -p /existingdir/existingsubdir \\
 && touch /existingdir/existingfile \\
 && chown 500:600 /existingdir \\
 && chown 501:601 /existingdir/existingsubdir \\
 && chown 501:601 /existingdir/existingfile


# Copy files from the source stage
FROM test_base AS copy_from
COPY --from=source /file .
# Copy to a non-existing target directory creates the target directory (as root), then copies the _contents_ of the source directory into it
COPY --from=source /dir /dir
# Copying to an existing target directory will copy the _contents_ of the source directory into it
COPY --from=source /dir/. /existingdir

RUN${check('100:200', '/file')} \\
 &&${check('0:0', '/dir')} \\
 &&${check('101:201', '/dir/subdir')} \\
 &&${check('102:202', '/dir/subdir/nestedfile')} \\
# Existing files and directories ownership should not be modified
 &&${check('500:600', '/existingdir')} \\
 &&${check('501:601', '/existingdir/existingsubdir')} \\
 &&${check('501:601', '/existingdir/existingfile')} \\
# But new files and directories should maintain their ownership
 &&${check('101:201', '/existingdir/subdir')} \\
 &&${check('102:202', '/existingdir/subdir/nestedfile')}


# Copy files from the source stage and chown them.
FROM test_base AS copy_from_chowned
COPY --from=source --chown=300:400 /file .
# Copy to a non-existing target directory creates the target directory (as root), then copies the _contents_ of the source directory into it
COPY --from=source --chown=300:400 /dir /dir
# Copying to an existing target directory copies the _contents_ of the source directory into it
COPY --from=source --chown=300:400 /dir/. /existingdir

RUN${check('300:400', '/file')} \\
 &&${check('300:400', '/dir')} \\
 &&${check('300:400', '/dir/subdir')} \\
 &&${check('300:400', '/dir/subdir/nestedfile')} \\
# Existing files and directories ownership should not be modified
 &&${check('500:600', '/existingdir')} \\
 &&${check('501:601', '/existingdir/existingsubdir')} \\
 &&${check('501:601', '/existingdir/existingfile')} \\
# But new files and directories should be chowned
 &&${check('300:400', '/existingdir/subdir')} \\
 &&${check('300:400', '/existingdir/subdir/nestedfile')}
`;
  const files = { 'Dockerfile.web': { content: dockerfile, mode: 0o600 }, Dockerfile: { symlink: 'Dockerfile.web' } };
  await buildSucceeds(t, { dockerfile, files });
  await buildSucceeds(t, { dockerfile, files, args: ['--target', 'copy_from'] });
});

test('testCopyWildcardCache', async (t) => {
  const context = tempDir('bk-ctx');
  const dockerfile = `
FROM busybox AS base
COPY foo* files/
RUN cat /dev/urandom | head -c 100 | sha256sum > unique
COPY bar files/
FROM scratch
COPY --from=base unique /
`;
  const files = { foo1: { content: 'foo1-data', mode: 0o600 }, foo2: { content: 'foo2-data', mode: 0o600 }, bar: { content: 'bar-data', mode: 0o600 } };
  const dt = readText(await bkBuildLocal({ dockerfile, files, context }), 'unique');

  fs.writeFileSync(path.join(context, 'bar'), 'bar-data-mod');
  const dt2 = readText(await bkBuildLocal({ dockerfile, context }), 'unique');
  t.is(dt2, dt);

  fs.writeFileSync(path.join(context, 'foo2'), 'foo2-data-mod');
  const dt3 = readText(await bkBuildLocal({ dockerfile, context }), 'unique');
  t.not(dt3, dt);
});

test('testEmptyWildcard', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch
COPY foo nomatch* /
`,
    files: { foo: { content: 'contents0', mode: 0o600 } },
  });
  t.is(readText(out, 'foo'), 'contents0');
});

test('testCopyChownCreateDest', async (t) => {
  await buildSucceeds(t, {
    dockerfile: `
FROM busybox
ARG group
ENV owner user01
RUN adduser -D user
RUN adduser -D user01
COPY --chown=user:user . /dest
COPY --chown=\${owner}:\${group} . /dest01
RUN [ "$(stat -c "%U %G" /dest)" == "user user" ]
RUN [ "$(stat -c "%U %G" /dest01)" == "user01 user" ]
`,
    args: ['--build-arg', 'group=user'],
  });
});

test('testCopyThroughSymlinkContext', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch
COPY link/foo .
`,
    files: { link: { symlink: 'sub' }, 'sub/foo': { content: 'contents', mode: 0o600 } },
  });
  t.is(readText(out, 'foo'), 'contents');
});

test('testCopyThroughSymlinkMultiStage', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM busybox AS build
RUN mkdir -p /out/sub && ln -s /out/sub /sub && ln -s out/sub /sub2 && echo -n "data" > /sub/foo
FROM scratch
COPY --from=build /sub/foo .
COPY --from=build /sub2/foo bar
	`,
  });
  t.is(readText(out, 'foo'), 'data');
});

test('testCopySocket', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch
COPY . /
`,
    files: { 'socket.sock': { socket: true } },
  });
  const fi = fs.lstatSync(path.join(out, 'socket.sock'));
  // make sure socket is converted to regular file.
  t.true(fi.isFile());
});

// #1197
test('testCopyFollowAllSymlinks', async (t) => {
  await buildSucceeds(t, {
    dockerfile: `
FROM scratch
COPY foo /
COPY foo/sub bar
`,
    files: { bar: { content: 'bar-contents', mode: 0o600 }, 'foo/sub': { symlink: '../bar' } },
  });
});

test('testCopySymlinks', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch
COPY foo /
COPY sub/l* alllinks/
`,
    files: {
      bar: { content: 'bar-contents', mode: 0o600 },
      foo: { symlink: 'bar' },
      'sub/lfile': { content: 'lfile-contents', mode: 0o600 },
      'sub/l0': { symlink: 'subfile' },
      'sub/subfile': { content: 'subfile-contents', mode: 0o600 },
      'sub/l1': { symlink: 'second' },
      'sub/second': { symlink: 'baz' },
      'sub/baz': { content: 'baz-contents', mode: 0o600 },
    },
  });
  t.is(readText(out, 'foo'), 'bar-contents');
  t.is(readText(out, 'alllinks/l0'), 'subfile-contents');
  t.is(readText(out, 'alllinks/lfile'), 'lfile-contents');
  t.is(readText(out, 'alllinks/l1'), 'baz-contents');
});

test('testCopyChown', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM busybox AS base
ENV owner 1000
RUN mkdir -m 0777 /out
COPY --chown=daemon foo /
COPY --chown=1000:nobody bar /baz
ARG group
COPY --chown=\${owner}:\${group} foo /foobis
RUN stat -c "%U %G" /foo  > /out/fooowner
RUN stat -c "%u %G" /baz/sub  > /out/subowner
RUN stat -c "%u %G" /foobis  > /out/foobisowner
FROM scratch
COPY --from=base /out /
`,
    files: { foo: { content: 'foo-contents', mode: 0o600 }, 'bar/sub': { content: '', mode: 0o600 } },
    args: ['--build-arg', 'group=nobody'],
  });
  t.is(readText(out, 'fooowner'), 'daemon daemon\n');
  t.is(readText(out, 'subowner'), '1000 nobody\n');
  t.is(readText(out, 'foobisowner'), '1000 nobody\n');
});

test('testCopyChmod', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM busybox AS base

RUN mkdir -m 0777 /out
COPY --chmod=0644 foo /
COPY --chmod=777 bar /baz
COPY --chmod=0 foo /foobis
COPY --chmod=777 foo /parent/foo
COPY --chmod=770 foo /parent/sub/foo

ARG mode
COPY --chmod=\${mode} foo /footer

RUN stat -c "%04a" /foo  > /out/fooperm
RUN stat -c "%04a" /baz  > /out/barperm
RUN stat -c "%04a" /foobis  > /out/foobisperm
RUN stat -c "%04a" /parent  > /out/parentperm
RUN stat -c "%04a" /parent/sub  > /out/subparentperm
RUN stat -c "%04a" /footer  > /out/footerperm
FROM scratch
COPY --from=base /out /
`,
    files: { foo: { content: 'foo-contents', mode: 0o600 }, bar: { content: 'bar-contents', mode: 0o700 } },
    args: ['--build-arg', 'mode=755'],
  });
  t.is(readText(out, 'fooperm'), '0644\n');
  t.is(readText(out, 'barperm'), '0777\n');
  t.is(readText(out, 'foobisperm'), '0000\n');
  t.is(readText(out, 'parentperm'), '0777\n');
  t.is(readText(out, 'subparentperm'), '0770\n');
  t.is(readText(out, 'footerperm'), '0755\n');
});

test('testCopyInvalidChmod', async (t) => {
  let r = await bkBuild({
    dockerfile: `
FROM scratch
COPY --chmod=64a foo /
`,
    files: { foo: { content: 'foo-contents', mode: 0o600 } },
  });
  t.not(r.code, 0);
  t.true(r.stderr.includes("invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777"), r.stderr);

  r = await bkBuild({
    dockerfile: `
FROM scratch
COPY --chmod=10000 foo /
`,
    files: { foo: { content: 'foo-contents', mode: 0o600 } },
  });
  t.not(r.code, 0);
  t.true(r.stderr.includes("invalid chmod parameter: '10000'. it should be octal string and between 0 and 07777"), r.stderr);
});

test('testCopyOverrideFiles', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch AS base
COPY sub sub
COPY sub sub
COPY files/foo.go dest/foo.go
COPY files/foo.go dest/foo.go
COPY files dest
`,
    files: {
      'sub/dir1/dir2/foo': { content: 'foo-contents', mode: 0o600 },
      'files/foo.go': { content: 'foo.go-contents', mode: 0o600 },
    },
  });
  t.is(readText(out, 'sub/dir1/dir2/foo'), 'foo-contents');
  t.is(readText(out, 'dest/foo.go'), 'foo.go-contents');
});

test('testCopyVarSubstitution', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch AS base
ENV FOO bar
COPY $FOO baz
`,
    files: { bar: { content: 'bar-contents', mode: 0o600 } },
  });
  t.is(readText(out, 'baz'), 'bar-contents');
});

test('testCopyWildcards', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch AS base
COPY *.go /gofiles/
COPY f*.go foo2.go
COPY sub/* /subdest/
COPY sub/*/dir2/foo /subdest2/
COPY sub/*/dir2/foo /subdest3/bar
COPY . all/
COPY sub/dir1/ subdest4
COPY sub/dir1/. subdest5
COPY sub/dir1 subdest6
`,
    files: {
      'foo.go': { content: 'foo-contents', mode: 0o600 },
      'bar.go': { content: 'bar-contents', mode: 0o600 },
      'sub/dir1/dir2/foo': { content: 'foo-contents', mode: 0o600 },
    },
  });
  t.is(readText(out, 'gofiles/foo.go'), 'foo-contents');
  t.is(readText(out, 'gofiles/bar.go'), 'bar-contents');
  t.is(readText(out, 'foo2.go'), 'foo-contents');
  t.is(readText(out, 'subdest/dir2/foo'), 'foo-contents');
  t.is(readText(out, 'subdest2/foo'), 'foo-contents');
  t.is(readText(out, 'subdest3/bar'), 'foo-contents');
  t.is(readText(out, 'all/foo.go'), 'foo-contents');
  t.is(readText(out, 'subdest4/dir2/foo'), 'foo-contents');
  t.is(readText(out, 'subdest5/dir2/foo'), 'foo-contents');
  t.is(readText(out, 'subdest6/dir2/foo'), 'foo-contents');
});

test('testCopyRelative', async (t) => {
  await buildSucceeds(t, {
    dockerfile: `
FROM busybox
WORKDIR /test1
WORKDIR test2
RUN sh -c "[ "$PWD" = '/test1/test2' ]"
COPY foo ./
RUN sh -c "[ $(cat /test1/test2/foo) = 'hello' ]"
ADD foo ./bar/baz
RUN sh -c "[ $(cat /test1/test2/bar/baz) = 'hello' ]"
COPY foo ./bar/baz2
RUN sh -c "[ $(cat /test1/test2/bar/baz2) = 'hello' ]"
WORKDIR ..
COPY foo ./
RUN sh -c "[ $(cat /test1/foo) = 'hello' ]"
COPY foo /test3/
RUN sh -c "[ $(cat /test3/foo) = 'hello' ]"
WORKDIR /test4
COPY . .
RUN sh -c "[ $(cat /test4/foo) = 'hello' ]"
WORKDIR /test5/test6
COPY foo ../
RUN sh -c "[ $(cat /test5/foo) = 'hello' ]"
`,
    files: { foo: { content: 'hello', mode: 0o600 } },
  });
});

// BuildKit uses `FROM alpine`; nothing of the base is read, so busybox stands in.
test('testCopyUnicodePath', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM busybox
COPY test-äöü.txt /
COPY test-%C3%A4%C3%B6%C3%BC.txt /
COPY test+aou.txt /
`,
    files: {
      'test-äöü.txt': { content: 'foo', mode: 0o644 },
      'test-%C3%A4%C3%B6%C3%BC.txt': { content: 'bar', mode: 0o644 },
      'test+aou.txt': { content: 'baz', mode: 0o644 },
    },
  });
  t.is(readText(out, 'test-äöü.txt'), 'foo');
  t.is(readText(out, 'test-%C3%A4%C3%B6%C3%BC.txt'), 'bar');
  t.is(readText(out, 'test+aou.txt'), 'baz');
});

// BuildKit uses `FROM alpine` for a shell with cp, chmod and stat: busybox has them.
test('testChmodNonOctal', async (t) => {
  const tcases = [
    { src: 'file', dst: 'f1', mode: 'go-w', isDir: false },
    { src: 'file', dst: 'f2', mode: 'u=rw,g=r,o=r', isDir: false },
    { src: 'file', dst: 'f3', mode: 'a+X', isDir: false },
    { src: 'dir', dst: 'd1', mode: 'go-w', isDir: true },
    { src: 'dir', dst: 'd2', mode: 'u+rw,g+r,o-x,o+w', isDir: true },
    { src: 'dir', dst: 'd3', mode: 'a+X', isDir: true },
  ];
  let expectedCommands = '';
  let copyCommands = '';
  let verifyCommands = '';
  for (const tc of tcases) {
    if (tc.isDir) {
      // create nested input dir because COPY copies directory contents
      expectedCommands += `RUN mkdir -p /input/dirs/${tc.dst} && cp -a /input/${tc.src} /input/dirs/${tc.dst}/${tc.dst}\n`;
      expectedCommands += `RUN cp -a /input/dirs/${tc.dst}/. /expected/ && chmod ${tc.mode} /expected/${tc.dst}\n`;
      copyCommands += `COPY --from=base --chmod=${tc.mode} /input/dirs/${tc.dst} /\n`;
    } else {
      expectedCommands += `RUN cp -a /input/${tc.src} /expected/${tc.dst} && chmod ${tc.mode} /expected/${tc.dst}\n`;
      copyCommands += `COPY --from=base --chmod=${tc.mode} /input/${tc.src} /${tc.dst}\n`;
    }
    verifyCommands += `RUN [ "$(stat -c %A /actual/${tc.dst})" = "$(stat -c %A /expected/${tc.dst})" ]\n`;
  }
  await buildSucceeds(t, {
    dockerfile: `
FROM busybox as base
RUN <<eot
	set -ex
	mkdir /input
	touch /input/file
	chmod 666 /input/file
	mkdir /input/dir
	chmod 124 /input/dir
	mkdir /expected
eot
${expectedCommands}

FROM scratch as result
${copyCommands}

FROM base
COPY --from=result / /actual/
${verifyCommands}

`,
  });
});
