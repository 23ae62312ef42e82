// BuildKit's frontend/dockerfile/dockerfile_add_test.go, ported (see README.md).
// BuildKit's test HTTP server (util/testutil/httpserver) becomes bkHttpServer, on 127.0.0.1.
import test from 'ava';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { bkBuild, bkBuildLocal, bkBuildTar, bkHttpServer, makeTar, readText } from './harness.js';
import { listLayer } from '../helpers/oci.js';
import { tempDir } from '../helpers/nbuild-cli.js';
import { execFileSync } from 'node:child_process';

const digestOf = (data: string | Uint8Array): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Go's http.TimeFormat: what BuildKit compares mtimes with (whole seconds, GMT). */
const httpTime = (d: Date): string => d.toUTCString();

function fooTar(): Buffer {
  return makeTar([{ name: 'foo', type: 'file', mode: 0o644, content: 'content0' }]);
}

test('testDockerfileADDFromURL', async (t) => {
  const modTime = new Date(Date.now() - 24 * 3600 * 1000); // avoid falso positive with current time
  const server = await bkHttpServer({
    '/foo': { etag: randomId(), content: 'content1' },
    '/': { etag: randomId(), lastModified: modTime, content: 'content2' },
  });
  t.teardown(() => server.close());

  const dockerfile = `
FROM scratch
ADD ${server.url}/foo /dest/
`;
  const context = tempDir('bk-ctx');
  let out = await bkBuildLocal({ dockerfile, context });
  t.is(readText(out, 'dest/foo'), 'content1');

  // run again to test HEAD request
  const again = await bkBuild({ dockerfile, context });
  t.is(again.code, 0, again.stderr);

  // test the default properties
  out = await bkBuildLocal({
    dockerfile: `
FROM scratch
ADD ${server.url}/ /dest/
`,
  });
  const destFile = path.join(out, 'dest/__unnamed__');
  t.is(fs.readFileSync(destFile, 'utf8'), 'content2');
  t.is(httpTime(fs.statSync(destFile).mtime), httpTime(modTime));

  const stats = server.requests('/foo');
  t.is(stats.length, 2);
  t.is(stats[0].method, 'GET');
  // BuildKit checks for its own product token ("buildkit/v"); nbuild sends its own.
  t.true(String(stats[0].headers['user-agent']).includes('nbuild/'), String(stats[0].headers['user-agent']));
  t.is(stats[1].method, 'HEAD');
  t.true(String(stats[1].headers['user-agent']).includes('nbuild/'), String(stats[1].headers['user-agent']));
});

test('testDockerfileAddArchive', async (t) => {
  const buf = fooTar();
  const expectedContent = 'content0';
  const baseImage = 'scratch';

  let out = await bkBuildLocal({
    dockerfile: `
FROM ${baseImage}
ADD t.tar /
`,
    files: { 't.tar': { content: buf, mode: 0o600 } },
  });
  t.is(readText(out, 'foo'), expectedContent);

  // add gzip tar
  const buf2 = gzipSync(buf);
  out = await bkBuildLocal({
    dockerfile: `
FROM ${baseImage}
ADD t.tar.gz /
`,
    files: { 't.tar.gz': { content: buf2, mode: 0o600 } },
  });
  t.is(readText(out, 'foo'), expectedContent);

  // add with unpack=false
  out = await bkBuildLocal({
    dockerfile: `
	FROM ${baseImage}
	ADD --unpack=false t.tar.gz /
	`,
    files: { 't.tar.gz': { content: buf2, mode: 0o600 } },
  });
  t.false(fs.existsSync(path.join(out, 'foo')));
  t.deepEqual(fs.readFileSync(path.join(out, 't.tar.gz')), buf2);

  // COPY doesn't extract
  out = await bkBuildLocal({
    dockerfile: `
FROM ${baseImage}
COPY t.tar.gz /
`,
    files: { 't.tar.gz': { content: buf2, mode: 0o600 } },
  });
  t.deepEqual(fs.readFileSync(path.join(out, 't.tar.gz')), buf2);

  // ADD from URL doesn't extract
  const server = await bkHttpServer({ '/t.tar.gz': { etag: randomId(), content: buf2 } });
  t.teardown(() => server.close());
  out = await bkBuildLocal({
    dockerfile: `
FROM ${baseImage}
ADD ${server.url}/t.tar.gz /
`,
  });
  t.deepEqual(fs.readFileSync(path.join(out, 't.tar.gz')), buf2);

  // ADD from URL with --unpack=true
  out = await bkBuildLocal({
    dockerfile: `
FROM ${baseImage}
ADD --unpack=true ${server.url}/t.tar.gz /dest/
`,
  });
  t.is(readText(out, 'dest/foo'), expectedContent);

  // https://github.com/moby/buildkit/issues/386
  out = await bkBuildLocal({
    dockerfile: `
FROM ${baseImage}
ADD ${server.url}/t.tar.gz /newname.tar.gz
`,
  });
  t.deepEqual(fs.readFileSync(path.join(out, 'newname.tar.gz')), buf2);
});

