import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { extractLayer, NativeError, writeLayer } from '../../src/native/index.js';
import { buildTar, hostileLayers, layerBlob, type HostileLayer, type RawTarEntry } from '../helpers/hostile-archives.js';
import { tempDir } from './helpers.js';

// Each case extracts into <work>/dest; <work>/outside is a sibling that must stay untouched.
async function attempt(layer: (outside: string) => HostileLayer | RawTarEntry[]) {
  const work = tempDir('hostile');
  const outside = path.join(work, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'passwd'), 'secret');
  const blob = path.join(work, 'layer');
  const made = layer(outside);
  fs.writeFileSync(blob, Array.isArray(made) ? buildTar(made) : layerBlob(made));
  const dest = path.join(work, 'dest');
  let error: unknown;
  try {
    await extractLayer({ inputPath: blob, destDir: dest, whiteouts: 'apply' });
  } catch (e) {
    error = e;
  }
  const outsideNow = fs.readdirSync(outside).sort();
  const siblings = fs.readdirSync(work).sort();
  return { error, outsideNow, siblings, dest, passwd: fs.readFileSync(path.join(outside, 'passwd'), 'utf8') };
}

function codeOf(e: unknown): string | undefined {
  return e instanceof NativeError ? e.code : undefined;
}

// The shared cases (test/helpers/hostile-archives.ts), aimed at this test's own outside folder.
for (const [i, c] of hostileLayers('/outside').entries()) {
  test(`hostile layer: ${c.title}`, async (t) => {
    const r = await attempt((outside) => hostileLayers(outside)[i]);
    t.is(codeOf(r.error), c.code, String(r.error));
    t.deepEqual(r.outsideNow, ['passwd']);
    t.is(r.passwd, 'secret');
    if (c.code !== undefined) t.deepEqual(r.siblings, ['layer', 'outside'], 'the partial destination created by the call is removed');
  });
}

test('absolute symlinks resolve inside the root (merged /usr), never outside', async (t) => {
  const r = await attempt(() => [
    { name: 'usr/', type: '5' },
    { name: 'usr/lib/', type: '5' },
    { name: 'lib', type: '2', linkname: '/usr/lib' },
    { name: 'lib/libc.so', data: 'elf' },
    { name: 'tmp', type: '2', linkname: '/var/tmp' },
    { name: 'tmp/x', data: 'inside' },
  ]);
  t.is(r.error, undefined);
  t.is(fs.readFileSync(path.join(r.dest, 'usr/lib/libc.so'), 'utf8'), 'elf');
  t.is(fs.readFileSync(path.join(r.dest, 'var/tmp/x'), 'utf8'), 'inside', 'missing parents are made inside the root');
  t.true(fs.lstatSync(path.join(r.dest, 'tmp')).isSymbolicLink());
  t.deepEqual(r.outsideNow, ['passwd']);
});

test('diff_id mismatch removes the destination it created; an existing one is kept', async (t) => {
  const work = tempDir('mismatch');
  const blob = path.join(work, 'layer');
  fs.writeFileSync(blob, buildTar([{ name: 'f', data: 'x' }]));
  const dest = path.join(work, 'dest');
  const wrong = `sha256:${'0'.repeat(64)}`;
  const e = await t.throwsAsync(extractLayer({ inputPath: blob, destDir: dest, whiteouts: 'apply', expectedDiffId: wrong }));
  t.is(codeOf(e), 'DIGEST_MISMATCH');
  t.false(fs.existsSync(dest));
  fs.mkdirSync(dest);
  await t.throwsAsync(extractLayer({ inputPath: blob, destDir: dest, whiteouts: 'apply', expectedDiffId: wrong }));
  t.true(fs.existsSync(dest));
});

test('corrupt gzip is an error with a code', async (t) => {
  const work = tempDir('corrupt');
  const blob = path.join(work, 'layer');
  const gz = zlib.gzipSync(buildTar([{ name: 'f', data: 'x'.repeat(10000) }]));
  gz[gz.length - 20] ^= 0xff;
  fs.writeFileSync(blob, gz);
  const e = await t.throwsAsync(extractLayer({ inputPath: blob, destDir: path.join(work, 'd'), whiteouts: 'apply' }));
  t.is(codeOf(e), 'BAD_LAYER');
});

test('invalid arguments are rejected before any native call', async (t) => {
  const e = await t.throwsAsync(extractLayer({ inputPath: '', destDir: '/tmp/x', whiteouts: 'apply' }));
  t.is(codeOf(e), 'INVALID_ARGUMENT');
});

// File data and metadata are written by writer threads behind the parser, through fds only:
// a name reused later in the layer, or linked before its data is written, must end as in tar order.
test('entries reusing a name, hard links to files still being written, a file turned into a folder', async (t) => {
  const big = 'b'.repeat(3 << 20);
  const r = await attempt(() => [
    { name: 'f', data: 'first' },
    { name: 'f', data: 'second', mode: 0o600 },
    { name: 'big', data: big },
    { name: 'link', type: '1', linkname: 'big' },
    { name: 'big', type: '5' },
    { name: 'big/inner', data: 'inner' },
    { name: 'g', data: 'g'.repeat(5000), mode: 0o4755 },
  ]);
  t.is(r.error, undefined, String(r.error));
  t.is(fs.readFileSync(path.join(r.dest, 'f'), 'utf8'), 'second');
  t.is(fs.statSync(path.join(r.dest, 'f')).mode & 0o7777, 0o600);
  t.is(fs.readFileSync(path.join(r.dest, 'link'), 'utf8'), big, 'the link keeps the data of the replaced file');
  t.true(fs.statSync(path.join(r.dest, 'big')).isDirectory());
  t.is(fs.readFileSync(path.join(r.dest, 'big/inner'), 'utf8'), 'inner');
  t.is(fs.statSync(path.join(r.dest, 'g')).mode & 0o7777, 0o4755, 'setuid kept');
  t.deepEqual(r.outsideNow, ['passwd']);
});

// A real file named ".wh.x" would read as "delete x" in every tool that applies the layer.
test('the layer writer refuses a real file or folder named like a whiteout, naming it', async (t) => {
  for (const name of ['.wh.passwd', '.wh..wh..opq', 'etc/.wh.group']) {
    const work = tempDir('wh-name');
    const src = path.join(work, 'src');
    fs.mkdirSync(path.join(src, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(src, 'etc', 'passwd'), 'root\n');
    if (name.startsWith('.wh..wh.')) fs.mkdirSync(path.join(src, name));
    else fs.writeFileSync(path.join(src, name), '');
    const e = await t.throwsAsync(writeLayer({ sourceDir: src, outputPath: path.join(work, 'blob'), mode: 'plain', compression: 'gzip' }));
    t.is(codeOf(e), 'WHITEOUT_NAME', name);
    t.is((e as NativeError).path, `/${name}`);
    t.false(fs.existsSync(path.join(work, 'blob')), 'no partial blob');
  }
});
