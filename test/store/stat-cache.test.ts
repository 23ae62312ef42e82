// The COPY stat cache: per-folder shards, read only for the folders asked about; a torn or
// foreign shard is ignored, never trusted.
import test from 'ava';
import * as fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { pruneStatCache, RACY_MS, StatCache } from '../../src/cache/stat-cache.js';

function fresh(): { root: string; cache: () => StatCache } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-stat-cache-'));
  fs.mkdirSync(path.join(root, 'tmp'));
  return { root, cache: () => StatCache.ofStore({ root, tmpRoot: path.join(root, 'tmp') }) };
}

const st = (ino: number, size = 3) => ({ dev: 1, ino, size, mtimeMs: 1000.5, ctimeMs: 2000.25 });
const DIGEST = `sha256:${'a'.repeat(64)}`;

test('a digest survives a save and is only given for the same stat identity', async (t) => {
  const { root, cache } = fresh();
  const a = cache();
  a.record('/ctx/src/a.txt', st(7), DIGEST);
  a.record('/ctx/b.txt', st(8), DIGEST);
  await a.save();
  const b = cache();
  t.is(b.known('/ctx/src/a.txt', st(7)), DIGEST);
  t.is(b.known('/ctx/src/a.txt', st(7, 4)), undefined, 'another size');
  t.is(b.known('/ctx/src/a.txt', { ...st(7), ctimeMs: 2001 }), undefined, 'another ctime');
  t.is(b.known('/ctx/src/other.txt', st(7)), undefined);
  t.is(b.known('/ctx/b.txt', st(8)), DIGEST);
  // One shard per folder, under 256 fan-out folders.
  const shards = fs.readdirSync(path.join(root, 'context-stat')).flatMap((d) => fs.readdirSync(path.join(root, 'context-stat', d)));
  t.is(shards.length, 2);
});

test('a torn, altered or foreign shard is read as empty', async (t) => {
  const { cache } = fresh();
  const a = cache();
  a.record('/ctx/a.txt', st(7), DIGEST);
  await a.save();
  const file = a.shardFile('/ctx');
  const whole = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, whole.slice(0, whole.length - 5)); // torn
  t.is(cache().known('/ctx/a.txt', st(7)), undefined);
  fs.writeFileSync(file, whole.replace(DIGEST, `sha256:${'b'.repeat(64)}`)); // content changed, checksum not
  t.is(cache().known('/ctx/a.txt', st(7)), undefined);
  fs.writeFileSync(file, '\0'.repeat(whole.length)); // what a crash before writeback can leave
  t.is(cache().known('/ctx/a.txt', st(7)), undefined);
  // Another folder's (valid) shard in this folder's place.
  const other = cache();
  other.record('/elsewhere/a.txt', st(7), DIGEST);
  await other.save();
  fs.copyFileSync(other.shardFile('/elsewhere'), file);
  t.is(cache().known('/ctx/a.txt', st(7)), undefined);
  t.is(cache().known('/elsewhere/a.txt', st(7)), DIGEST);
});

test('a shard rewritten keeps the entries of files not looked at; an old one-file cache is removed', async (t) => {
  const { root, cache } = fresh();
  const legacy = path.join(root, 'cache', 'context-stat.json');
  fs.mkdirSync(path.dirname(legacy));
  fs.writeFileSync(legacy, '{}');
  const a = cache();
  a.record('/ctx/a.txt', st(7), DIGEST);
  a.record('/ctx/b.txt', st(8), DIGEST);
  await a.save();
  t.false(fs.existsSync(legacy));
  const b = cache();
  b.record('/ctx/a.txt', st(9), DIGEST); // a.txt replaced
  await b.save();
  const c = cache();
  t.is(c.known('/ctx/a.txt', st(7)), undefined);
  t.is(c.known('/ctx/a.txt', st(9)), DIGEST);
  t.is(c.known('/ctx/b.txt', st(8)), DIGEST);
});

test('a walk summary is one file per walk key: given only for the same listing, rewritten when the tree changes', async (t) => {
  const { root, cache } = fresh();
  const key = 'k'.repeat(64);
  const a = cache();
  t.is(a.treeDigest(key, 'listing-1'), undefined);
  a.recordTree(key, 'listing-1', DIGEST);
  await a.save();
  t.is(cache().treeDigest(key, 'listing-1'), DIGEST);
  t.is(cache().treeDigest(key, 'listing-2'), undefined, 'another listing');
  t.is(cache().treeDigest('j'.repeat(64), 'listing-1'), undefined, 'another walk');
  const b = cache();
  b.recordTree(key, 'listing-2', `sha256:${'b'.repeat(64)}`);
  await b.save();
  t.is(cache().treeDigest(key, 'listing-1'), undefined, 'the old summary is replaced');
  t.is(cache().treeDigest(key, 'listing-2'), `sha256:${'b'.repeat(64)}`);
  const files = fs.readdirSync(path.join(root, 'context-stat')).flatMap((d) => fs.readdirSync(path.join(root, 'context-stat', d)).map((f) => path.join(root, 'context-stat', d, f)));
  t.is(files.length, 1);
  // torn, or its checksum no longer matching: never trusted
  const whole = fs.readFileSync(files[0] as string, 'utf8');
  fs.writeFileSync(files[0] as string, whole.slice(0, -3));
  t.is(cache().treeDigest(key, 'listing-2'), undefined);
  fs.writeFileSync(files[0] as string, whole.replace('b'.repeat(64), 'c'.repeat(64)));
  t.is(cache().treeDigest(key, 'listing-2'), undefined);
});

