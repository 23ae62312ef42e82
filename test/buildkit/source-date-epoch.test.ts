// BuildKit's frontend/dockerfile/dockerfile_source_date_epoch_test.go, ported (README.md).
//
// BuildKit's `rewrite-timestamp=true` exporter option clamps the file times of the layers a build
// makes to SOURCE_DATE_EPOCH and marks each such layer with the annotation
// `buildkit/rewritten-timestamp=EPOCH`. nbuild always clamps when it has an epoch and writes no
// BuildKit annotation, so where BuildKit reads the annotation these tests read what it stands
// for: the times of the files in that layer (a layer left alone keeps the context's times).
import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { bkBuildError, bkBuildOci, bkBuildWith, bkFileServer, bkStore, unpackLayer } from './harness.js';
import { openOciArchive, type OpenedArchive } from '../helpers/oci.js';
import { tempDir } from '../helpers/nbuild-cli.js';

const unix = (iso: string | undefined): number => Math.floor(new Date(iso ?? '').getTime() / 1000);

/** The mtime (seconds) of every file in a layer of the archive. */
function layerTimes(archive: OpenedArchive, layerIndex: number): Map<string, number> {
  const dir = unpackLayer(archive, archive.manifest.layers[layerIndex].digest);
  const times = new Map<string, number>();
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const p = path.join(rel, name);
      const st = fs.lstatSync(path.join(dir, p));
      if (st.isDirectory()) walk(p);
      else times.set(p, Math.floor(st.mtimeMs / 1000));
    }
  };
  walk('');
  return times;
}

/** Asserts the layer's files carry the epoch, as BuildKit's rewritten-timestamp annotation says. */
function rewrittenTimestamp(archive: OpenedArchive, layerIndex: number): string {
  const times = [...layerTimes(archive, layerIndex).values()];
  return times.length > 0 && times.every((s) => s === times[0]) ? String(times[0]) : '';
}

/** A tar with regular files of the given times (BuildKit's makeTarContext). */
/** The epoch reached the last layer's file times, the RUN that wrote it to /epoch, and `created`. */
function assertEpochApplied(t: ExecutionContext, archive: OpenedArchive, epoch: number): void {
  const layers = archive.manifest.layers;
  t.true(layers.length > 0);
  t.is(rewrittenTimestamp(archive, layers.length - 1), String(epoch));
  const dir = unpackLayer(archive, layers[layers.length - 1].digest);
  t.is(fs.readFileSync(path.join(dir, 'epoch'), 'utf8'), String(epoch));
  t.is(unix(archive.config.created), epoch);
}

