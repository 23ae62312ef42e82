// BuildKit's frontend/dockerfile/dockerfile_cmd_test.go, ported (README.md).
import test from 'ava';
import { bkBuild, bkBuildError, bkBuildImage, bkStore } from './harness.js';

test('testCmdShell', async (t) => {
  // BuildKit exports to containerd and reads the config there; nbuild's store plays that part.
  const root = await bkStore();
  await bkBuildImage({ root, dockerfile: `
FROM scratch
CMD ["test"]
` }, 'docker.io/moby/cmdoverridetest:latest');

  const img = await bkBuildImage({ root, dockerfile: `
FROM docker.io/moby/cmdoverridetest:latest
SHELL ["ls"]
ENTRYPOINT my entrypoint
` }, 'docker.io/moby/cmdoverridetest2:latest');

  t.deepEqual(img.Config.Cmd ?? null, null);
  t.deepEqual(img.Config.Entrypoint, ['ls', 'my entrypoint']);
});

test('testIgnoreEntrypoint', async (t) => {
  const r = await bkBuild({ dockerfile: `
FROM busybox
ENTRYPOINT ["/nosuchcmd"]
RUN ["ls"]
` });
  t.is(r.code, 0, r.stderr);
});

test('testInvalidJSONCommands', async (t) => {
  // BuildKit's base is alpine; the test only needs a shell.
  const err = await bkBuildError({ dockerfile: `
FROM busybox
RUN ["echo", "hello"]this is invalid
` });
  t.true(err.includes('this is invalid'), err);

  // BuildKit pushes the image to a registry to read its config; the store's inspect reads the same config.
  const img = await bkBuildImage({ dockerfile: `
FROM busybox
ENTRYPOINT []random string
` });
  t.deepEqual(img.Config.Entrypoint, ['/bin/sh', '-c', '[]random string']);
});

test('testDockerfileInvalidCommand', async (t) => {
  const err = await bkBuildError({ dockerfile: `
	FROM busybox
	RUN invalidcmd
` });
  t.true(err.includes('/bin/sh -c invalidcmd'), err);
  t.true(err.includes('did not complete successfully'), err);
});

test('testDockerfileInvalidInstruction', async (t) => {
  const err = await bkBuildError({ dockerfile: `
FROM scratch
FNTRYPOINT ["/bin/sh", "-c", "echo invalidinstruction"]
` });
  t.true(err.includes('unknown instruction: FNTRYPOINT'), err);
  t.true(err.includes('did you mean ENTRYPOINT?'), err);
});
