import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { extractLayer, NativeError } from '../../src/native/index.js';
import { buildTar, tempDir, type RawTarEntry } from './helpers.js';

// Each case extracts into <work>/dest; <work>/outside is a sibling that must stay untouched.
async function attempt(entries: RawTarEntry[], gzip = false) {
  const work = tempDir('hostile');
  const outside = path.join(work, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'passwd'), 'secret');
  const blob = path.join(work, 'layer');
  const tar = buildTar(entries);
  fs.writeFileSync(blob, gzip ? zlib.gzipSync(tar) : tar);
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

const cases: Array<[string, RawTarEntry[], string]> = [
  ['tar-slip ../x', [{ name: '../outside/x', data: 'pwned' }], 'ESCAPE'],
  ['nested tar-slip', [{ name: 'a/', type: '5' }, { name: 'a/../../outside/x', data: 'pwned' }], 'ESCAPE'],
  ['absolute name', [{ name: '/tmp/nb-absolute-test', data: 'pwned' }], 'ABSOLUTE'],
  ['symlink escape then write through it', [
    { name: 'evil', type: '2', linkname: '../outside' },
    { name: 'evil/x', data: 'pwned' },
  ], 'ESCAPE'],
  ['deep relative symlink escape', [
    { name: 'a/', type: '5' },
    { name: 'a/evil', type: '2', linkname: '../../../../../../../../outside' },
    { name: 'a/evil/passwd', data: 'pwned' },
  ], 'ESCAPE'],
  ['hard link to outside', [{ name: 'h', type: '1', linkname: '../outside/passwd' }], 'ESCAPE'],
  ['hard link to an absolute path', [{ name: 'h', type: '1', linkname: '/etc/passwd' }], 'ABSOLUTE'],
  ['a symlink loop (etc -> /etc)', [{ name: 'etc', type: '2', linkname: '/etc' }, { name: 'etc/hosts', data: 'x' }], 'ELOOP'],
  ['a malformed PAX size', [{ name: 'PaxHeaders/f', type: 'x', data: '12 size=abc\n' }, { name: 'f', data: 'x' }], 'BAD_LAYER'],
  ['a file where a folder was', [{ name: 'a', data: 'file' }, { name: 'a/b', data: 'x' }], 'ENOTDIR'],
];

for (const [title, entries, code] of cases) {
  test(`refuses ${title}`, async (t) => {
    const r = await attempt(entries, title.includes('slip'));
    t.is(codeOf(r.error), code, String(r.error));
    t.deepEqual(r.outsideNow, ['passwd']);
    t.is(r.passwd, 'secret');
    t.deepEqual(r.siblings, ['layer', 'outside'], 'the partial destination created by the call is removed');
  });
}

test('absolute symlinks resolve inside the root (merged /usr), never outside', async (t) => {
  const r = await attempt([
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

test('a hard link through a symlinked parent stays inside the root', async (t) => {
  const r = await attempt([
    { name: 'up', type: '2', linkname: '/' },
    { name: 'h', type: '1', linkname: 'up/outside/passwd' },
  ]);
  t.is(codeOf(r.error), 'ENOENT');
  t.is(r.passwd, 'secret');
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
  const r = await attempt([
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
