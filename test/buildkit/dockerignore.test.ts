// BuildKit's frontend/dockerfile/dockerfile_dockerignore_test.go, ported (see README.md).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bkBuild, bkBuildLocal, readText } from './harness.js';
import { tempDir } from '../helpers/nbuild-cli.js';

test('testDockerignore', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch
COPY . .
`,
    files: {
      foo: { content: 'foo-contents', mode: 0o600 },
      bar: { content: 'bar-contents', mode: 0o600 },
      baz: { content: 'baz-contents', mode: 0o600 },
      bay: { content: 'bay-contents', mode: 0o600 },
      '.dockerignore': {
        content: `
ba*
Dockerfile
!bay
.dockerignore
`,
        mode: 0o600,
      },
    },
  });
  t.is(readText(out, 'foo'), 'foo-contents');
  t.false(fs.existsSync(path.join(out, '.dockerignore')));
  t.false(fs.existsSync(path.join(out, 'Dockerfile')));
  t.false(fs.existsSync(path.join(out, 'bar')));
  t.false(fs.existsSync(path.join(out, 'baz')));
  t.is(readText(out, 'bay'), 'bay-contents');
});

test('testDockerignoreInvalid', async (t) => {
  const started = Date.now();
  const r = await bkBuild({
    dockerfile: `
FROM scratch
COPY . .
`,
    files: { '.dockerignore': { content: '!\n', mode: 0o600 } },
  });
  // err is either the expected error due to invalid dockerignore or error from the timeout
  t.not(r.code, 0);
  t.true(Date.now() - started < 15_000, 'timed out');
});

test('testDockerignoreOverride', async (t) => {
  const context = tempDir('bk-ctx');
  const files = {
    'Dockerfile.dockerignore': { content: '\nbar\n', mode: 0o600 },
    Dockerfile2: {
      content: `
FROM busybox
COPY . .
RUN [ ! -f foo ] && [ -f bar ]
`,
      mode: 0o600,
    },
    'Dockerfile2.dockerignore': { content: '\nfoo\n', mode: 0o600 },
    foo: { content: 'contents0', mode: 0o600 },
    bar: { content: 'contents0', mode: 0o600 },
  };
  let r = await bkBuild({
    dockerfile: `
FROM busybox
COPY . .
RUN [ -f foo ] && [ ! -f bar ]
`,
    files,
    context,
  });
  t.is(r.code, 0, r.stderr);

  // BuildKit's `filename: Dockerfile2` (the Dockerfile written by the harness is not used).
  r = await bkBuild({
    dockerfile: '',
    context,
    args: ['-f', path.join(context, 'Dockerfile2')],
  });
  t.is(r.code, 0, r.stderr);
});
