// A no-op rebuild of a big context must be fully cached, and we want to know
// where its time goes. No timing assertions here (bench/ has the benchmarks):
// the split is logged so a regression is visible in the test output.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { nbuild, storeWithBusybox, tempDir } from '../helpers/nbuild-cli.js';
import { BuildContext } from '../../src/context/context.js';
import { contextSourcesDigest } from '../../src/cache/content-hash.js';
import { StatCache } from '../../src/cache/stat-cache.js';

const FILES = 20_000;
const PER_DIR = 100;

interface Event {
  type: string;
  id?: number;
  cached?: boolean;
  time: number;
}

function makeContext(): string {
  const ctx = tempDir('noop-ctx');
  for (let d = 0; d < FILES / PER_DIR; d++) {
    const dir = path.join(ctx, 'src', `d${d}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < PER_DIR; f++) fs.writeFileSync(path.join(dir, `f${f}.txt`), `file ${d}/${f}\n`);
  }
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox:latest\nCOPY . /ctx/\nRUN ls /ctx/src | wc -l > /ctx-count\n');
  return ctx;
}

async function timedBuild(root: string, ctx: string): Promise<{ ms: number; started: number; exited: number; events: Event[]; stdout: string }> {
  const started = Date.now();
  const t0 = performance.now();
  const r = await nbuild(['--root', root, 'build', '--progress', 'json', ctx]);
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  const events = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event);
  return { ms, started, exited: started + ms, events, stdout: r.stdout };
}

test('a no-op rebuild of 20,000 files is fully cached; its time is split by phase', async (t) => {
  t.timeout(10 * 60_000);
  const root = await storeWithBusybox();
  const ctx = makeContext();
  try {
    const first = await timedBuild(root, ctx);
    t.true(first.events.some((e) => e.type === 'step-done' && e.cached === false), 'the first build runs its steps');
    t.log(`first build: ${(first.ms / 1000).toFixed(2)}s for ${FILES} files`);

    const second = await timedBuild(root, ctx);
    const done = second.events.filter((e) => e.type === 'step-done');
    t.is(done.length, 2);
    t.true(done.every((e) => e.cached === true), 'every step of the rebuild is CACHED');
    const starts = second.events.filter((e) => e.type === 'step-start');
    const copyStart = starts[0].time;
    const copyDone = done[0].time;
    const lastDone = done[done.length - 1].time;
    // Hashing alone, in this process, with the stat cache the builds left behind.
    const statCache = StatCache.ofStore({ root, tmpRoot: path.join(root, 'tmp') });
    const context = await BuildContext.open(ctx, path.join(ctx, 'Dockerfile'));
    const h0 = performance.now();
    await contextSourcesDigest(context, ['.'], statCache);
    const hashMs = performance.now() - h0;
    const copyMs = copyDone - copyStart;
    t.log(
      [
        `no-op rebuild: ${(second.ms / 1000).toFixed(2)}s wall`,
        `startup (process, re-exec into the user namespace, parse, store, base image): ${copyStart - second.started}ms`,
        `COPY step (context hash + cache lookup): ${copyMs}ms, of which hashing ${Math.round(hashMs)}ms (measured alone, warm stat cache)`,
        `RUN step (cache lookup): ${lastDone - copyDone}ms`,
        `finish (write image, names, exit): ${Math.round(second.exited - lastDone)}ms`,
      ].join('\n'),
    );
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
  }
});

test('touching a file without changing it keeps the cache; changing one byte does not', async (t) => {
  t.timeout(5 * 60_000);
  const root = await storeWithBusybox();
  const ctx = tempDir('noop-small');
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox:latest\nCOPY . /ctx/\n');
  fs.writeFileSync(path.join(ctx, 'a.txt'), 'same\n');
  await timedBuild(root, ctx);
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(path.join(ctx, 'a.txt'), later, later); // new mtime: the stat cache misses, content does not change
  const touched = await timedBuild(root, ctx);
  t.true(touched.events.filter((e) => e.type === 'step-done').every((e) => e.cached));
  fs.writeFileSync(path.join(ctx, 'a.txt'), 'samf\n'); // same size, new content
  fs.utimesSync(path.join(ctx, 'a.txt'), later, later); // even with the same mtime (ctime still moves)
  const changed = await timedBuild(root, ctx);
  t.false(changed.events.find((e) => e.type === 'step-done')?.cached);
});
