// writeLayer's sourced entries (a streamed COPY, executor/sourced-files.ts): entries that are not
// in sourceDir, merged into its walk in the tar's order, a file's bytes read from its source once
// and hashed when asked.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeLayer, type SourcedFile } from '../../src/native/index.js';
import { tempDir } from './helpers.js';

const base = { size: 0, mode: 0o644, uid: 0, gid: 0, mtime: 1_000_000_000, hash: false };

function listing(blob: string): string[] {
  return execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', blob], { env: { ...process.env, TZ: 'UTC' } }).toString().trim().split('\n').map((l) => l.replace(/\s+/g, ' '));
}

test('sourced entries go into the walk in byte order, with their fields, and files are hashed as read', async (t) => {
  const dir = tempDir('sourced');
  const staging = path.join(dir, 'staging');
  fs.mkdirSync(path.join(staging, 'app'), { recursive: true });
  fs.writeFileSync(path.join(staging, 'app', 'b-on-disk'), 'disk\n');
  fs.utimesSync(path.join(staging, 'app', 'b-on-disk'), 1_000_000_000, 1_000_000_000);
  fs.utimesSync(path.join(staging, 'app'), 1_000_000_000, 1_000_000_000);
  const ctx = path.join(dir, 'ctx');
  fs.mkdirSync(ctx);
  fs.writeFileSync(path.join(ctx, 'a'), 'alpha\n');
  fs.writeFileSync(path.join(ctx, 'c'), 'gamma\n');
  const a = fs.statSync(path.join(ctx, 'a'));
  const inodeOfA = { dev: a.dev, ino: a.ino };
  const sourced: SourcedFile[] = [
    { ...base, type: 'file', path: 'app/c', source: path.join(ctx, 'c'), size: 6, mode: 0o755, uid: 7, gid: 8, hash: true },
    { ...base, type: 'dir', path: 'app/d', source: ctx, mode: 0o750 },
    { ...base, type: 'symlink', path: 'app/d/link', source: '', linkname: '../c', mode: 0o777 },
    // Two names of one inode: the first in the tar is the file, the other a link to it.
    { ...base, type: 'file', path: 'app/d/same', source: path.join(ctx, 'a'), size: 6, ...inodeOfA },
    { ...base, type: 'file', path: 'app/a', source: path.join(ctx, 'a'), size: 6, ...inodeOfA },
  ];
  const blob = path.join(dir, 'layer.tar');
  const r = await writeLayer({ sourceDir: staging, outputPath: blob, mode: 'plain', compression: 'none', sourced });
  const me = `${process.getuid?.()}/${process.getgid?.()}`;
  t.deepEqual(listing(blob), [
    `drwxr-xr-x ${me} 0 2001-09-09 01:46:40 app/`,
    '-rw-r--r-- 0/0 6 2001-09-09 01:46:40 app/a',
    `-rw-r--r-- ${me} 5 2001-09-09 01:46:40 app/b-on-disk`,
    '-rwxr-xr-x 7/8 6 2001-09-09 01:46:40 app/c',
    'drwxr-x--- 0/0 0 2001-09-09 01:46:40 app/d/',
    'lrwxrwxrwx 0/0 0 2001-09-09 01:46:40 app/d/link -> ../c',
    'hrw-r--r-- 0/0 0 2001-09-09 01:46:40 app/d/same link to app/a',
  ]);
  t.is(execFileSync('tar', ['-xOf', blob, 'app/c']).toString(), 'gamma\n');
  // Only the file that asked is hashed, under the identity it had while read.
  t.is(r.hashed?.length, 1);
  const st = fs.statSync(path.join(ctx, 'c'));
  t.deepEqual(r.hashed?.[0], { index: 0, digest: `sha256:${createHash('sha256').update('gamma\n').digest('hex')}`, size: 6, identity: { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs } });
});

test('files of one inode: the first in byte order is the file, whatever order they are listed in', async (t) => {
  const dir = tempDir('sourced-links');
  const staging = path.join(dir, 'staging');
  fs.mkdirSync(staging);
  const src = path.join(dir, 'src');
  fs.writeFileSync(src, 'same\n');
  const st = fs.statSync(src);
  const file = (name: string): SourcedFile => ({ ...base, type: 'file', path: name, source: src, size: 5, dev: st.dev, ino: st.ino });
  // U+1F600 sorts before U+FF5A as UTF-16 (a JS sort) and after it as UTF-8 bytes (the tar's order).
  const blob = path.join(dir, 'layer.tar');
  await writeLayer({ sourceDir: staging, outputPath: blob, mode: 'plain', compression: 'none', sourced: [file('\u{1F600}'), file('\uff5a')] });
  const names = listing(blob).map((l) => l.slice(0, 1) + ' ' + l.split(' 2001-09-09 01:46:40 ')[1]);
  t.deepEqual(names, ['- \uff5a', 'h \u{1F600} link to \uff5a']);
});

test('a sourced entry whose folder is not in the layer, or that is also in the tree, is refused; no blob is left', async (t) => {
  const dir = tempDir('sourced-bad');
  const staging = path.join(dir, 'staging');
  fs.mkdirSync(staging);
  fs.writeFileSync(path.join(staging, 'x'), 'x');
  const src = path.join(dir, 'src');
  fs.writeFileSync(src, 'y');
  const blob = path.join(dir, 'layer.tar');
  const write = (sourced: SourcedFile[]) => writeLayer({ sourceDir: staging, outputPath: blob, mode: 'plain', compression: 'none', sourced });
  await t.throwsAsync(write([{ ...base, type: 'file', path: 'nowhere/y', source: src, size: 1 }]), { code: 'SOURCED_ORPHAN' });
  t.false(fs.existsSync(blob));
  await t.throwsAsync(write([{ ...base, type: 'file', path: 'x', source: src, size: 1 }]), { code: 'SOURCED_CONFLICT' });
  t.false(fs.existsSync(blob));
  // The facade refuses paths out of sourceDir and relative sources before the engine sees them.
  await t.throwsAsync(write([{ ...base, type: 'file', path: '../y', source: src, size: 1 }]), { code: 'INVALID_ARGUMENT' });
  await t.throwsAsync(write([{ ...base, type: 'file', path: 'y', source: 'src', size: 1 }]), { code: 'INVALID_ARGUMENT' });
  // A listed file that became a link is not followed.
  fs.symlinkSync(path.join(staging, 'x'), path.join(dir, 'link'));
  await t.throwsAsync(write([{ ...base, type: 'file', path: 'y', source: path.join(dir, 'link'), size: 1 }]), { code: 'ELOOP' });
});
