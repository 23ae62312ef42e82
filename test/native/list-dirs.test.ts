// listDirs: the context walk's folders listed off the JS thread, as fs.readdirSync().sort() and
// fs.lstatSync would see them, with one digest per folder that moves with any change.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { listDirs, NativeError } from '../../src/native/index.js';
import { tempDir } from './helpers.js';

function entries(r: Awaited<ReturnType<typeof listDirs>>, d: number): string[] {
  return r.counts[d] === 0 ? [] : (r.names[d] as string).split('\0');
}

test('names sorted as Array.prototype.sort sorts them, stats as fs.lstatSync gives them, link targets in order', async (t) => {
  const dir = tempDir('list-dirs');
  // Byte order and UTF-16 order differ for a name above U+FFFF against one in U+E000..U+FFFF.
  const names = ['b', 'B', 'a.txt', 'é', '\u{1F600}', '\uFF21', '_', '10', '9'];
  for (const n of names) fs.writeFileSync(path.join(dir, n), n);
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.symlinkSync('../somewhere/else', path.join(dir, 'link'));
  fs.symlinkSync('b', path.join(dir, 'a-link'));
  fs.mkdirSync(path.join(dir, 'empty'));
  const r = await listDirs([dir, path.join(dir, 'empty')]);
  const listed = entries(r, 0);
  t.deepEqual(listed, fs.readdirSync(dir).sort());
  t.deepEqual(entries(r, 1), []);
  t.is(r.counts[1], 0);
  t.is(r.stats.length, 6 * listed.length);
  listed.forEach((name, i) => {
    const st = fs.lstatSync(path.join(dir, name));
    t.deepEqual(Array.from(r.stats.subarray(6 * i, 6 * i + 6)), [st.mode, st.dev, st.ino, st.size, st.mtimeMs, st.ctimeMs], name);
  });
  t.deepEqual(r.links, ['b', '../somewhere/else']); // a-link, then link
  t.true(r.newestCtimeMs >= Math.max(...listed.map((n) => fs.lstatSync(path.join(dir, n)).ctimeMs)));
});

test('the folder digest moves with a touch, an edit, a chmod, an added, removed or renamed entry, a new link target', async (t) => {
  const dir = tempDir('list-dirs-digest');
  fs.writeFileSync(path.join(dir, 'f'), 'one');
  fs.symlinkSync('t1', path.join(dir, 'l'));
  const digest = async (): Promise<string> => (await listDirs([dir])).digests[0] as string;
  let previous = await digest();
  t.is(await digest(), previous, 'the same listing, the same digest');
  const changes: [string, () => void][] = [
    ['touch', () => fs.utimesSync(path.join(dir, 'f'), new Date(5000), new Date(5000))],
    ['edit, size and mtime kept', () => {
      fs.writeFileSync(path.join(dir, 'f'), 'two');
      fs.utimesSync(path.join(dir, 'f'), new Date(5000), new Date(5000));
    }],
    ['chmod', () => fs.chmodSync(path.join(dir, 'f'), 0o600)],
    ['add', () => fs.writeFileSync(path.join(dir, 'g'), '')],
    ['rename', () => fs.renameSync(path.join(dir, 'g'), path.join(dir, 'h'))],
    ['remove', () => fs.rmSync(path.join(dir, 'h'))],
    ['link target', () => {
      fs.rmSync(path.join(dir, 'l'));
      fs.symlinkSync('t2', path.join(dir, 'l'));
    }],
  ];
  for (const [what, change] of changes) {
    // ctime has a clock tick's resolution: let it move
    await new Promise((r) => setTimeout(r, 20));
    change();
    const d = await digest();
    t.not(d, previous, what);
    previous = d;
  }
});

test('a missing or unreadable folder is a NativeError naming it', async (t) => {
  const dir = tempDir('list-dirs-missing');
  const missing = path.join(dir, 'nope');
  const e = await t.throwsAsync(listDirs([missing]));
  t.true(e instanceof NativeError);
  t.is((e as NativeError).code, 'ENOENT');
  t.is((e as NativeError).path, missing);
  fs.writeFileSync(path.join(dir, 'file'), '');
  const notDir = await t.throwsAsync(listDirs([path.join(dir, 'file')]));
  t.is((notDir as NativeError).code, 'ENOTDIR');
});

test('a relative path is refused before anything is listed', async (t) => {
  const e = await t.throwsAsync(listDirs(['relative/dir']));
  t.is((e as NativeError).code, 'INVALID_ARGUMENT');
});

// Folders of one call are opened relative to their parent's descriptor while the parent is the
// same (native/core/dir_list.cc FolderOpener): siblings, a symlink on the way or as the last name,
// a missing parent, and the root must list as open(path) would.
test('siblings, a symlinked parent or folder, and the root list as their paths do; a missing one in a batch is named', async (t) => {
  const dir = tempDir('list-dirs-siblings');
  for (const sub of ['a', 'b', 'c']) {
    fs.mkdirSync(path.join(dir, 'p', sub), { recursive: true });
    fs.writeFileSync(path.join(dir, 'p', sub, `in-${sub}`), sub);
  }
  fs.symlinkSync('p', path.join(dir, 'via-link'));
  fs.symlinkSync(path.join(dir, 'p', 'b'), path.join(dir, 'p', 'to-b'));
  const asked = [
    path.join(dir, 'p', 'a'),
    path.join(dir, 'p', 'b'),
    path.join(dir, 'via-link', 'c'), // another parent path, through a symlink
    path.join(dir, 'p', 'to-b'), // the last name a symlink to a folder
    path.join(dir, 'p'),
    '/',
  ];
  const r = await listDirs(asked);
  asked.forEach((d, i) => t.deepEqual(entries(r, i), fs.readdirSync(d).sort(), d));
  t.is(r.digests[1], r.digests[3]); // p/b and p/to-b are the same folder
  const missing = path.join(dir, 'p', 'gone');
  const e = await t.throwsAsync(listDirs([path.join(dir, 'p', 'a'), missing, path.join(dir, 'p', 'c')]));
  t.is((e as NativeError).code, 'ENOENT');
  t.is((e as NativeError).path, missing);
  const noParent = path.join(dir, 'nothing', 'here');
  const e2 = await t.throwsAsync(listDirs([noParent]));
  t.is((e2 as NativeError).code, 'ENOENT');
  t.is((e2 as NativeError).path, noParent);
});
