// extractArchive (ADD of a local archive): unpacked as in a chroot at the destination, like
// BuildKit's chrootarchive. Links already in the destination (staged by an earlier source) and
// links the archive makes resolve beneath it; nothing outside it is ever written.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { extractArchive, NativeError } from '../../src/native/index.js';
import { tempDir } from './helpers.js';
import { buildTar, type RawTarEntry } from '../helpers/hostile-archives.js';

function scene(entries: RawTarEntry[]): { work: string; dest: string; outside: string; tar: string } {
  const work = tempDir('add-archive');
  const outside = path.join(work, 'outside');
  const dest = path.join(work, 'dest');
  fs.mkdirSync(outside);
  fs.mkdirSync(dest);
  fs.writeFileSync(path.join(outside, 'passwd'), 'secret');
  const tar = path.join(work, 'a.tar');
  fs.writeFileSync(tar, buildTar(entries));
  return { work, dest, outside, tar };
}

const untouched = (outside: string): string[] => fs.readdirSync(outside).sort();

test('links staged in the destination (absolute, climbing) are followed beneath it', async (t) => {
  const s = scene([
    { name: 'abs/PWNED', data: 'a' },
    { name: 'rel/PWNED', data: 'b' },
  ]);
  fs.symlinkSync(s.outside, path.join(s.dest, 'abs'));
  fs.symlinkSync(`${'../'.repeat(12)}${s.outside.slice(1)}`, path.join(s.dest, 'rel'));
  await extractArchive({ inputPath: s.tar, destDir: s.dest });
  t.deepEqual(untouched(s.outside), ['passwd']);
  t.is(fs.readFileSync(path.join(s.dest, s.outside, 'PWNED'), 'utf8'), 'b'); // both land in dest/<outside path>
  t.true(fs.lstatSync(path.join(s.dest, 'abs')).isSymbolicLink());
});

test("the archive's own links, absolute names and `..` in links stay in the destination", async (t) => {
  const s = scene([
    { name: 'evil', type: '2', linkname: '../../outside' },
    { name: 'evil/x', data: 'through the link' },
    { name: '/etc/abs', data: 'absolute name' },
    { name: 'h', type: '1', linkname: '/etc/abs' },
  ]);
  await extractArchive({ inputPath: s.tar, destDir: s.dest });
  t.deepEqual(untouched(s.outside), ['passwd']);
  t.is(fs.readFileSync(path.join(s.dest, 'outside', 'x'), 'utf8'), 'through the link');
  t.is(fs.readFileSync(path.join(s.dest, 'etc', 'abs'), 'utf8'), 'absolute name');
  t.is(fs.statSync(path.join(s.dest, 'h')).ino, fs.statSync(path.join(s.dest, 'etc', 'abs')).ino);
});

test('.wh. names are plain files; existing folders keep their metadata; a `..` name is refused', async (t) => {
  const s = scene([
    { name: 'keep/', type: '5', mode: 0o777 },
    { name: 'keep/.wh.f', data: 'not a whiteout' },
  ]);
  fs.mkdirSync(path.join(s.dest, 'keep'), { mode: 0o700 });
  fs.chmodSync(path.join(s.dest, 'keep'), 0o700);
  fs.writeFileSync(path.join(s.dest, 'keep', 'f'), 'still here');
  await extractArchive({ inputPath: s.tar, destDir: s.dest });
  t.is(fs.readFileSync(path.join(s.dest, 'keep', 'f'), 'utf8'), 'still here');
  t.is(fs.readFileSync(path.join(s.dest, 'keep', '.wh.f'), 'utf8'), 'not a whiteout');
  t.is(fs.statSync(path.join(s.dest, 'keep')).mode & 0o7777, 0o700);

  const slip = scene([{ name: '../outside/x', data: 'pwned' }]);
  const e = await t.throwsAsync(extractArchive({ inputPath: slip.tar, destDir: slip.dest }));
  t.is((e as NativeError).code, 'ESCAPE');
  t.deepEqual(untouched(slip.outside), ['passwd']);
});
