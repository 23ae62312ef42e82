// A cold COPY of many unknown bytes from the context is staged first and hashed as it is copied
// (each file read once, docs/decisions.md); fewer unknown bytes are hashed first (stageBeforeKey).
// Either way the key must be the content's, so a fresh checkout of the same files hits the cache,
// an edit misses and brings the new bytes, and the copy fills the stat cache.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuildEvent } from '../../src/index.js';
import { apiBuild } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { listLayer, openOciArchive } from '../helpers/oci.js';
import { STAGE_FIRST_MIN_BYTES, stageBeforeKey } from '../../src/executor/steps/copy.js';

async function build(root: string, ctx: string): Promise<{ cached: boolean[]; layers: string[]; files: Map<string, string> }> {
  const out = path.join(tempDir('read-once-out'), 'image.tar');
  const events: BuildEvent[] = [];
  const r = await apiBuild(root, ctx, ['-o', `type=oci,dest=${out}`], { onEvent: (e) => events.push(e) });
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  const a = openOciArchive(out);
  // Each file's content (its sha256, for a big one) in the top-most layer that has it.
  const files = new Map<string, string>();
  for (const l of a.manifest.layers) {
    const blob = a.blob(l.digest);
    for (const e of listLayer(blob)) {
      if (!e.mode.startsWith('-') || !e.name.startsWith('ctx/')) continue;
      const bytes = execFileSync('tar', ['-xOf', blob, e.name], { maxBuffer: 2 * STAGE_FIRST_MIN_BYTES });
      files.set(e.name, bytes.length > 1 << 20 ? sha256(bytes) : bytes.toString('utf8'));
    }
  }
  return { cached: events.flatMap((e) => (e.type === 'step-done' ? [e.cached === true] : [])), layers: a.manifest.layers.map((l) => l.digest), files };
}

/** The folder shards of the stat cache (beside them may be a walk's summary, `{"tree": …}`). */
function shards(root: string): number {
  const dir = path.join(root, 'context-stat');
  if (!fs.existsSync(dir)) return 0;
  const files = fs.readdirSync(dir).flatMap((d) => fs.readdirSync(path.join(dir, d)).map((f) => path.join(dir, d, f)));
  return files.filter((f) => fs.readFileSync(f, 'utf8').includes('\n{"dir":')).length;
}

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

test('a COPY is staged before its key only for many unknown bytes: most of it, and at least STAGE_FIRST_MIN_BYTES', (t) => {
  const big = STAGE_FIRST_MIN_BYTES;
  t.true(stageBeforeKey({ unknownBytes: big, totalBytes: big }));
  t.true(stageBeforeKey({ unknownBytes: big, totalBytes: 2 * big }));
  t.false(stageBeforeKey({ unknownBytes: big, totalBytes: 2 * big + 1 }));
  // A touched file or a small cold context: hashed first (staging costs more than the read).
  t.false(stageBeforeKey({ unknownBytes: big - 1, totalBytes: big - 1 }));
  t.false(stageBeforeKey({ unknownBytes: 6, totalBytes: 6 }));
  t.false(stageBeforeKey({ unknownBytes: 0, totalBytes: 0 }));
  // Many small unknown files (a fresh checkout), streamed or not: hashed first, in batches, so a
  // key that hits writes nothing (docs/decisions.md, "Unknown context files hashed in batches").
  t.false(stageBeforeKey({ unknownBytes: 6000, totalBytes: 6000 }));
});

test('a cold COPY keys by content: a fresh checkout hits, an edit misses with the new bytes', async (t) => {
  const root = await apiStoreWithBusybox();
  // big.bin alone is enough unknown bytes to stage the COPY before its key (a cold build).
  const bigText = (fill: string): string => fill.repeat(STAGE_FIRST_MIN_BYTES / fill.length + 1);
  const files = { Dockerfile: 'FROM busybox:latest\nCOPY . /ctx/\n', 'a.txt': 'alpha\n', 'sub/b.txt': 'beta\n'.repeat(1000), 'sub/big.bin': bigText('beta\n') };
  const ctx = tempDir('read-once');
  writeFiles(ctx, files);
  const first = await build(root, ctx);
  t.deepEqual(first.cached, [false]);
  t.is(first.files.get('ctx/sub/b.txt'), files['sub/b.txt']);
  t.is(first.files.get('ctx/sub/big.bin'), sha256(files['sub/big.bin']));
  // The copy recorded the digests: one shard per folder (ctx and ctx/sub), and a rebuild hits.
  t.is(shards(root), 2);
  t.deepEqual((await build(root, ctx)).cached, [true]);

  // The same files elsewhere (new inodes, the stat cache knows none): staged first, then a hit.
  const checkout = tempDir('read-once-checkout');
  writeFiles(checkout, files);
  const again = await build(root, checkout);
  t.deepEqual(again.cached, [true]);
  t.deepEqual(again.layers, first.layers);

  // Most of the bytes changed: staged first, a miss, and the layer has the new content.
  fs.writeFileSync(path.join(checkout, 'sub/big.bin'), bigText('gamma\n'));
  const edited = await build(root, checkout);
  t.deepEqual(edited.cached, [false]);
  t.is(edited.files.get('ctx/sub/big.bin'), sha256(bigText('gamma\n')));
  t.is(edited.files.get('ctx/a.txt'), 'alpha\n');

  // A touched file: hashed first, a hit.
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(path.join(checkout, 'sub/b.txt'), later, later);
  t.deepEqual((await build(root, checkout)).cached, [true]);

  // One small file changed (few unknown bytes): hashed, not staged first; a miss with its bytes.
  fs.writeFileSync(path.join(checkout, 'a.txt'), 'ALPHA\n');
  const small = await build(root, checkout);
  t.deepEqual(small.cached, [false]);
  t.is(small.files.get('ctx/a.txt'), 'ALPHA\n');
  t.deepEqual((await build(root, checkout)).cached, [true]);
});

test('a stat cache that cannot be written is a warning: the build succeeds and stores its image', async (t) => {
  const root = await apiStoreWithBusybox();
  // A file where the stat cache's folder goes: every write into it fails, whoever runs the build.
  fs.writeFileSync(path.join(root, 'context-stat'), 'in the way\n');
  const ctx = tempDir('read-once-ctx');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nCOPY a /a\n', a: 'one\n' });
  const events: BuildEvent[] = [];
  const r = await apiBuild(root, ctx, ['-t', 'stat-cache-unwritable:1'], { onEvent: (e) => events.push(e) });
  t.is(r.code, 0, r.stderr);
  const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
  t.true(warnings.some((m) => /^the context stat cache was not saved \(.*context-stat.*\); the next build hashes its files again$/.test(m)), warnings.join('\n'));
  t.truthy(r.result?.names.includes('docker.io/library/stat-cache-unwritable:1'));
  t.is(fs.readFileSync(path.join(root, 'context-stat'), 'utf8'), 'in the way\n');
});
