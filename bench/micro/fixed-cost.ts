// Micro-benchmark: a build's fixed cost must not grow with what other builds left in the store
// (issue 18, deliverable 4). The tiny build (a one-file context, FROM busybox, COPY), one cached
// no-op rebuild timed per run, against two stores:
//   empty  busybox only
//   full   busybox + IMAGES images (each named, each with CACHE_PER_IMAGE cache records) and
//          STAT_ENTRIES stat cache entries in STAT_PER_FOLDER-file folders of other contexts
// The full store is filled synthetically but through the store's own code and on-disk formats
// (Store.writeImage / tag / cachePut, StatCache.record / save). The runs of the two stores are
// interleaved; medians and the NBUILD_TRACE phases of one extra run of each are printed.
//
//   node dist/bench/micro/fixed-cost.js --nbuild BIN --busybox OCI.tar --work DIR
//        [--runs 11] [--images 200] [--stat-entries 1000000] [--keep 1]
// Run it as the unprivileged user (the builds enter a user namespace). --keep 1 reuses filled
// stores from an earlier run in the same --work folder.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Store } from '../../src/store/store.js';
import { Image } from '../../src/image/image.js';
import { StatCache } from '../../src/cache/stat-cache.js';

const opt = new Map<string, string>();
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opt.set((argv[i] as string).replace(/^--/, ''), argv[i + 1] as string);
const nbuild = opt.get('nbuild') ?? 'nbuild';
const busybox = opt.get('busybox');
const work = path.resolve(opt.get('work') ?? 'fixed-cost-work');
const runs = Number(opt.get('runs') ?? 11);
const IMAGES = Number(opt.get('images') ?? 200);
const STAT_ENTRIES = Number(opt.get('stat-entries') ?? 1_000_000);
const keep = opt.get('keep') === '1';
const CACHE_PER_IMAGE = 5;
const STAT_PER_FOLDER = 100;
const TAG = 'localhost/fixed-cost:latest';
if (!busybox) throw new Error('--busybox OCI.tar is required (scripts/make-busybox-image.sh)');

const ctx = path.join(work, 'ctx');
const stores = { empty: path.join(work, 'store-empty'), full: path.join(work, 'store-full') };