// https://github.com/moby/moby/issues/53257
test('testDockerfileAddArchiveWithImpliedParentDir', async (t) => {
  const buf = makeTar([
    { name: 'etc/dnf/', type: 'dir', mode: 0o755 },
    { name: 'etc/dnf/dnf.conf', type: 'file', mode: 0o644, content: 'content0' },
  ]);
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch
ADD t.tar.gz /
`,
    files: { 't.tar.gz': { content: gzipSync(buf), mode: 0o600 } },
  });
  t.is(readText(out, 'etc/dnf/dnf.conf'), 'content0');
});

// https://github.com/moby/moby/issues/53258
test('testDockerfileAddArchiveThroughAbsoluteSymlink', async (t) => {
  const rootfs = makeTar([
    { name: 'run/', type: 'dir', mode: 0o755 },
    { name: 'var/', type: 'dir', mode: 0o755 },
    { name: 'var/run', type: 'symlink', linkname: '/run', mode: 0o777 },
  ]);
  const expectedContent = 'ref: refs/heads/main\n';
  // Keep parent directories explicit so this isolates extraction through the
  // absolute symlink from implied parent directory handling.
  const payload = makeTar([
    { name: 'var/run/act/', type: 'dir', mode: 0o755 },
    { name: 'var/run/act/actions/', type: 'dir', mode: 0o755 },
    { name: 'var/run/act/actions/broad/', type: 'dir', mode: 0o755 },
    { name: 'var/run/act/actions/broad/.git/', type: 'dir', mode: 0o755 },
    { name: 'var/run/act/actions/broad/.git/HEAD', type: 'file', mode: 0o644, content: expectedContent },
    { name: 'var/run/act/actions/broad/.git/HEAD.link', type: 'hardlink', linkname: 'var/run/act/actions/broad/.git/HEAD', mode: 0o644 },
  ]);
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch
ADD rootfs.tar /
ADD payload.tar /
`,
    files: { 'rootfs.tar': { content: rootfs, mode: 0o600 }, 'payload.tar': { content: payload, mode: 0o600 } },
  });
  t.is(readText(out, 'run/act/actions/broad/.git/HEAD'), expectedContent);
  const linkPath = path.join(out, 'run/act/actions/broad/.git/HEAD.link');
  t.is(fs.readFileSync(linkPath, 'utf8'), expectedContent);
  const fileInfo = fs.statSync(path.join(out, 'run/act/actions/broad/.git/HEAD'));
  const linkInfo = fs.statSync(linkPath);
  t.true(fileInfo.ino === linkInfo.ino && fileInfo.dev === linkInfo.dev, 'HEAD.link is a hard link to HEAD');
});

test('testDockerfileAddChownArchive', async (t) => {
  const { file: tarFile } = await bkBuildTar({
    dockerfile: `
FROM scratch
ADD --chown=100:200 t.tar /out/
`,
    files: { 't.tar': { content: fooTar(), mode: 0o600 } },
  });
  const entries = new Map(listLayer(tarFile).map((e) => [e.name, e]));
  const foo = entries.get('out/foo');
  t.truthy(foo);
  t.is(foo?.owner, '100/200');
  const out = entries.get('out');
  t.truthy(out);
  t.is(out?.owner, '100/200');
  t.is(execFileSync('tar', ['-xOf', tarFile, '--wildcards', '*out/foo']).toString(), 'content0');
});

test('testDockerfileAddArchiveWildcard', async (t) => {
  const buf = makeTar([{ name: 'foo', type: 'file', mode: 0o644, content: 'content0' }]);
  const buf2 = makeTar([{ name: 'bar', type: 'file', mode: 0o644, content: 'content1' }]);
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch
ADD *.tar /dest
`,
    files: { 't.tar': { content: buf, mode: 0o600 }, 'b.tar': { content: buf2, mode: 0o600 } },
  });
  t.is(readText(out, 'dest/foo'), 'content0');
  t.is(readText(out, 'dest/bar'), 'content1');
});

test('testDockerfileAddChownExpand', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox
ARG group
ENV owner 1000
ADD --chown=\${owner}:\${group} foo /
RUN [ "$(stat -c "%u %G" /foo)" == "1000 nobody" ]
`,
    files: { foo: { content: 'foo-contents', mode: 0o600 } },
    args: ['--build-arg', 'group=nobody'],
  });
  t.is(r.code, 0, r.stderr);
});

