// BuildKit's frontend/dockerfile/dockerfile_export_test.go, ported (README.md).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bkBuildStdin, bkBuildTar, contextTar } from './harness.js';

test('testTarExporterBasic', async (t) => {
  const { entries, dir } = await bkBuildTar({
    dockerfile: `
FROM scratch
COPY foo foo
`,
    files: { foo: { content: 'data', mode: 0o600 } },
  });
  t.true(entries.includes('foo'), entries.join(' '));
  t.is(fs.readFileSync(path.join(dir, 'foo'), 'utf8'), 'data');
});

test('testTarExporterMulti', async (t) => {
  // Ported: the single-platform build. BuildKit's second half (--platform linux/amd64,darwin/amd64)
  // needs platform lists, issue 17.
  const { entries, dir } = await bkBuildTar({
    dockerfile: `
FROM scratch AS stage-linux
COPY foo forlinux

FROM scratch AS stage-darwin
COPY bar fordarwin

FROM stage-$TARGETOS
`,
    files: { foo: { content: 'data', mode: 0o600 }, bar: { content: 'data2', mode: 0o600 } },
  });
  t.true(entries.includes('forlinux'), entries.join(' '));
  t.is(fs.readFileSync(path.join(dir, 'forlinux'), 'utf8'), 'data');
});

test('testTarContext', async (t) => {
  // BuildKit uploads the tar through its session; `nbuild build -` reads it on standard input, as `docker build -`.
  const dockerfile = `
FROM scratch
COPY foo /`;
  const r = await bkBuildStdin(contextTar({ Dockerfile: { content: dockerfile, mode: 0o644 }, foo: { content: 'contents', mode: 0o644 } }));
  t.is(r.code, 0, r.stderr);
});
