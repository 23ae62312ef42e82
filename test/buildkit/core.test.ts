// BuildKit's frontend/dockerfile/dockerfile_core_test.go, ported (test/buildkit/README.md).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bkBuild, bkBuildImage, bkBuildLocal, bkBuildWith, bkStore, bkStoreOfficialBusybox, readText, writeContext } from './harness.js';
import { nbuild, tempDir } from '../helpers/nbuild-cli.js';

// buildctl's --local context=… --local dockerfile=… are nbuild's CONTEXT and -f; its trace file has no analog.
// On the CLI: `-f` and the context relative to the working directory are the CLI's.
test('testDockerfileDirs', async (t) => {
  const root = await bkStore();
  const dockerfile = `
FROM busybox
COPY foo /foo2
COPY foo /
RUN echo -n bar > foo3
RUN test -f foo
RUN cmp -s foo foo2
RUN cmp -s foo foo3
`;
  const dir = tempDir('bk-ctx');
  writeContext(dir, { Dockerfile: dockerfile, foo: 'bar' });
  let r = await nbuild(['--root', root, 'build', '--progress', 'plain', '-f', path.join(dir, 'Dockerfile'), dir]);
  t.is(r.code, 0, r.stderr);

  // relative urls
  r = await nbuild(['--root', root, 'build', '--progress', 'plain', '-f', 'Dockerfile', '.'], { cwd: dir });
  t.is(r.code, 0, r.stderr);

  // different context and dockerfile directories
  const dir1 = tempDir('bk-ctx');
  writeContext(dir1, { Dockerfile: dockerfile });
  const dir2 = tempDir('bk-ctx');
  writeContext(dir2, { foo: 'bar' });
  r = await nbuild(['--root', root, 'build', '--progress', 'plain', '-f', path.join(dir1, 'Dockerfile'), dir2], { cwd: dir });
  t.is(r.code, 0, r.stderr);
});

test('testSymlinkedDockerfile', async (t) => {
  const dockerfile = `
FROM scratch
ENV foo bar
`;
  const r = await bkBuild({ dockerfile: '', files: { 'Dockerfile.web': dockerfile, Dockerfile: { symlink: 'Dockerfile.web' } } });
  t.is(r.code, 0, r.stderr);
});

test('testSymlinkDestination', async (t) => {
  // t.tar: one entry, `symlink` → ../tmp/symlink-target (mode 0755)
  const src = tempDir('bk-tar');
  fs.symlinkSync('../tmp/symlink-target', path.join(src, 'symlink'));
  const context = tempDir('bk-ctx');
  execFileSync('tar', ['--format=ustar', '--owner=0', '--group=0', '-cf', path.join(context, 't.tar'), '-C', src, 'symlink']);
  const dest = await bkBuildLocal({
    context,
    dockerfile: `
FROM scratch
ADD t.tar /
COPY foo /symlink/
`,
    files: { foo: 'content0' },
  });
  t.is(readText(dest, 'tmp/symlink-target/foo'), 'content0');
});

// tonistiigi/fsutil#46
test('testContextChangeDirToFile', async (t) => {
  const dockerfile = `
FROM scratch
COPY foo /
`;
  const r = await bkBuild({ dockerfile, files: { 'foo/bar': 'contents' } });
  t.is(r.code, 0, r.stderr);
  const dest = await bkBuildLocal({ dockerfile, files: { foo: 'contents2' } });
  t.is(readText(dest, 'foo'), 'contents2');
});

test('testExposeExpansion', async (t) => {
  const img = await bkBuildImage(
    {
      dockerfile: `
FROM scratch
ARG PORTS="3000 4000/udp"
EXPOSE $PORTS
EXPOSE 5000
`,
    },
    'example.com/moby/dockerfileexpansion:test',
  );
  const ports = Object.keys((img.Config.ExposedPorts ?? {}) as Record<string, unknown>).sort();
  t.is(ports.length, 3);
  t.is(ports[0], '3000/tcp');
  t.is(ports[1], '4000/udp');
  t.is(ports[2], '5000/tcp');
});

// moby/moby#10858
test('testDockerfileLowercase', async (t) => {
  const root = await bkStore();
  const dir = tempDir('bk-ctx');
  writeContext(dir, { dockerfile: '\nFROM scratch\n' });
  const r = await bkBuildWith(root, dir, []);
  t.is(r.code, 0, r.stderr);
});

// BuildKit's frontend attribute label:bar=baz is `--label bar=baz`.
test('testLabels', async (t) => {
  const img = await bkBuildImage(
    {
      dockerfile: `
FROM scratch
LABEL foo=bar
`,
      args: ['--label', 'bar=baz'],
    },
    'example.com/moby/dockerfilelabels:test',
  );
  t.is(img.Config.Labels?.['foo'], 'bar');
  t.is(img.Config.Labels?.['bar'], 'baz');
});

