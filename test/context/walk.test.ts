// The COPY sources walk (cache/content-hash.ts over context/tree.ts): the digest is the one the
// plain synchronous walk gives (readdirSync().sort(), lstatSync, .dockerignore as before), and a
// summarised tree is used only while no listing changed: a touch, edit, add, delete or chmod of
// one file in a deep folder misses it, and then only that folder's files are looked at.
import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildContext } from '../../src/context/context.js';
import { contextSourcesDigest } from '../../src/cache/content-hash.js';
import { StatCache } from '../../src/cache/stat-cache.js';

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `nb-${prefix}-`));
}

/**
 * The walk without the native listing or any cache (synchronous readdir, lstat, readFile), in the
 * digest's form (content-hash.ts): the reference the digests must equal. Per folder its header,
 * then the sha256 of its files' and links' parts by name, then its subfolders.
 */
async function referenceDigest(context: BuildContext, sources: string[]): Promise<string> {
  const h = createHash('sha256');
  const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
  const part = (label: string, abs: string, st: fs.Stats): string => {
    const mode = (st.mode & 0o177777).toString(8);
    if (st.isSymbolicLink()) return `l\0${label}\0${fs.readlinkSync(abs)}\0`;
    if (st.isFile()) return `f\0${label}\0${mode}\0sha256:${sha(fs.readFileSync(abs))}\0`;
    return '';
  };
  const walk = (abs: string, rel: string, st: fs.Stats): void => {
    if (!st.isDirectory()) {
      h.update(part(rel, abs, st));
      return;
    }
    h.update(`d\0${rel}\0${(st.mode & 0o177777).toString(8)}\0`);
    let files = '';
    const subfolders: [string, string, fs.Stats][] = [];
    for (const name of fs.readdirSync(abs).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const childAbs = path.join(abs, name);
      const childSt = fs.lstatSync(childAbs);
      if (context.isExcluded(childRel, childSt.isDirectory()) && (!childSt.isDirectory() || context.ignore.canSkipDirectory(childRel))) continue;
      if (childSt.isDirectory()) subfolders.push([childAbs, childRel, childSt]);
      else files += part(name, childAbs, childSt);
    }
    h.update(`F\0${sha(files)}\0`);
    for (const [a, r, s] of subfolders) walk(a, r, s);
  };
  for (const src of sources) {
    h.update(`src\0${src}\0`);
    for (const e of await context.resolve(src)) walk(e.abs, e.rel, e.stat);
  }
  return h.digest('hex');
}

/** A StatCache that counts the per-file lookups: none means the walk's summary was used. */
function countingCache(root: string): { cache: StatCache; lookups: () => number } {
  const cache = StatCache.ofStore({ root, tmpRoot: path.join(root, 'tmp') });
  let n = 0;
  const known = cache.known.bind(cache);
  cache.known = (abs, st) => (n++, known(abs, st));
  return { cache, lookups: () => n };
}

function makeTree(ctx: string): void {
  const deep = path.join(ctx, 'a', 'b', 'c', 'd');
  fs.mkdirSync(deep, { recursive: true });
  fs.mkdirSync(path.join(ctx, 'node_modules', 'x', 'keep'), { recursive: true });
  fs.mkdirSync(path.join(ctx, 'logs'), { recursive: true });
  const files: Record<string, string> = {
    'Dockerfile': 'FROM scratch\n',
    'a/one.txt': '1',
    'a/b/c/d/deep.txt': 'deep',
    'a/b/c/d/é-\u{1F600}.txt': 'unicode',
    'a/b/c/d/\uFF21.txt': 'fullwidth A',
    'a/b/c/skip.log': 'ignored',
    'node_modules/x/index.js': 'x',
    'node_modules/x/keep/me.js': 'kept by an exception',
    'logs/1.log': 'l',
  };
  for (const [rel, text] of Object.entries(files)) fs.writeFileSync(path.join(ctx, rel), text);
  fs.symlinkSync('../one.txt', path.join(ctx, 'a', 'b', 'link'));
  fs.chmodSync(path.join(ctx, 'a', 'one.txt'), 0o751);
}

test('the digest equals the plain walk\'s, with .dockerignore exclusions, exceptions, links and non-ASCII names', async (t) => {
  const ctx = tempDir('walk-ref');
  const store = tempDir('walk-store');
  fs.mkdirSync(path.join(store, 'tmp'));
  makeTree(ctx);
  for (const ignore of [undefined, '**/*.log\nnode_modules\n!node_modules/x/keep\n', 'logs\n*/b/c\n!a/b/c/d/deep.txt\n', '*\n!a\n']) {
    if (ignore === undefined) fs.rmSync(path.join(ctx, '.dockerignore'), { force: true });
    else fs.writeFileSync(path.join(ctx, '.dockerignore'), ignore);
    const context = await BuildContext.open(ctx, path.join(ctx, 'Dockerfile'));
    for (const sources of [['.'], ['a'], ['a/b/c/d/*.txt', 'node_modules'], ['a/*', 'logs']]) {
      const { cache } = countingCache(store);
      t.is(await contextSourcesDigest(context, sources, cache), await referenceDigest(context, sources), `${JSON.stringify(ignore)} ${sources.join(' ')}`);
    }
  }
});