function run(args: string[], env: NodeJS.ProcessEnv = process.env): { ms: number; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(nbuild, args, { encoding: 'utf8', env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`nbuild ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stderr: r.stderr };
}

function build(root: string, env?: NodeJS.ProcessEnv): { ms: number; stderr: string } {
  return run(['--root', root, 'build', '--progress', 'json', '-t', TAG, ctx], env);
}

/** The rebuild must be all cache hits, or it measures something else. */
function allCached(stderr: string): boolean {
  const done = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; cached?: boolean }).filter((e) => e.type === 'step-done');
  return done.length > 0 && done.every((e) => e.cached);
}

async function fill(root: string): Promise<void> {
  const store = await Store.open(root);
  const base = await store.getImage('busybox:latest');
  if (!base) throw new Error('busybox:latest is not in the store');
  const layer = base.layers[0];
  for (let i = 0; i < IMAGES; i++) {
    const img = Image.build({ ...base.config, config: { ...base.config.config, Labels: { 'bench.filler': String(i) } } }, [...base.layers]);
    await store.writeImage(img);
    await store.tag(`localhost/filler-${i}:latest`, img);
    for (let j = 0; j < CACHE_PER_IMAGE; j++) {
      const record = { config: { createdBy: `filler ${i} step ${j}` }, createdAt: new Date().toISOString(), layer: { digest: layer.digest.toString(), diffId: layer.diffId.toString(), size: layer.size, mediaType: layer.mediaType } };
      await store.cachePut(`filler-${i}-${j}`, record);
    }
  }
  // Folders of other contexts, saved a batch at a time (bounded memory).
  const folders = Math.ceil(STAT_ENTRIES / STAT_PER_FOLDER);
  const BATCH = 500;
  for (let first = 0; first < folders; first += BATCH) {
    const stats = StatCache.ofStore(store);
    for (let f = first; f < Math.min(folders, first + BATCH); f++) {
      for (let k = 0; k < STAT_PER_FOLDER && f * STAT_PER_FOLDER + k < STAT_ENTRIES; k++) {
        const ino = f * STAT_PER_FOLDER + k;
        const digest = `sha256:${ino.toString(16).padStart(64, '0')}`;
        stats.record(`/bench-fill/ctx-${Math.floor(f / 100)}/pkg-${f % 100}/file-${k}.js`, { dev: 2049, ino, size: 1000 + k, mtimeMs: 1.7e12 + ino, ctimeMs: 1.7e12 + ino }, digest);
      }
    }
    await stats.save();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** ms between trace points (NBUILD_TRACE=1), for the phases a store could make slower. */
function phases(stderr: string): string {
  const at = new Map<string, number>();
  for (const m of stderr.matchAll(/^nbuild-trace ([\d.]+) (.*)$/gm)) if (!at.has(m[2])) at.set(m[2], Number(m[1]));
  const span = (a: string, b: string): string => (at.has(a) && at.has(b) ? `${((at.get(b) as number) - (at.get(a) as number)).toFixed(1)}` : '?');
  return [
    `start->store open ${span('cli: main', 'build: store open')}`,
    `store open->context+stat ready ${span('build: store open', 'build: context and stat cache ready')}`,
    `->plan executed ${span('build: context and stat cache ready', 'build: plan executed')}`,
    `->stored+tagged ${span('build: plan executed', 'build: image stored and tagged')}`,
  ].join(', ');
}

async function main(): Promise<void> {
  fs.mkdirSync(ctx, { recursive: true });
  fs.writeFileSync(path.join(ctx, 'hello.txt'), 'hello\n');
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox:latest\nCOPY hello.txt /hello.txt\n');
  for (const [name, root] of Object.entries(stores)) {
    if (keep && fs.existsSync(path.join(root, 'refs.json'))) continue;
    fs.rmSync(root, { recursive: true, force: true });
    run(['--root', root, 'load', '-i', busybox as string, '-t', 'busybox:latest']);
    if (name === 'full') {
      const t0 = performance.now();
      await fill(root);
      console.log(`filled ${root}: ${IMAGES} images, ${IMAGES * CACHE_PER_IMAGE} cache records, ${STAT_ENTRIES} stat entries in ${Math.ceil(STAT_ENTRIES / STAT_PER_FOLDER)} shards (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
  }
  // A cold build, then one rebuild, in each: the measured runs are all cache hits.
  for (const root of Object.values(stores)) {
    build(root);
    if (!allCached(build(root).stderr)) throw new Error(`the rebuild in ${root} was not all cache hits`);
  }
  const times: Record<keyof typeof stores, number[]> = { empty: [], full: [] };
  for (let r = 0; r < runs; r++) {
    // Interleaved, the order alternating, so drift on a shared machine hits both alike.
    const order = (r % 2 ? ['full', 'empty'] : ['empty', 'full']) as (keyof typeof stores)[];
    for (const name of order) {
      const b = build(stores[name]);
      if (!allCached(b.stderr)) throw new Error(`run ${r} in the ${name} store was not all cache hits`);
      times[name].push(b.ms);
    }
  }
  const e = median(times.empty);
  const f = median(times.full);
  console.log(`tiny no-op rebuild, ${runs} runs each, median wall ms: empty store ${e.toFixed(0)}, full store ${f.toFixed(0)} (full/empty ${(f / e).toFixed(3)})`);
  console.log(`  empty: ${times.empty.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`  full:  ${times.full.map((x) => x.toFixed(0)).join(' ')}`);
  for (const [name, root] of Object.entries(stores)) console.log(`  trace ${name}: ${phases(build(root, { ...process.env, NBUILD_TRACE: '1' }).stderr)}`);
}

await main();
