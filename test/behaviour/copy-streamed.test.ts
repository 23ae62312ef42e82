// A COPY from the context whose tree nothing later in the build reads is streamed into its layer
// (executor/sourced-files.ts): its files are read once, from the context, by the layer writer, and
// no staging tree holds them. The layer must be the one staging makes, byte for byte: the same
// COPY followed by a RUN (so staged, as every COPY was before) must give the same diff_id.
import test from 'ava';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { apiBuild } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { setXattr } from '../native/helpers.js';
import { SourcedFiles, TooManySourced } from '../../src/executor/sourced-files.js';

/** A context with what a COPY has rules for: modes, links, hard links, ignore exceptions, xattrs, a socket, names that sort by bytes. */
async function trickyContext(): Promise<string> {
  const ctx = tempDir('streamed');
  writeFiles(ctx, {
    'a.txt': 'alpha\n',
    'empty': '',
    'tool.sh': '#!/bin/sh\necho hi\n',
    'deep/er/still/file.txt': 'deep\n',
    'deep/Z.txt': 'capital\n',
    'deep/é.txt': 'accent\n',
    'deep/z.txt': 'small\n',
    'hard/one.txt': 'one inode\n',
    'ignored/keep.txt': 'kept by an exception\n',
    'ignored/drop.txt': 'dropped\n',
    'gone/x.txt': 'not copied\n',
    '.dockerignore': 'ignored\n!ignored/keep.txt\ngone\n',
  });
  fs.chmodSync(path.join(ctx, 'tool.sh'), 0o755);
  fs.chmodSync(path.join(ctx, 'deep/er'), 0o750);
  fs.chmodSync(path.join(ctx, 'a.txt'), 0o4644);
  fs.linkSync(path.join(ctx, 'hard/one.txt'), path.join(ctx, 'hard/two.txt'));
  fs.linkSync(path.join(ctx, 'hard/one.txt'), path.join(ctx, 'a-link-first.txt'));
  // One inode under two names that sort one way as UTF-16 (JS) and the other as UTF-8 bytes (tar).
  writeFiles(ctx, { 'uni/\uff5a.txt': 'fullwidth z\n' });
  fs.linkSync(path.join(ctx, 'uni/\uff5a.txt'), path.join(ctx, 'uni/\u{1F600}.txt'));
  fs.symlinkSync('../a.txt', path.join(ctx, 'deep/up'));
  fs.symlinkSync('nowhere', path.join(ctx, 'dangling'));
  fs.utimesSync(path.join(ctx, 'deep/z.txt'), 1_000_000_000.75, 1_000_000_000.75);
  setXattr(path.join(ctx, 'deep/Z.txt'), 'user.nbuild', 'kept');
  setXattr(path.join(ctx, 'deep/er'), 'user.nbuild', 'folder');
  const socket = net.createServer().listen(path.join(ctx, 'deep/sock'));
  await new Promise((resolve) => socket.once('listening', resolve));
  socket.close(); // the socket file stays
  return ctx;
}

/** The image's layers; the Dockerfile is kept out of the context (`COPY .` would copy it). */
async function diffIds(root: string, ctx: string, dockerfile: string, args: string[]): Promise<string[]> {
  const file = path.join(tempDir('streamed-dockerfile'), 'Dockerfile');
  fs.writeFileSync(file, dockerfile);
  const r = await apiBuild(root, ctx, args, { dockerfile: file });
  if (r.code !== 0 || !r.result) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  return r.result.image.layers.map((l) => l.diffId.toString());
}

for (const [name, copy, args] of [
  ['COPY', 'COPY . /dst/', []],
  ['COPY --chown --chmod', 'COPY --chown=7:8 --chmod=640 . /dst/', []],
  ['COPY with SOURCE_DATE_EPOCH', 'COPY . /dst/', ['--build-arg', 'SOURCE_DATE_EPOCH=1200000000']],
  ['COPY of one folder into the image root', 'COPY deep /', []],
  // A link named on the line is followed: its target's bytes under the link's name.
  ['COPY of a link named on the line', 'COPY deep/up /x', []],
] as const) {
  test(`a streamed ${name} makes the layer a staged one makes`, async (t) => {
    const root = await apiStoreWithBusybox();
    const ctx = await trickyContext();
    const streamed = await diffIds(root, ctx, `FROM busybox:latest\n${copy}\n`, [...args]);
    const layer = streamed[streamed.length - 1];
    // Streamed: the store has the blob but no unpacked tree of it (staging would have left one).
    t.false(fs.existsSync(path.join(root, 'layers', layer.split(':')[1])), 'the COPY was staged');
    // The same COPY with a RUN after it is staged (the RUN reads its tree); no cache, so it is made again.
    const staged = await diffIds(root, ctx, `FROM busybox:latest\n${copy}\nRUN true\n`, ['--no-cache', ...args]);
    t.is(staged[staged.length - 2], layer);
    t.true(fs.existsSync(path.join(root, 'layers', layer.split(':')[1])));
  });
}