test('an unchanged tree is one summary; a change to one deep file misses it and gives the new digest', async (t) => {
  t.timeout(60_000);
  const ctx = tempDir('walk-summary');
  const store = tempDir('walk-summary-store');
  fs.mkdirSync(path.join(store, 'tmp'));
  makeTree(ctx);
  const deep = path.join(ctx, 'a', 'b', 'c', 'd', 'deep.txt');
  // A tree changed within two seconds of its walk is not summarised (a change in the same
  // clock tick keeps the ctime): let the new tree age first.
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 2100));
  await settle();
  const context = await BuildContext.open(ctx, path.join(ctx, 'Dockerfile'));
  const walk = async (): Promise<{ digest: string; lookups: number }> => {
    const { cache, lookups } = countingCache(store);
    const digest = await contextSourcesDigest(context, ['.'], cache);
    await cache.save();
    return { digest, lookups: lookups() };
  };
  const first = await walk();
  t.true(first.lookups > 0, 'the first walk looks at each file');
  const again = await walk();
  t.deepEqual(again, { digest: first.digest, lookups: 0 }, 'an unchanged tree: its summary, no file looked at');

  // Lookups after each change: only deep.txt's folder looks at its files (3, or 4 with new.txt;
  // a file hashed again is not looked up a second time, content-hash.ts hashUnknown), plus, when a name is added
  // or removed, the parent's one file (skip.log: the folder's own mtime is in its parent's
  // listing); every other folder's listing is unchanged and gives the files digest it recorded
  // (the tree has 9 files).
  const changes: [string, () => void, boolean, number][] = [
    ['touch', () => fs.utimesSync(deep, new Date(9000), new Date(9000)), false, 3],
    ['edit (size and mtime kept)', () => {
      const st = fs.statSync(deep);
      fs.writeFileSync(deep, 'DEEP');
      fs.utimesSync(deep, st.atime, st.mtime);
    }, true, 3],
    ['chmod', () => fs.chmodSync(deep, 0o600), true, 3],
    ['add', () => fs.writeFileSync(path.join(path.dirname(deep), 'new.txt'), ''), true, 5],
    ['delete', () => fs.rmSync(path.join(path.dirname(deep), 'new.txt')), true, 4],
  ];
  let previous = first.digest;
  for (const [what, change, moves, lookups] of changes) {
    change();
    const changed = await walk();
    t.is(changed.lookups, lookups, `${what}: the summary is missed, and only the changed folder's files are looked at`);
    t.is(changed.digest, await referenceDigest(context, ['.']), `${what}: the digest of the tree as it is`);
    t.is(changed.digest !== previous, moves, `${what}: the digest ${moves ? 'changes' : 'stays'}`);
    previous = changed.digest;
    await settle();
    await walk(); // summarised again
    t.is((await walk()).lookups, 0, `${what}: then summarised again`);
  }
});

// The walk lists folders in calls of varying size, two under way, reading each call's result as
// soon as those before it are read (context/tree.ts listInOrder): its summary must be the one
// that listing every folder on its own, breadth first, gives, and a folder that cannot be listed
// fails the walk naming it.
test('the pipelined listing sums the folders breadth first, as one folder at a time would', async (t) => {
  const { listContextTree } = await import('../../src/context/tree.js');
  const { listDirs } = await import('../../src/native/index.js');
  const dir = tempDir('walk-pipelined');
  // Uneven levels (1, 7, 7 * 9 = 63, 63 * 5 = 315 folders) so the calls differ in size.
  const make = (base: string, depth: number): void => {
    const width = [7, 9, 5][depth];
    if (width === undefined) return;
    for (let i = 0; i < width; i++) {
      const sub = path.join(base, `d${depth}-${i}`);
      fs.mkdirSync(sub);
      fs.writeFileSync(path.join(sub, 'f'), `${sub}\n`);
      make(sub, depth + 1);
    }
  };
  make(dir, 0);
  const context = await BuildContext.open(dir, undefined);
  const tree = await listContextTree(context, context.resolve('.'));
  const expected = createHash('sha256');
  const queue = [dir];
  for (let i = 0; i < queue.length; i++) {
    const abs = queue[i] as string;
    const one = await listDirs([abs]);
    expected.update(`${abs}\0${one.digests[0] as string}\0`);
    for (const name of fs.readdirSync(abs, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) queue.push(path.join(abs, name));
  }
  t.is(queue.length, 1 + 7 + 63 + 315);
  t.is(tree.listing, expected.digest('hex'));
  const locked = path.join(dir, 'd0-3', 'd1-4');
  fs.chmodSync(locked, 0);
  try {
    if (process.geteuid?.() === 0) return; // root reads it anyway
    await t.throwsAsync(listContextTree(context, context.resolve('.')), { message: new RegExp(locked) });
  } finally {
    fs.chmodSync(locked, 0o755);
  }
});