function makeTarContext(files: { name: string; data: string; modTime: number }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const header = Buffer.alloc(512);
    const put = (text: string, offset: number, length: number): void => void header.write(text, offset, length, 'ascii');
    const octal = (n: number, length: number): string => n.toString(8).padStart(length - 1, '0') + '\0';
    put(f.name, 0, 100);
    put(octal(0o600, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(Buffer.byteLength(f.data), 12), 124, 12);
    put(octal(f.modTime, 12), 136, 12);
    put('        ', 148, 8);
    put('0', 156, 1);
    put('ustar\0', 257, 6);
    put('00', 263, 2);
    let sum = 0;
    for (const b of header) sum += b;
    put(octal(sum, 7) + ' ', 148, 8);
    blocks.push(header);
    const data = Buffer.from(f.data);
    blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A local HTTP server (BuildKit's httpserver.NewTestServer) serving fixed responses. */
async function serve(routes: Record<string, { content: Buffer; lastModified?: number }>): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const headers: Record<string, string | number> = { 'Content-Length': route.content.length, ETag: `"${req.url}"` };
    if (route.lastModified !== undefined) headers['Last-Modified'] = new Date(route.lastModified * 1000).toUTCString();
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : route.content);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test('testSourceDateEpochWithoutExporter', async (t) => {
  const tm = 1700000001;
  // BuildKit disables the exporter's own epoch to test the Dockerfile's; nbuild has only the build's.
  const archive = await bkBuildOci({
    dockerfile: `
FROM scratch
ENTRYPOINT foo bar
COPY Dockerfile .
`,
    args: ['--build-arg', `SOURCE_DATE_EPOCH=${tm}`],
  });
  t.is(unix(archive.config.created), tm);
  for (const h of archive.config.history as { created?: string }[]) t.is(unix(h.created), tm);
});

test('testSourceDateEpochDockerfileDefault', async (t) => {
  const tm = Date.UTC(2015, 9, 21, 7, 28, 0) / 1000;
  const archive = await bkBuildOci({ dockerfile: `
ARG SOURCE_DATE_EPOCH=${tm}
FROM scratch
COPY Dockerfile .
` });
  t.is(archive.manifest.layers.length, 1);
  t.is(rewrittenTimestamp(archive, 0), String(tm));
});

test('testSourceDateEpochDockerfileDefaultOverride', async (t) => {
  const defaultTM = 1700000001;
  const overrideTM = 1700000002;
  const archive = await bkBuildOci({
    dockerfile: `
ARG SOURCE_DATE_EPOCH=${defaultTM}
FROM scratch
COPY Dockerfile .
`,
    args: ['--build-arg', `SOURCE_DATE_EPOCH=${overrideTM}`],
  });
  t.is(archive.manifest.layers.length, 1);
  t.is(rewrittenTimestamp(archive, 0), String(overrideTM));
});

test('testSourceDateEpochDockerfileDefaultInvalid', async (t) => {
  const err = await bkBuildError({ dockerfile: `
ARG SOURCE_DATE_EPOCH=not-a-timestamp
FROM scratch
COPY Dockerfile .
` });
  t.true(err.includes('invalid SOURCE_DATE_EPOCH: not-a-timestamp'), err);
});

test('testSourceDateEpochContextLocalUnset', async (t) => {
  const archive = await bkBuildOci({
    dockerfile: 'FROM scratch\nCOPY Dockerfile /\n',
    files: { Dockerfile: { content: 'FROM scratch\nCOPY Dockerfile /\n', mode: 0o600 } },
    args: ['--build-arg', 'SOURCE_DATE_EPOCH=context'],
  });
  t.is(archive.manifest.layers.length, 1);
  // Not rewritten: the file keeps the time it has in the (local, time-less) context.
  const times = layerTimes(archive, 0);
  const contextTime = Math.floor(Date.now() / 1000);
  t.true(Math.abs((times.get('Dockerfile') ?? 0) - contextTime) < 600, `Dockerfile time ${times.get('Dockerfile')}`);
});

test('testSourceDateEpochStageHTTPArchive', async (t) => {
  const archiveMaxTime = 1700000402;
  const server = await serve({ '/src.tar': { content: makeTarContext([{ name: 'foo', data: 'bar', modTime: archiveMaxTime }]) } });
  try {
    const archive = await bkBuildOci({ dockerfile: `
ARG SOURCE_DATE_EPOCH=mysource
FROM scratch AS mysource
ADD ${server.url}/src.tar /
FROM busybox
ARG SOURCE_DATE_EPOCH
RUN echo -n "$SOURCE_DATE_EPOCH" >/epoch
` });
    assertEpochApplied(t, archive, archiveMaxTime);
  } finally {
    await server.close();
  }
});

test('testSourceDateEpochStageOverride', async (t) => {
  const defaultTime = 1700000501;
  const overrideTime = 1700000502;
  const server = await serve({ '/src.tar': { content: makeTarContext([{ name: 'foo', data: 'bar', modTime: defaultTime }]) } });
  try {
    const archive = await bkBuildOci({
      dockerfile: `
ARG SOURCE_DATE_EPOCH=mysource
FROM scratch AS mysource
ADD ${server.url}/src.tar /
FROM scratch
COPY Dockerfile .
`,
      args: ['--build-arg', `SOURCE_DATE_EPOCH=${overrideTime}`],
    });
    t.is(archive.manifest.layers.length, 1);
    t.is(rewrittenTimestamp(archive, 0), String(overrideTime));
  } finally {
    await server.close();
  }
});

test('testSourceDateEpochStageInvalid', async (t) => {
  const err = await bkBuildError({ dockerfile: `
ARG SOURCE_DATE_EPOCH=mysource
FROM scratch AS mysource
COPY Dockerfile /Dockerfile
FROM scratch
` });
  t.true(err.includes('SOURCE_DATE_EPOCH stage does not meet source-only requirements'), err);
});

/** Builds the context URL (BuildKit's frontend attribute `context`) to `-o type=oci` and opens it. */
async function bkBuildOciUrl(url: string, args: string[] = []): Promise<OpenedArchive> {
  const file = path.join(tempDir('bk-oci'), 'out.tar');
  const r = await bkBuildWith(await bkStore(), url, [...args, '-o', `type=oci,dest=${file}`]);
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}`);
  return openOciArchive(file);
}

test('testSourceDateEpochContextGit', async (t) => {
  const gitDir = tempDir('bk-gitdir');
  fs.writeFileSync(path.join(gitDir, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /\n', { mode: 0o600 });
  const commitTime = 1700000101;
  const date = new Date(commitTime * 1000).toISOString().replace('.000Z', 'Z');
  for (const c of ['git init', 'git config --local user.email test@example.com', 'git config --local user.name test', 'git add Dockerfile', `GIT_AUTHOR_DATE="${date}" GIT_COMMITTER_DATE="${date}" git commit -m msg`, 'git update-server-info']) {
    execFileSync('sh', ['-c', c], { cwd: gitDir, stdio: 'pipe' });
  }
  const server = await bkFileServer(gitDir);
  try {
    const archive = await bkBuildOciUrl(server.url + '/.git', ['--build-arg', 'SOURCE_DATE_EPOCH=context']);
    t.is(unix(archive.config.created), commitTime);
  } finally {
    await server.close();
  }
});

test('testSourceDateEpochContextHTTPLastModified', async (t) => {
  const lastModified = 1700000201;
  const archiveMaxTime = 1700000202;
  const server = await serve({
    '/context.tar': {
      lastModified,
      content: makeTarContext([
        { name: 'Dockerfile', data: 'FROM scratch\nCOPY foo /\n', modTime: archiveMaxTime - 3600 },
        { name: 'foo', data: 'bar', modTime: archiveMaxTime },
      ]),
    },
  });
  try {
    const archive = await bkBuildOciUrl(server.url + '/context.tar', ['--build-arg', 'SOURCE_DATE_EPOCH=context']);
    t.is(unix(archive.config.created), lastModified);
  } finally {
    await server.close();
  }
});

test('testSourceDateEpochContextHTTPArchive', async (t) => {
  const archiveMaxTime = 1700000302;
  const server = await serve({
    '/context.tar': {
      content: makeTarContext([
        { name: 'Dockerfile', data: 'FROM busybox\nARG SOURCE_DATE_EPOCH\nRUN echo -n "$SOURCE_DATE_EPOCH" >/epoch\n', modTime: archiveMaxTime - 3600 },
        { name: 'foo', data: 'bar', modTime: archiveMaxTime },
      ]),
    },
  });
  try {
    const archive = await bkBuildOciUrl(server.url + '/context.tar', ['--build-arg', 'SOURCE_DATE_EPOCH=context']);
    assertEpochApplied(t, archive, archiveMaxTime);
  } finally {
    await server.close();
  }
});

test('testSourceDateEpochNamedContextHTTPLastModified', async (t) => {
  const lastModified = 1700000601;
  const server = await serve({ '/src.tar': { lastModified, content: makeTarContext([{ name: 'foo', data: 'bar', modTime: lastModified + 3600 }]) } });
  try {
    const archive = await bkBuildOci({
      dockerfile: `
ARG SOURCE_DATE_EPOCH=mysource
FROM scratch
COPY Dockerfile .
`,
      args: ['--build-context', `mysource=${server.url}/src.tar`],
    });
    t.is(archive.manifest.layers.length, 1);
    t.is(rewrittenTimestamp(archive, 0), String(lastModified));
    t.is(unix(archive.config.created), lastModified);
  } finally {
    await server.close();
  }
});

test('testSourceDateEpochNamedContextHTTPArchive', async (t) => {
  const archiveMaxTime = 1700000602;
  const server = await serve({ '/src.tar': { content: makeTarContext([{ name: 'foo', data: 'bar', modTime: archiveMaxTime }]) } });
  try {
    const archive = await bkBuildOci({
      dockerfile: `
ARG SOURCE_DATE_EPOCH=mysource
FROM busybox
ARG SOURCE_DATE_EPOCH
RUN echo -n "$SOURCE_DATE_EPOCH" >/epoch
`,
      args: ['--build-context', `mysource=${server.url}/src.tar`],
    });
    assertEpochApplied(t, archive, archiveMaxTime);
  } finally {
    await server.close();
  }
});
