// ADD, as an unprivileged user: local archives of every compression are unpacked,
// a compressed file that is not a tar is copied as is, URLs are fetched from a
// server on 127.0.0.1 with --checksum checked, and a dead host is one clear error.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { apiBuild } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { openOciArchive, listLayer } from '../helpers/oci.js';

function layerNames(out: string): string[] {
  const a = openOciArchive(out);
  return a.manifest.layers.flatMap((l) => listLayer(a.blob(l.digest)).map((e) => e.name));
}

test('ADD unpacks tar, tar.gz, tar.bz2, tar.xz and tar.zst; a lone .gz is copied as is', async (t) => {
  const ctx = tempDir('add-archives');
  const src = path.join(tempDir('add-src'), 'tree');
  writeFiles(src, { 'inner/hello.txt': 'hello\n' });
  const tar = (args: string[], out: string) => execFileSync('tar', [...args, '-cf', path.join(ctx, out), '-C', src, 'inner']);
  tar([], 'plain.tar');
  tar(['-z'], 'gz.tar.gz');
  tar(['-j'], 'bz2.tar.bz2');
  tar(['-J'], 'xz.tar.xz');
  tar(['--zstd'], 'zst.tar.zst');
  fs.writeFileSync(path.join(ctx, 'note.txt'), 'not a tar\n');
  execFileSync('gzip', ['-k', path.join(ctx, 'note.txt')]);
  const dests = ['plain', 'gz', 'bz2', 'xz', 'zst'];
  writeFiles(ctx, {
    Dockerfile: `FROM scratch\n${dests.map((d) => `ADD ${d}.tar${d === 'plain' ? '' : `.${d === 'gz' ? 'gz' : d === 'zst' ? 'zst' : d}`} /${d}/`).join('\n')}\nADD note.txt.gz /notes/\n`,
  });
  const out = path.join(tempDir('out'), 'add.tar');
  const r = await apiBuild(await apiStoreWithBusybox(), ctx, ['-o', out]);
  t.is(r.code, 0, r.stderr);
  const names = layerNames(out);
  for (const d of dests) t.true(names.includes(`${d}/inner/hello.txt`), `${d}: ${names.join(' ')}`);
  t.true(names.includes('notes/note.txt.gz'), 'a compressed non-tar is copied, not unpacked');
});

test('ADD <url> downloads from the server, checks --checksum, and names a dead host clearly', async (t) => {
  const body = 'served over http\n';
  const server = http.createServer((req, res) => {
    if (req.url === '/files/data.txt') {
      res.writeHead(200, { 'content-type': 'text/plain', 'last-modified': 'Wed, 01 Jan 2020 00:00:00 GMT' });
      res.end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const root = await apiStoreWithBusybox();
  const sum = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const ok = tempDir('add-url');
  writeFiles(ok, { Dockerfile: `FROM scratch\nADD --checksum=${sum} http://127.0.0.1:${port}/files/data.txt /downloads/\n` });
  const out = path.join(tempDir('out'), 'url.tar');
  const r = await apiBuild(root, ok, ['-o', out]);
  t.is(r.code, 0, r.stderr);
  t.true(layerNames(out).includes('downloads/data.txt'));

  const bad = tempDir('add-url-bad');
  writeFiles(bad, { Dockerfile: `FROM scratch\nADD --checksum=sha256:${'0'.repeat(64)} http://127.0.0.1:${port}/files/data.txt /d/\n` });
  const mismatch = await apiBuild(root, bad, []);
  t.is(mismatch.code, 1);
  t.regex(mismatch.stderr, /checksum mismatch/);

  const missing = tempDir('add-url-404');
  writeFiles(missing, { Dockerfile: `FROM scratch\nADD http://127.0.0.1:${port}/nope /d/\n` });
  const notFound = await apiBuild(root, missing, []);
  t.is(notFound.code, 1);
  t.regex(notFound.stderr, /404/);

  const dead = tempDir('add-url-dead');
  writeFiles(dead, { Dockerfile: 'FROM scratch\nADD http://127.0.0.1:9/x.txt /d/\n' });
  const offline = await apiBuild(root, dead, []);
  t.is(offline.code, 1);
  const lines = offline.stderr.split('\n').filter((l) => l.startsWith('nbuild:'));
  t.is(lines.length, 1, offline.stderr);
  t.regex(lines[0], /ADD http:\/\/127\.0\.0\.1:9\/x\.txt: cannot download .*offline/);
});

test('ADD <url>: a rebuild asks the server (HEAD, ETag) and notices a change; offline it keeps the cached step', async (t) => {
  let body = 'version 1\n';
  let etag = '"v1"';
  const methods: string[] = [];
  const server = http.createServer((req, res) => {
    methods.push(req.method ?? '');
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { etag, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const root = await apiStoreWithBusybox();
  const ctx = tempDir('add-url-reval');
  writeFiles(ctx, { Dockerfile: `FROM scratch\nADD http://127.0.0.1:${port}/v.txt /v.txt\n` });
  const fileOf = async (): Promise<{ code: number; stderr: string; text: string }> => {
    const out = path.join(tempDir('out'), 'rootfs');
    const r = await apiBuild(root, ctx, ['-o', `type=local,dest=${out}`]);
    return { code: r.code, stderr: r.stderr, text: r.code === 0 ? fs.readFileSync(path.join(out, 'v.txt'), 'utf8') : '' };
  };
  let r = await fileOf();
  t.is(r.text, 'version 1\n', r.stderr);
  t.deepEqual(methods, ['GET']);
  r = await fileOf();
  t.is(r.text, 'version 1\n', r.stderr);
  t.deepEqual(methods, ['GET', 'HEAD'], 'unchanged: a HEAD, no download');
  body = 'version 2\n';
  etag = '"v2"';
  r = await fileOf();
  t.is(r.text, 'version 2\n', r.stderr);
  t.deepEqual(methods, ['GET', 'HEAD', 'HEAD', 'GET'], 'changed: downloaded again');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  r = await fileOf();
  t.is(r.code, 0, r.stderr);
  t.is(r.text, 'version 2\n', 'offline: the cached step');
});