test('a build on a streamed image unpacks its layer when a RUN reads it', async (t) => {
  const root = await apiStoreWithBusybox();
  const ctx = await trickyContext();
  await diffIds(root, ctx, 'FROM busybox:latest\nCOPY . /dst/\n', ['-t', 'streamed:1']);
  const next = tempDir('streamed-next');
  writeFiles(next, { Dockerfile: 'FROM streamed:1\nRUN cat /dst/deep/er/still/file.txt /dst/hard/two.txt && readlink /dst/deep/up && ls /dst/ignored\n' });
  const r = await apiBuild(root, next, []);
  t.is(r.code, 0, r.stderr);
  for (const out of ['deep', 'one inode', '../a.txt', 'keep.txt']) t.true(r.stderr.includes(out), `RUN printed ${out}`);
  t.false(r.stderr.includes('drop.txt'));
});

test('an export of the file system (type=local) has a streamed COPY\'s files', async (t) => {
  const root = await apiStoreWithBusybox();
  const ctx = await trickyContext();
  const dest = tempDir('streamed-local');
  const file = path.join(tempDir('streamed-dockerfile'), 'Dockerfile');
  fs.writeFileSync(file, 'FROM busybox:latest\nCOPY . /dst/\n');
  const r = await apiBuild(root, ctx, ['-o', `type=local,dest=${dest}`], { dockerfile: file });
  t.is(r.code, 0, r.stderr);
  t.is(fs.readFileSync(path.join(dest, 'dst/deep/er/still/file.txt'), 'utf8'), 'deep\n');
  t.is(fs.readFileSync(path.join(dest, 'dst/hard/two.txt'), 'utf8'), 'one inode\n');
  t.is(fs.readlinkSync(path.join(dest, 'dst/deep/up')), '../a.txt');
  t.false(fs.existsSync(path.join(dest, 'dst/gone')));
});

test('a COPY whose tree a later step reads is staged, not streamed', async (t) => {
  const root = await apiStoreWithBusybox();
  const ctx = tempDir('streamed-later');
  writeFiles(ctx, { 'f.txt': 'x\n', 'g.txt': 'y\n' });
  // In stage a a RUN reads the COPY's tree; b's COPY is the last step of the target.
  const layers = await diffIds(root, ctx, 'FROM busybox:latest AS a\nCOPY f.txt /f\nRUN true\nFROM a AS b\nCOPY g.txt /g\n', ['--target', 'b']);
  const unpacked = (l: string): boolean => fs.existsSync(path.join(root, 'layers', l.split(':')[1]));
  t.true(unpacked(layers[layers.length - 3]), 'the COPY a RUN follows is staged');
  t.false(unpacked(layers[layers.length - 1]), 'the last COPY of the target is streamed');
});

test('sourced entries are bounded; files with other links carry their inode for the writer', (t) => {
  const root = '/staging';
  const st = (ino: number, nlink = 2): fs.Stats => Object.assign(new fs.Stats(), { dev: 1, ino, nlink, size: 3, mode: 0o100644 });
  const fields = { owner: { uid: 0, gid: 0 }, mode: 0o644, mtime: 0 };
  const files = new SourcedFiles(root, () => false, 3);
  files.addFile('/staging/b/x', '/ctx/b/x', st(9), fields);
  files.addFile('/staging/a', '/ctx/a', st(9), fields);
  files.addFile('/staging/b/y', '/ctx/b/y', st(10, 1), fields);
  t.throws(() => files.addFile('/staging/c', '/ctx/c', st(11, 1), fields), { instanceOf: TooManySourced });
  const listed = new Map(files.list().map((f) => [f.path, f]));
  // Which is the file and which the link is the writer's (test/native/sourced-layer.test.ts).
  t.deepEqual([listed.get('a')?.dev, listed.get('a')?.ino, listed.get('b/x')?.ino], [1, 9, 9]);
  t.is(listed.get('b/y')?.ino, undefined);
});