test('an entry whose ctime is within RACY_MS of its recording serves this build only, never a later one', async (t) => {
  const { cache } = fresh();
  const a = cache();
  const now = Date.now();
  const recent = { dev: 1, ino: 9, size: 3, mtimeMs: now, ctimeMs: now };
  const settled = { dev: 1, ino: 10, size: 3, mtimeMs: now - 10 * RACY_MS, ctimeMs: now - 10 * RACY_MS };
  a.record('/ctx/new.txt', recent, DIGEST);
  a.record('/ctx/old.txt', settled, DIGEST);
  t.is(a.known('/ctx/new.txt', recent), DIGEST, 'the build that read it uses it (one read per file)');
  await a.save();
  const b = cache();
  // The file may change again in the same clock tick with the same size, mtime and ctime.
  t.is(b.known('/ctx/new.txt', recent), undefined, 'a later build reads it again');
  t.is(b.known('/ctx/old.txt', settled), DIGEST);
});

test('prune drops the shards and walk records of context folders that are gone, keeps the others, and drops torn files', async (t) => {
  const { root, cache } = fresh();
  const here = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-ctx-here-'));
  const gone = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-ctx-gone-'));
  const a = cache();
  a.record(path.join(here, 'a.txt'), st(7), DIGEST);
  a.record(path.join(gone, 'a.txt'), st(8), DIGEST);
  a.recordTree('walk-here', 'listing-1', DIGEST);
  a.recordFolderDigests('walk-here', new Map([[here, ['l', 'f']]]));
  a.recordTree('walk-gone', 'listing-2', DIGEST);
  a.recordFolderDigests('walk-gone', new Map([[gone, ['l', 'f']], [path.join(gone, 'sub'), ['l', 'f']]]));
  await a.save();
  const torn = a.shardFile('/torn');
  fs.mkdirSync(path.dirname(torn), { recursive: true });
  fs.writeFileSync(torn, 'nbuild-stat-v1 0\n{');
  const files = (): number => fs.readdirSync(path.join(root, 'context-stat')).flatMap((d) => fs.readdirSync(path.join(root, 'context-stat', d))).length;
  t.is(files(), 7);
  const tornSize = fs.statSync(torn).size;
  t.deepEqual(await pruneStatCache(path.join(root, 'context-stat')), { files: 1, bytes: tornSize });
  t.is(files(), 6, 'only the torn file while both folders exist');
  fs.rmSync(gone, { recursive: true });
  const r = await pruneStatCache(path.join(root, 'context-stat'));
  t.is(r.files, 3, "the gone folder's shard, its walk's folder digests and that walk's summary");
  t.true(r.bytes > 0);
  const b = cache();
  t.is(b.known(path.join(here, 'a.txt'), st(7)), DIGEST);
  t.is(b.treeDigest('walk-here', 'listing-1'), DIGEST);
  t.is(b.folderDigests('walk-here').size, 1);
  t.is(b.known(path.join(gone, 'a.txt'), st(8)), undefined);
  t.is(b.treeDigest('walk-gone', 'listing-2'), undefined);
  t.is(b.folderDigests('walk-gone').size, 0);
  t.deepEqual(await pruneStatCache(path.join(root, 'nothing-here')), { files: 0, bytes: 0 }, 'no stat cache yet');
});

test.serial('two shards in one fan-out folder are saved even when making that folder is slow (the second waits for it)', async (t) => {
  const { cache } = fresh();
  const a = cache();
  // Two folders whose shards share a fan-out folder.
  const first = '/ctx/d0';
  const parent = path.dirname(a.shardFile(first));
  let second = '';
  for (let i = 1; !second; i++) if (path.dirname(a.shardFile(`/ctx/d${i}`)) === parent) second = `/ctx/d${i}`;
  a.record(`${first}/f.txt`, st(1), DIGEST);
  a.record(`${second}/f.txt`, st(2), DIGEST);
  // mkdir takes 100 ms (as it may on a loaded machine): a write that does not wait for it renames into nothing.
  const real = fsp.mkdir;
  fsp.mkdir = (async (...args: Parameters<typeof real>) => {
    await new Promise((r) => setTimeout(r, 100));
    return real(...args);
  }) as typeof real;
  syncBuiltinESMExports();
  try {
    await a.save();
  } finally {
    fsp.mkdir = real;
    syncBuiltinESMExports();
  }
  const b = cache();
  t.is(b.known(`${first}/f.txt`, st(1)), DIGEST);
  t.is(b.known(`${second}/f.txt`, st(2)), DIGEST);
});
