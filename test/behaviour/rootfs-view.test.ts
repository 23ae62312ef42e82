// snapshot/rootfs-view.ts: a read-only overlay of a layer stack, mounted with mount(2) from the
// addon (no mount(8) process) in this set's user and mount namespaces. The mount runs on a thread
// that has its own working folder, so the process's stays where it was.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openRootfsView } from '../../src/snapshot/rootfs-view.js';
import { tempDir } from '../helpers/nbuild-cli.js';

function mounted(dir: string): boolean {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);
}

test('a view of two layers merges them top-most first, leaves the working folder alone and is gone after release', async (t) => {
  const root = tempDir('rootfs-view');
  const upper = path.join(root, 'layers', 'upper');
  const lower = path.join(root, 'layers', 'lower');
  fs.mkdirSync(path.join(upper, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(lower, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(lower, 'etc', 'os'), 'lower\n');
  fs.writeFileSync(path.join(lower, 'etc', 'only-lower'), 'l\n');
  fs.writeFileSync(path.join(upper, 'etc', 'os'), 'upper\n');
  const cwd = process.cwd();
  const view = await openRootfsView([upper, lower], path.join(root, 'scratch'));
  try {
    t.is(process.cwd(), cwd);
    t.true(mounted(view.dir));
    t.is(fs.readFileSync(path.join(view.dir, 'etc', 'os'), 'utf8'), 'upper\n');
    t.is(fs.readFileSync(path.join(view.dir, 'etc', 'only-lower'), 'utf8'), 'l\n');
    t.throws(() => fs.writeFileSync(path.join(view.dir, 'etc', 'new'), 'x'), { code: 'EROFS' });
  } finally {
    await view.release();
  }
  t.false(mounted(view.dir));
  t.deepEqual(fs.readdirSync(view.dir), []);
});

test('a layer folder that is not there: MOUNT_FAILED naming the mount, nothing mounted', async (t) => {
  const root = tempDir('rootfs-view-missing');
  const present = path.join(root, 'layers', 'present');
  fs.mkdirSync(present, { recursive: true });
  const error = await t.throwsAsync(openRootfsView([present, path.join(root, 'layers', 'missing')], path.join(root, 'scratch')));
  t.is((error as { code?: string }).code, 'MOUNT_FAILED');
  t.regex(error?.message ?? '', /^cannot mount a view of the image's layers: mount .*: No such file or directory$/);
  t.false(mounted(path.join(root, 'scratch', 'view')));
});
