// Whiteouts and opaque folders from a REAL overlay upper dir, made by an unprivileged user
// in its own user namespace (mount -t overlay ... -o userxattr), as nbuild's RUN steps do.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { extractLayer, writeLayer } from '../../src/native/index.js';
import { listXattrs, setXattr, tempDir } from './helpers.js';
import { buildTar, sha256 } from '../helpers/hostile-archives.js';

const script = `set -e
mkdir lower upper work merged
mkdir lower/keep lower/opq
echo a > lower/gone; echo b > lower/opq/old; echo c > lower/keep/x; echo d > lower/-dash
unshare -Urm sh -c '
  mount -t overlay overlay -o lowerdir=lower,upperdir=upper,workdir=work,userxattr merged
  rm merged/gone merged/keep/x
  rm -rf merged/opq && mkdir merged/opq && echo n > merged/opq/new
  echo y > merged/keep/y
  umount merged'
`;

// Runs the script as the unprivileged test user when we are root, else as ourselves.
function makeOverlayUpper(): string {
  const work = tempDir('ovl');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'nbtest']).toString());
    const gid = Number(execFileSync('id', ['-g', 'nbtest']).toString());
    fs.chownSync(work, uid, gid);
    execFileSync('runuser', ['-u', 'nbtest', '--', 'sh', '-c', script], { cwd: work });
  } else {
    execFileSync('sh', ['-c', script], { cwd: work });
  }
  return work;
}

const work = makeOverlayUpper();
const upper = path.join(work, 'upper');

test('overlay upper dir → whiteout and opaque entries, no overlay xattrs, byte order', async (t) => {
  t.true(fs.lstatSync(path.join(upper, 'gone')).isCharacterDevice(), 'the kernel made a whiteout');
  const blob = path.join(tempDir('ovl-out'), 'layer.tar');
  await writeLayer({ sourceDir: upper, outputPath: blob, mode: 'overlay-upper', compression: 'none' });
  const names = execFileSync('tar', ['-tf', blob]).toString().trim().split('\n');
  t.deepEqual(names, ['.wh.gone', 'keep/', 'keep/.wh.x', 'keep/y', 'opq/', 'opq/.wh..wh..opq', 'opq/new']);
  const raw = fs.readFileSync(blob).toString('latin1');
  t.false(raw.includes('overlay'), 'no user.overlay.* xattr is carried into the layer');
});

test('plain mode keeps the whiteout device as a device', async (t) => {
  const blob = path.join(tempDir('ovl-plain'), 'layer.tar');
  await writeLayer({ sourceDir: upper, outputPath: blob, mode: 'plain', compression: 'none' });
  const listing = execFileSync('tar', ['-tvf', blob]).toString();
  t.regex(listing, /^c--------- .* 0,0 .*gone$/m);
});

test('extract with whiteouts=overlay gives a lower dir; with apply it flattens onto a base', async (t) => {
  const out = tempDir('ovl-x');
  const blob = path.join(out, 'layer.gz');
  const r = await writeLayer({ sourceDir: upper, outputPath: blob, mode: 'overlay-upper', compression: 'gzip' });

  const lower = path.join(out, 'as-lower');
  await extractLayer({ inputPath: blob, destDir: lower, whiteouts: 'overlay', expectedDiffId: r.diffId });
  const wh = fs.lstatSync(path.join(lower, 'gone'));
  t.true(wh.isCharacterDevice());
  t.is(wh.rdev, 0);
  t.deepEqual(listXattrs(path.join(lower, 'opq')), { 'user.overlay.opaque': 'y' });
  t.true(fs.existsSync(path.join(lower, 'opq/new')));

  // apply: the base is the lower dir the overlay was made from.
  const flat = path.join(out, 'flat');
  fs.cpSync(path.join(work, 'lower'), flat, { recursive: true });
  await extractLayer({ inputPath: blob, destDir: flat, whiteouts: 'apply', expectedDiffId: r.diffId });
  t.false(fs.existsSync(path.join(flat, 'gone')));
  t.false(fs.existsSync(path.join(flat, 'keep/x')));
  t.deepEqual(fs.readdirSync(path.join(flat, 'opq')), ['new'], 'opaque: old content hidden, new kept');
  t.deepEqual(fs.readdirSync(flat).sort(), ['-dash', 'keep', 'opq']);
  t.is(fs.readFileSync(path.join(flat, 'keep/y'), 'utf8'), 'y\n');
});

test('whiteoutsOver: a whiteout is made only where the layers below have the path, never looked up through their symlinks', async (t) => {
  const out = tempDir('ovl-over');
  // The layer below: gone, and an opaque folder whose "link" points outside it, at a real "secret".
  const outside = path.join(out, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret'), 's');
  const below = path.join(out, 'below');
  fs.mkdirSync(path.join(below, 'opq'), { recursive: true });
  fs.writeFileSync(path.join(below, 'gone'), 'g');
  fs.symlinkSync(outside, path.join(below, 'opq/link'));
  setXattr(path.join(below, 'opq'), 'user.overlay.opaque', 'y');

  const tar = buildTar([
    { name: '.wh.gone', data: '' },
    { name: '.wh.never-there', data: '' },
    { name: 'opq/', type: '5' },
    { name: 'opq/link/', type: '5' },
    { name: 'opq/link/.wh.secret', data: '' },
  ]);
  const blob = path.join(out, 'layer.tar');
  fs.writeFileSync(blob, tar);
  const tree = path.join(out, 'tree');
  fs.mkdirSync(tree);
  await extractLayer({ inputPath: blob, destDir: tree, whiteouts: 'overlay', whiteoutsOver: [below], expectedDiffId: sha256(tar) });
  const gone = fs.lstatSync(path.join(tree, 'gone'));
  t.true(gone.isCharacterDevice() && gone.rdev === 0, 'the path below is deleted');
  t.false(fs.existsSync(path.join(tree, 'never-there')), 'nothing below to hide: no whiteout');
  t.false(fs.existsSync(path.join(tree, 'opq/link/secret')), 'opq/link is a symlink below, not a folder: nothing to hide');

  // Without whiteoutsOver every whiteout is made, as before.
  const all = path.join(out, 'all');
  await extractLayer({ inputPath: blob, destDir: all, whiteouts: 'overlay', expectedDiffId: sha256(tar) });
  t.true(fs.lstatSync(path.join(all, 'never-there')).isCharacterDevice());
  await t.throwsAsync(extractLayer({ inputPath: blob, destDir: path.join(out, 'x'), whiteouts: 'apply', whiteoutsOver: [below] }), { code: 'INVALID_ARGUMENT' });
});
