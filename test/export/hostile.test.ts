// loadArchive against the shared hostile OCI archives (test/helpers/hostile-archives.ts): each is
// refused with its code, and the store it was loaded into is left as it was.
import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeOciArchive } from '../../src/export/oci-archive.js';
import { loadArchive } from '../../src/store/load.js';
import { Store } from '../../src/store/store.js';
import { hostileOciArchives, type ArchiveImage } from '../helpers/hostile-archives.js';
import { makeImage, tempRoot } from '../store/fixtures.js';

async function setup() {
  const dir = await tempRoot('nbuild-hostile-');
  const store = await Store.open(path.join(dir, 'store'));
  const img = await makeImage(store, 'h', 2);
  const good = path.join(dir, 'good.tar');
  await writeOciArchive(store, [{ image: img, names: ['h:1'] }], good);
  const archived: ArchiveImage = {
    manifestBytes: img.manifestBytes(),
    configBytes: img.configBytes(),
    layers: await Promise.all(img.layers.map(async (l) => ({ blob: await fs.readFile(store.blobPath(l.digest)), diffId: l.diffId.toString(), mediaType: l.mediaType }))),
  };
  const victim = await Store.open(path.join(dir, 'victim'));
  const outside = path.join(dir, 'outside');
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, 'passwd'), 'secret');
  return { dir, good, archived, victim, outside };
}

async function assertUntouched(t: import('ava').ExecutionContext, victim: Store, outside: string): Promise<void> {
  t.deepEqual(await victim.listImages(), []);
  t.deepEqual((await victim.readRefs()).names, {});
  t.deepEqual((await fs.readdir(victim.tmpRoot)).filter((n) => !n.startsWith('session-')), []);
  t.deepEqual(await fs.readdir(outside), ['passwd']);
  t.is(await fs.readFile(path.join(outside, 'passwd'), 'utf8'), 'secret');
}

for (const [i, c] of hostileOciArchives('/outside').entries()) {
  test(`refused: ${c.title}`, async (t) => {
    const { dir, good, archived, victim, outside } = await setup();
    const hostile = hostileOciArchives(outside)[i];
    const bad = path.join(dir, 'bad.tar');
    await hostile.make(good, archived, bad);
    await t.throwsAsync(loadArchive(victim, bad), { code: hostile.code, message: hostile.message } as never);
    await assertUntouched(t, victim, outside);
  });
}

test('a missing archive is ARCHIVE_NOT_FOUND', async (t) => {
  const { dir, victim, outside } = await setup();
  await t.throwsAsync(loadArchive(victim, path.join(dir, 'nope.tar')), { code: 'ARCHIVE_NOT_FOUND' } as never);
  await assertUntouched(t, victim, outside);
});
