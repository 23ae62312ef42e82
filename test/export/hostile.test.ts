import test from 'ava';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { writeOciArchive } from '../../src/export/oci-archive.js';
import { TarWriter, readTar } from '../../src/export/tar.js';
import { createReadStream } from 'node:fs';
import { loadArchive } from '../../src/store/load.js';
import { Store } from '../../src/store/store.js';
import { makeImage, tempRoot } from '../store/fixtures.js';

/** Rewrites an archive, letting `edit` change each entry's name or bytes (or drop it with null). */
async function rewrite(src: string, dest: string, edit: (name: string, data: Buffer) => [string, Buffer] | null, extra: [string, Buffer][] = []): Promise<void> {
  const entries: [string, Buffer][] = [];
  await readTar(createReadStream(src), async (e, body) => {
    if (e.type !== 'file') return;
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    const r = edit(e.name, Buffer.concat(chunks));
    if (r) entries.push(r);
  });
  const fh = await fs.open(dest, 'w');
  const tar = new TarWriter(fh);
  for (const [n, d] of [...entries, ...extra]) await tar.addBuffer(n, d);
  await tar.finish();
  await fh.close();
}

async function setup() {
  const dir = await tempRoot('nbuild-hostile-');
  const store = await Store.open(path.join(dir, 'store'));
  const img = await makeImage(store, 'h', 2);
  const good = path.join(dir, 'good.tar');
  await writeOciArchive(store, [{ image: img, names: ['h:1'] }], good);
  const victim = await Store.open(path.join(dir, 'victim'));
  return { dir, img, good, victim };
}

async function assertUntouched(t: import('ava').ExecutionContext, victim: Store): Promise<void> {
  t.deepEqual(await victim.listImages(), []);
  t.deepEqual((await victim.readRefs()).names, {});
  t.deepEqual((await fs.readdir(victim.tmpRoot)).filter((n) => !n.startsWith('session-')), []);
}

test('a blob whose content does not match its digest is refused', async (t) => {
  const { dir, img, good, victim } = await setup();
  const bad = path.join(dir, 'bad.tar');
  const target = `blobs/sha256/${img.layers[1].digest.hex}`;
  await rewrite(good, bad, (n, d) => [n, n === target ? Buffer.concat([d, Buffer.from('x')]) : d]);
  await t.throwsAsync(loadArchive(victim, bad), { code: 'DIGEST_MISMATCH' } as never);
  await assertUntouched(t, victim);
});

test('paths escaping the archive are refused', async (t) => {
  const { dir, good, victim } = await setup();
  for (const evil of ['../evil', '/etc/evil', 'blobs/../../evil']) {
    const bad = path.join(dir, 'bad.tar');
    await rewrite(good, bad, (n, d) => [n, d], [[evil, Buffer.from('x')]]);
    await t.throwsAsync(loadArchive(victim, bad), { code: 'ARCHIVE_INVALID', message: /absolute|escapes/ } as never, evil);
    await t.throwsAsync(fs.stat(path.join(dir, 'evil')));
  }
  await assertUntouched(t, victim);
});

test('an index pointing nowhere, a missing layer, bad JSON and junk are refused', async (t) => {
  const { dir, img, good, victim } = await setup();
  const bad = path.join(dir, 'bad.tar');
  await rewrite(good, bad, (n, d) => [n, n === 'index.json' ? Buffer.from(d.toString().replace(img.manifestDigest.hex, 'f'.repeat(64))) : d]);
  await t.throwsAsync(loadArchive(victim, bad), { code: 'ARCHIVE_INVALID', message: /missing/ } as never);
  await rewrite(good, bad, (n, d) => (n === `blobs/sha256/${img.layers[0].digest.hex}` ? null : [n, d]));
  await t.throwsAsync(loadArchive(victim, bad), { message: /layer 0 .* missing/ });
  await rewrite(good, bad, (n, d) => [n, n === 'index.json' ? Buffer.from('{not json') : d]);
  await t.throwsAsync(loadArchive(victim, bad), { code: 'ARCHIVE_INVALID' } as never);
  await fs.writeFile(bad, Buffer.alloc(3000, 7));
  await t.throwsAsync(loadArchive(victim, bad), { code: 'ARCHIVE_INVALID' } as never);
  await fs.writeFile(bad, (await fs.readFile(good)).subarray(0, 1500));
  await t.throwsAsync(loadArchive(victim, bad), { code: 'ARCHIVE_INVALID' } as never);
  await t.throwsAsync(loadArchive(victim, path.join(dir, 'nope.tar')), { code: 'ARCHIVE_NOT_FOUND' } as never);
  await assertUntouched(t, victim);
});

test('duplicate entries are refused', async (t) => {
  const { dir, good, victim } = await setup();
  const bad = path.join(dir, 'bad.tar');
  await rewrite(good, bad, (n, d) => [n, d], [['index.json', Buffer.from('{}')]]);
  await t.throwsAsync(loadArchive(victim, bad), { message: /twice/ });
  await assertUntouched(t, victim);
});

test('a layer whose diff_id is not the one in the config is refused', async (t) => {
  const { dir, img, good, victim } = await setup();
  const bad = path.join(dir, 'bad.tar');
  // Swap the two layers' diff_ids in the config and fix up the digests that name it.
  const cfg = JSON.parse(img.configBytes().toString()) as { rootfs: { diff_ids: string[] } };
  cfg.rootfs.diff_ids.reverse();
  const cfgBytes = Buffer.from(JSON.stringify(cfg));
  const { Digest } = await import('../../src/image/digest.js');
  const cfgDigest = Digest.of(cfgBytes);
  const manifest = JSON.parse(img.manifestBytes().toString()) as { config: { digest: string; size: number } };
  manifest.config = { ...manifest.config, digest: cfgDigest.toString(), size: cfgBytes.length };
  const mBytes = Buffer.from(JSON.stringify(manifest));
  const mDigest = Digest.of(mBytes);
  await rewrite(good, bad, (n, d) => {
    if (n === 'index.json') {
      const idx = JSON.parse(d.toString()) as { manifests: { digest: string; size: number }[] };
      idx.manifests[0] = { ...idx.manifests[0], digest: mDigest.toString(), size: mBytes.length };
      return [n, Buffer.from(JSON.stringify(idx))];
    }
    return [n, d];
  }, [[`blobs/sha256/${cfgDigest.hex}`, cfgBytes], [`blobs/sha256/${mDigest.hex}`, mBytes]]);
  await t.throwsAsync(loadArchive(victim, bad), { code: 'DIGEST_MISMATCH', message: /diff_id/ } as never);
  await assertUntouched(t, victim);
});