// On busybox's own user database (bkStoreOfficialBusybox): root is in wheel.
test('testUser', async (t) => {
  const root = await bkStoreOfficialBusybox();
  const dockerfile = `
FROM busybox AS base
RUN mkdir -m 0777 /out
RUN id -un > /out/rootuser

# Make sure our defaults work
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)" = '0:0/root:root' ]

# TODO decide if "args.user = strconv.Itoa(syscall.Getuid())" is acceptable behavior for changeUser in sysvinit instead of "return nil" when "USER" isn't specified (so that we get the proper group list even if that is the empty list, even in the default case of not supplying an explicit USER to run as, which implies USER 0)
USER root
RUN [ "$(id -G):$(id -Gn)" = '0 10:root wheel' ]

# Setup dockerio user and group
RUN echo 'dockerio:x:1001:1001::/bin:/bin/false' >> /etc/passwd && \\
	echo 'dockerio:x:1001:' >> /etc/group

# Make sure we can switch to our user and all the information is exactly as we expect it to be
USER dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]

# Switch back to root and double check that worked exactly as we might expect it to
USER root
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '0:0/root:root/0 10:root wheel' ] && \\
        # Add a "supplementary" group for our dockerio user
	echo 'supplementary:x:1002:dockerio' >> /etc/group

# ... and then go verify that we get it like we expect
USER dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001 1002:dockerio supplementary' ]
USER 1001
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001 1002:dockerio supplementary' ]

# super test the new "user:group" syntax
USER dockerio:dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER 1001:dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER dockerio:1001
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER 1001:1001
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER dockerio:supplementary
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER dockerio:1002
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER 1001:supplementary
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER 1001:1002
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]

# make sure unknown uid/gid still works properly
USER 1042:1043
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1042:1043/1042:1043/1043:1043' ]
USER daemon
RUN id -un > /out/daemonuser
FROM scratch
COPY --from=base /out /
USER nobody
`;
  const dest = await bkBuildLocal({ root, dockerfile });
  t.is(readText(dest, 'rootuser'), 'root\n');
  t.is(readText(dest, 'daemonuser'), 'daemon\n');
  // test user in exported
  const img = await bkBuildImage({ root, dockerfile }, 'example.com/moby/dockerfileuser:test');
  t.is(img.Config.User, 'nobody');
});

// The primary GID is also in the additional GID list (CVE-2023-25173); on busybox's own user database.
test('testUserAdditionalGids', async (t) => {
  const root = await bkStoreOfficialBusybox();
  const r = await bkBuild({
    root,
    dockerfile: `
# Mimics the tests in https://github.com/containerd/containerd/commit/3eda46af12b1deedab3d0802adb2e81cb3521950
FROM busybox
SHELL ["/bin/sh", "-euxc"]
RUN [ "$(id)" = "uid=0(root) gid=0(root) groups=0(root),10(wheel)" ]
USER 1234
RUN [ "$(id)" = "uid=1234 gid=0(root) groups=0(root)" ]
USER 1234:1234
RUN [ "$(id)" = "uid=1234 gid=1234 groups=1234" ]
USER daemon
RUN [ "$(id)" = "uid=1(daemon) gid=1(daemon) groups=1(daemon)" ]
`,
  });
  t.is(r.code, 0, r.stderr);
});

// moby/buildkit#1301. The cases "meta" and "meta and arg" set BuildKit's `hostname` frontend
// attribute, which only buildctl gives (docker build has no such flag): not ported (README).
test('testDockerfileCheckHostname', async (t) => {
  const dockerfile = `
FROM busybox
RUN cat /etc/hosts | grep foo
RUN echo $HOSTNAME | grep foo
	RUN echo $(hostname) | grep foo
	`;
  // case "arg"
  const r = await bkBuild({ dockerfile, args: ['--build-arg', 'BUILDKIT_SANDBOX_HOSTNAME=foo'] });
  t.is(r.code, 0, r.stderr);
});

test('testStepNames', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox AS base
WORKDIR /out
RUN echo "base" > base
FROM scratch
COPY --from=base --chmod=0644 /out /out
`,
  });
  t.is(r.code, 0, r.stderr);
  // the steps' names as the progress shows them (BuildKit's vertex names)
  const names = r.stderr.split('\n').flatMap((l) => /^#\d+ (\[.*)$/.exec(l)?.[1] ?? []);
  t.true(names.includes('[base 3/3] RUN echo "base" > base'), names.join('\n'));
  t.true(names.includes('[stage-1 1/1] COPY --from=base --chmod=0644 /out /out'), names.join('\n'));
});

test('testTargetMistype', async (t) => {
  // the planner suggests the closest stage ("did you mean build?")
  const r = await bkBuild({
    dockerfile: `
FROM scratch AS build
COPY Dockerfile /out

FROM scratch
COPY --from=build /out /
`,
    args: ['--target', 'bulid'],
  });
  t.not(r.code, 0);
  t.true(r.stderr.includes('target stage "bulid" could not be found (did you mean build?)'), r.stderr);
});
