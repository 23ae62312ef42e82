// recompressLayer: a layer blob re-encoded (force-compression=true) keeps its tar byte for byte.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { layerDigests, recompressLayer, writeLayer, type Compression } from '../../src/native/index.js';
import { tempDir } from './helpers.js';

const src = tempDir('rc-src');
fs.writeFileSync(path.join(src, 'random.bin'), randomBytes(3 << 20)); // several 1 MiB chunks
fs.writeFileSync(path.join(src, 'text'), 'hello\n'.repeat(100_000));
const work = tempDir('rc-out');

const sha = (file: string, decode: string[]): string => `sha256:${createHash('sha256').update(execFileSync(decode[0], [...decode.slice(1), file], { maxBuffer: 1 << 26 })).digest('hex')}`;
const DECODE: Record<Compression, string[]> = { gzip: ['gzip', '-dc'], zstd: ['zstd', '-dcq'], none: ['cat'] };

for (const from of ['gzip', 'zstd', 'none'] as const) {
  for (const to of ['gzip', 'zstd', 'none'] as const) {
    test(`${from} → ${to}: same diff_id, a valid ${to} blob`, async (t) => {
      const input = path.join(work, `${from}-${to}.in`);
      const made = await writeLayer({ sourceDir: src, outputPath: input, mode: 'plain', compression: from, gzipEngine: 'libdeflate' });
      const output = path.join(work, `${from}-${to}.out`);
      const r = await recompressLayer({ inputPath: input, outputPath: output, compression: to, level: to === 'zstd' ? 1 : undefined });
      t.is(r.diffId, made.diffId);
      t.is(r.uncompressedSize, made.uncompressedSize);
      t.is(r.size, fs.statSync(output).size);
      t.is(r.digest, `sha256:${createHash('sha256').update(fs.readFileSync(output)).digest('hex')}`);
      t.is(sha(output, DECODE[to]), made.diffId);
      t.is((await layerDigests(output)).compression, to);
    });
  }
}

test('a corrupt blob: an error, and no output file left', async (t) => {
  const input = path.join(work, 'bad.in');
  await writeLayer({ sourceDir: src, outputPath: input, mode: 'plain', compression: 'gzip' });
  const bytes = fs.readFileSync(input);
  bytes[bytes.length >> 1] ^= 0xff;
  fs.writeFileSync(input, bytes);
  const output = path.join(work, 'bad.out');
  await t.throwsAsync(recompressLayer({ inputPath: input, outputPath: output, compression: 'zstd' }));
  t.false(fs.existsSync(output));
});
