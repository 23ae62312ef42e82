import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { digestTree, extractLayer, writeLayer, type Compression } from '../../src/native/index.js';
import { setXattr, sha256sum, tempDir } from './helpers.js';
import { fingerprint } from '../helpers/tree-fingerprint.js';

const snapshot = (root: string) => fingerprint(root, { portable: true });

// A tree with every kind of entry the writer must carry through a round trip.
function makeTree(root: string): void {
  const long = 'n'.repeat(120);
  fs.mkdirSync(path.join(root, 'dir/sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'dir/file.txt'), 'hello\n'.repeat(1000));
  fs.writeFileSync(path.join(root, 'empty'), '');
  fs.writeFileSync(path.join(root, 'big.bin'), createHash('sha512').update('x').digest().toString('hex').repeat(20000));
  fs.linkSync(path.join(root, 'dir/file.txt'), path.join(root, 'hardlink'));
  fs.symlinkSync('dir/file.txt', path.join(root, 'symlink'));
  fs.symlinkSync('/' + 'target/'.repeat(20), path.join(root, 'longlink'));
  fs.writeFileSync(path.join(root, 'setuid'), '#!/bin/sh\n');
  fs.chmodSync(path.join(root, 'setuid'), 0o4755);
  fs.mkdirSync(path.join(root, 'sticky'));
  fs.chmodSync(path.join(root, 'sticky'), 0o1777);
  fs.writeFileSync(path.join(root, long), 'long name');
  let deep = root;
  for (let i = 0; i < 3; i++) deep = path.join(deep, `${'d'.repeat(90)}${i}`);
  fs.mkdirSync(deep, { recursive: true });
  fs.writeFileSync(path.join(deep, 'leaf'), 'deep'); // path > 255 bytes
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  setXattr(path.join(root, 'dir/file.txt'), 'user.test', 'value');
  setXattr(path.join(root, 'dir'), 'user.dirattr', 'x');
  fs.utimesSync(path.join(root, 'dir/file.txt'), 1_000_000, 1_000_000);
  fs.utimesSync(path.join(root, 'dir'), 2_000_000, 2_000_000);
}

const src = tempDir('rt-src');
makeTree(src);

for (const compression of ['gzip', 'zstd', 'none'] as Compression[]) {
  test(`round trip keeps the tree (${compression})`, async (t) => {
    const work = tempDir('rt');
    const blob = path.join(work, 'layer');
    const r = await writeLayer({ sourceDir: src, outputPath: blob, mode: 'plain', compression });
    t.is(r.digest, sha256sum(blob));
    t.is(r.size, fs.statSync(blob).size);
    const out = path.join(work, 'out');
    const x = await extractLayer({ inputPath: blob, destDir: out, whiteouts: 'apply', expectedDiffId: r.diffId });
    t.deepEqual(x, r);
    t.deepEqual(snapshot(out), snapshot(src));
    // The tar is a normal one: GNU tar lists the deep path and the hard link.
    const listing = execFileSync('tar', ['-tvf', blob], { maxBuffer: 1 << 24 }).toString();
    t.regex(listing, /d{90}2\/leaf/);
    t.regex(listing, /hardlink link to dir\/file.txt|dir\/file.txt link to hardlink/);
    // Numeric ids and no user or group names (tar would print the names if there were any).
    t.regex(listing, new RegExp(`^-rw-r--r-- ${process.getuid?.()}/${process.getgid?.()} `, 'm'));
  });
}

test('an uncompressed layer longer than the writer has buffers: the blob is the tar, its digest the diff_id', async (t) => {
  // 24 MiB in 1 MiB buffers, 8 in flight: the tar is written on the walking thread while the
  // hasher's thread hashes it, and the writer waits for buffers along the way.
  const tree = tempDir('rt-plain-big');
  fs.writeFileSync(path.join(tree, 'a.bin'), randomBytes(16 << 20));
  fs.writeFileSync(path.join(tree, 'b.bin'), randomBytes((8 << 20) + 777));
  const blob = path.join(tempDir('rt-plain-big-out'), 'layer');
  const r = await writeLayer({ sourceDir: tree, outputPath: blob, mode: 'plain', compression: 'none' });
  t.is(r.digest, sha256sum(blob));
  t.is(r.diffId, r.digest);
  t.is(r.size, fs.statSync(blob).size);
  t.is(r.uncompressedSize, r.size);
  t.is((await digestTree({ sourceDir: tree, mode: 'plain' })).digest, r.diffId);
  const listing = execFileSync('tar', ['-tvf', blob]).toString();
  t.regex(listing, new RegExp(` ${(8 << 20) + 777} .* b\\.bin$`, 'm'));
});

test('gzip blob is one valid stream for gzip -t, python and node zlib; diff_id matches', async (t) => {
  const work = tempDir('gz');
  const blob = path.join(work, 'layer.gz');
  const r = await writeLayer({ sourceDir: src, outputPath: blob, mode: 'plain', compression: 'gzip', threads: 2 });
  execFileSync('gzip', ['-t', blob]);
  const py = execFileSync('python3', ['-c', 'import gzip,hashlib,sys; print(hashlib.sha256(gzip.open(sys.argv[1]).read()).hexdigest())', blob]).toString().trim();
  t.is(`sha256:${py}`, r.diffId);
  const tar = zlib.gunzipSync(fs.readFileSync(blob));
  t.is(`sha256:${createHash('sha256').update(tar).digest('hex')}`, r.diffId);
  t.is(tar.length, r.uncompressedSize);
  // One member: python's zlib with wbits=31 stops after the first member.
  const single = execFileSync('python3', ['-c', 'import zlib,sys; d=zlib.decompressobj(31); o=d.decompress(open(sys.argv[1],"rb").read()); print(len(o), len(d.unused_data))', blob]).toString().trim();
  t.is(single, `${r.uncompressedSize} 0`);
});

test('zstd blob passes zstd -t and decodes to the diff_id', async (t) => {
  const work = tempDir('zst');
  const blob = path.join(work, 'layer.zst');
  const r = await writeLayer({ sourceDir: src, outputPath: blob, mode: 'plain', compression: 'zstd' });
  execFileSync('zstd', ['-q', '-t', blob]);
  const tar = execFileSync('zstd', ['-q', '-d', '-c', blob], { maxBuffer: 1 << 26 });
  t.is(`sha256:${createHash('sha256').update(tar).digest('hex')}`, r.diffId);
});

test('libdeflate engine: a multi-member gzip every reader takes whole, same bytes for any thread count', async (t) => {
  const work = tempDir('ld');
  const digests = new Set<string>();
  let last = '';
  for (const threads of [1, 2, 4]) {
    last = path.join(work, `l${threads}.gz`);
    const r = await writeLayer({ sourceDir: src, outputPath: last, mode: 'plain', compression: 'gzip', gzipEngine: 'libdeflate', threads });
    digests.add(`${r.digest} ${r.diffId}`);
    t.is(`sha256:${createHash('sha256').update(zlib.gunzipSync(fs.readFileSync(last))).digest('hex')}`, r.diffId);
  }
  t.is(digests.size, 1);
  execFileSync('gzip', ['-t', last]);
  const py = execFileSync('python3', ['-c', 'import gzip,hashlib,sys; print(hashlib.sha256(gzip.open(sys.argv[1]).read()).hexdigest())', last]).toString().trim();
  t.is(`sha256:${py}`, [...digests][0].split(' ')[1]);
  const out = path.join(work, 'out');
  await extractLayer({ inputPath: last, destDir: out, whiteouts: 'apply' });
  t.deepEqual(snapshot(out), snapshot(src));
});

// Small members go through libdeflate whole; the first one over 1 MiB switches the rest of the
// blob to streaming inflate. Either way the tree and both digests come out the same, and a
// truncated or corrupt member is a BAD_LAYER whichever decoder meets it.
test('gzip members of any size: small, larger than 1 MiB, then small again; damage is BAD_LAYER', async (t) => {
  const work = tempDir('members');
  const tree = path.join(work, 'tree');
  fs.mkdirSync(path.join(tree, 'd'), { recursive: true });
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(tree, 'd', `f${i}`), `file ${i}\n`.repeat(i * 100));
  fs.writeFileSync(path.join(tree, 'big'), randomBytes(3 << 20));
  const plain = path.join(work, 'l.tar');
  const r = await writeLayer({ sourceDir: tree, outputPath: plain, mode: 'plain', compression: 'none' });
  const tar = fs.readFileSync(plain);
  const cuts = [0, 1000, 300 << 10, tar.length - (100 << 10), tar.length];
  const members = cuts.slice(1).map((end, i) => zlib.gzipSync(tar.subarray(cuts[i], end)));
  const blob = path.join(work, 'mixed.gz');
  fs.writeFileSync(blob, Buffer.concat(members));
  const got = await extractLayer({ inputPath: blob, destDir: path.join(work, 'out'), whiteouts: 'apply', expectedDiffId: r.diffId });
  t.is(got.digest, sha256sum(blob));
  t.deepEqual(snapshot(path.join(work, 'out')), snapshot(tree));
  const whole = Buffer.concat(members);
  for (const [name, bytes] of [
    ['cut in a small member', whole.subarray(0, members[0].length + 20)],
    ['cut in the large member', whole.subarray(0, members[0].length + members[1].length + 5000)],
    ['corrupt small member', Buffer.concat([members[0], Buffer.from(members[1]).fill(7, 40, 60), ...members.slice(2)])],
  ] as const) {
    fs.writeFileSync(blob, bytes);
    const e = await t.throwsAsync(extractLayer({ inputPath: blob, destDir: path.join(work, 'bad'), whiteouts: 'apply' }));
    t.is((e as { code?: string }).code, 'BAD_LAYER', name);
    t.false(fs.existsSync(path.join(work, 'bad')), name);
  }
});

for (const compression of ['gzip', 'zstd'] as Compression[]) {
  test(`same bytes twice and for threads 1, 2 and 4 (${compression})`, async (t) => {
    const work = tempDir('det');
    const digests = new Set<string>();
    for (const threads of [1, 2, 4, 2]) {
      const r = await writeLayer({ sourceDir: src, outputPath: path.join(work, `l${threads}`), mode: 'plain', compression, threads });
      digests.add(`${r.digest} ${r.diffId}`);
    }
    t.is(digests.size, 1);
  });
}

test('clampMtime and exclude shape the tar; each entry keeps its owner (identity id map)', async (t) => {
  const work = tempDir('opts');
  const blob = path.join(work, 'l.tar');
  await writeLayer({
    sourceDir: src, outputPath: blob, mode: 'plain', compression: 'none',
    clampMtime: 1_500_000, exclude: ['big.bin', 'dir/sub'],
  });
  const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', blob], { env: { TZ: 'UTC' } }).toString();
  t.notRegex(listing, /big\.bin|dir\/sub/);
  const st = fs.lstatSync(path.join(src, 'dir/file.txt'));
  t.regex(listing, new RegExp(`${st.uid}/${st.gid} +\\d+ 1970-01-12 13:46:40 dir/file.txt`)); // 1_000_000 kept
  t.regex(listing, /1970-01-18 08:40:00 dir\/$/m); // 2_000_000 clamped to 1_500_000
});

// chown to other ids needs root (or root in a user namespace).
const asRoot = process.getuid?.() === 0 ? test : test.skip;

asRoot('idMap maps host ids back to image ids; unmapped ids are an error', async (t) => {
  const work = tempDir('ids');
  const tree = path.join(work, 'tree');
  fs.mkdirSync(tree);
  fs.writeFileSync(path.join(tree, 'f'), 'x');
  fs.chownSync(path.join(tree, 'f'), 100_005, 100_007);
  fs.chownSync(tree, 100_000, 100_000);
  const idMap = { uids: [{ containerId: 0, hostId: 100_000, size: 65536 }], gids: [{ containerId: 0, hostId: 100_000, size: 65536 }] };
  const blob = path.join(work, 'l.tar');
  await writeLayer({ sourceDir: tree, outputPath: blob, mode: 'plain', compression: 'none', idMap });
  t.regex(execFileSync('tar', ['--numeric-owner', '-tvf', blob]).toString(), /5\/7 .* f$/m);
  const out = path.join(work, 'out');
  await extractLayer({ inputPath: blob, destDir: out, whiteouts: 'apply', idMap: { uids: [{ containerId: 0, hostId: 200_000, size: 65536 }], gids: [{ containerId: 0, hostId: 300_000, size: 65536 }] } });
  const st = fs.statSync(path.join(out, 'f'));
  t.deepEqual([st.uid, st.gid], [200_005, 300_007]);
  const narrow = { uids: [{ containerId: 0, hostId: 100_000, size: 1 }], gids: [{ containerId: 0, hostId: 100_000, size: 1 }] };
  const err = await t.throwsAsync(writeLayer({ sourceDir: tree, outputPath: path.join(work, 'l2'), mode: 'plain', compression: 'none', idMap: narrow }));
  t.is((err as { code?: string }).code, 'ID_UNMAPPED');
  t.false(fs.existsSync(path.join(work, 'l2')), 'no partial blob is left');
});

test('sparse file over 8 GiB round-trips (PAX size) and stays sparse', async (t) => {
  const work = tempDir('sparse');
  const tree = path.join(work, 'tree');
  fs.mkdirSync(tree);
  const f = path.join(tree, 'sparse');
  const size = 9 * 1024 ** 3 + 123;
  const fd = fs.openSync(f, 'w');
  fs.writeSync(fd, 'start', 0);
  fs.writeSync(fd, 'middle', 5 * 1024 ** 3);
  fs.ftruncateSync(fd, size);
  fs.closeSync(fd);
  const blob = path.join(work, 'l.zst');
  const r = await writeLayer({ sourceDir: tree, outputPath: blob, mode: 'plain', compression: 'zstd' });
  t.true(r.uncompressedSize > size);
  t.true(r.size < 10 << 20);
  const out = path.join(work, 'out');
  await extractLayer({ inputPath: blob, destDir: out, whiteouts: 'apply', expectedDiffId: r.diffId });
  const st = fs.statSync(path.join(out, 'sparse'));
  t.is(st.size, size);
  t.true(st.blocks * 512 < 1 << 20, 'holes are not written');
  const got = Buffer.alloc(6);
  const rfd = fs.openSync(path.join(out, 'sparse'), 'r');
  fs.readSync(rfd, got, 0, 6, 5 * 1024 ** 3);
  fs.closeSync(rfd);
  t.is(got.toString(), 'middle');
});

// store check compares unpacked layers by this digest: it must be writeLayer's diff_id, every time
// (its last buffers are hashed on another thread), and leave mtimes out with clampMtime 0.
test('digestTree is the diff_id writeLayer gives, without writing; clampMtime 0 leaves mtimes out', async (t) => {
  const out = path.join(tempDir('rt-digest'), 'layer.tar');
  const written = await writeLayer({ sourceDir: src, outputPath: out, mode: 'plain', compression: 'none', clampMtime: 0 });
  for (let i = 0; i < 20; i++) {
    const d = await digestTree({ sourceDir: src, mode: 'plain', clampMtime: 0 });
    t.is(d.digest, written.diffId);
    t.is(d.size, written.uncompressedSize);
  }
  const copy = tempDir('rt-digest-copy');
  execFileSync('cp', ['-a', `${src}/.`, copy]);
  fs.utimesSync(path.join(copy, 'dir/file.txt'), 5, 5);
  t.is((await digestTree({ sourceDir: copy, mode: 'plain', clampMtime: 0 })).digest, written.diffId, 'mtimes do not count');
  fs.appendFileSync(path.join(copy, 'empty'), 'x');
  t.not((await digestTree({ sourceDir: copy, mode: 'plain', clampMtime: 0 })).digest, written.diffId, 'content does');
});