test('testAddURLChmod', async (t) => {
  const server = await bkHttpServer({ '/foo': { etag: randomId(), content: 'content1' } });
  t.teardown(() => server.close());
  const url = `${server.url}/foo`;
  const out = await bkBuildLocal({
    dockerfile: `
FROM busybox AS build
ADD --chmod=644 ${url} /tmp/foo1
ADD --chmod=755 ${url} /tmp/foo2
ADD --chmod=0413 ${url} /tmp/foo3

ARG mode
ADD --chmod=\${mode} ${url} /tmp/foo4

RUN stat -c "%04a" /tmp/foo1 >> /dest && \\
	stat -c "%04a" /tmp/foo2 >> /dest && \\
	stat -c "%04a" /tmp/foo3 >> /dest && \\
	stat -c "%04a" /tmp/foo4 >> /dest

FROM scratch
COPY --from=build /dest /dest
`,
    args: ['--build-arg', 'mode=400'],
  });
  t.is(readText(out, 'dest'), '0644\n0755\n0413\n0400\n');
});

test('testAddInvalidChmod', async (t) => {
  let r = await bkBuild({
    dockerfile: `
FROM scratch
ADD --chmod=64a foo /
`,
    files: { foo: { content: 'foo-contents', mode: 0o600 } },
  });
  t.not(r.code, 0);
  t.true(r.stderr.includes("invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777"), r.stderr);

  r = await bkBuild({
    dockerfile: `
FROM scratch
ADD --chmod=10000 foo /
`,
    files: { foo: { content: 'foo-contents', mode: 0o600 } },
  });
  t.not(r.code, 0);
  t.true(r.stderr.includes("invalid chmod parameter: '10000'. it should be octal string and between 0 and 07777"), r.stderr);
});

test('testAddChecksum', async (t) => {
  const baseImage = 'scratch';
  const content = 'content1';
  const server = await bkHttpServer({ '/foo': { etag: randomId(), content } });
  t.teardown(() => server.close());
  const url = `${server.url}/foo`;
  const hex = digestOf(content).slice('sha256:'.length);

  // Valid
  let r = await bkBuild({
    dockerfile: `
FROM ${baseImage}
ADD --checksum=${digestOf(content)} ${url} /tmp/foo
`,
  });
  t.is(r.code, 0, `Valid: ${r.stderr}`);

  // DigestFromEnv
  r = await bkBuild({
    dockerfile: `
FROM ${baseImage}
ENV DIGEST=${digestOf(content)}
ENV LINK=${url}
ADD --checksum=\${DIGEST} \${LINK} /tmp/foo
`,
  });
  t.is(r.code, 0, `DigestFromEnv: ${r.stderr}`);

  // DigestMismatch
  r = await bkBuild({
    dockerfile: `
FROM ${baseImage}
ADD --checksum=${digestOf('')} ${url} /tmp/foo
`,
  });
  t.not(r.code, 0, 'digest mismatch');

  // DigestWithKnownButUnsupportedAlgoName
  r = await bkBuild({
    dockerfile: `
FROM ${baseImage}
ADD --checksum=md5:7e55db001d319a94b0b713529a756623 ${url} /tmp/foo
`,
  });
  t.not(r.code, 0, 'unsupported digest algorithm');

  // DigestWithUnknownAlgoName
  r = await bkBuild({
    dockerfile: `
FROM ${baseImage}
ADD --checksum=unknown:${hex} ${url} /tmp/foo
`,
  });
  t.not(r.code, 0, 'unsupported digest algorithm');

  // DigestWithoutAlgoName
  r = await bkBuild({
    dockerfile: `
FROM ${baseImage}
ADD --checksum=${hex} ${url} /tmp/foo
`,
  });
  t.not(r.code, 0, 'invalid checksum digest format');

  // NonHTTPSource
  const foo = 'local file';
  r = await bkBuild({
    dockerfile: `
FROM ${baseImage}
ADD --checksum=${digestOf(foo)} foo /tmp/foo
`,
    files: { foo: { content: foo, mode: 0o600 } },
  });
  t.not(r.code, 0, 'checksum requires HTTP(S) or Git sources');
});

function randomId(): string {
  return createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 25);
}
