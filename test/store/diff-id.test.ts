// load's diff_id check: the layer engine decodes gzip, zstd and plain blobs (what zstd-napi and
// node's zlib did before) and the blob must be what its media type says.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD } from '../../src/image/media-types.js';
import { layerDigests, writeLayer, type Compression } from '../../src/native/index.js';
import { computeDiffId } from '../../src/store/diff-id.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-diffid-'));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));
const src = path.join(dir, 'src');
fs.mkdirSync(path.join(src, 'etc'), { recursive: true });
fs.writeFileSync(path.join(src, 'etc', 'motd'), 'hello\n'.repeat(50000));

const types: Record<Compression, string> = { gzip: OCI_LAYER_GZIP, zstd: OCI_LAYER_ZSTD, none: OCI_LAYER };

for (const compression of ['gzip', 'zstd', 'none'] as Compression[]) {
  test(`the diff_id of a ${compression} blob; a blob of another type is refused`, async (t) => {
    const blob = path.join(dir, `${compression}.layer`);
    const w = await writeLayer({ sourceDir: src, outputPath: blob, mode: 'plain', compression });
    const d = await layerDigests(blob);
    t.like(d, { digest: w.digest, diffId: w.diffId, size: w.size, uncompressedSize: w.uncompressedSize, compression });
    t.is((await computeDiffId(blob, types[compression])).toString(), w.diffId);
    const other = compression === 'gzip' ? 'zstd' : 'gzip';
    const err = await t.throwsAsync(computeDiffId(blob, types[other]));
    t.regex(err.message, new RegExp(`^the blob is ${compression === 'none' ? 'an uncompressed tar' : `${compression}-compressed`}, the media type says ${other}-compressed$`));
  });
}

test('a foreign single-stream gzip and a truncated zstd blob', async (t) => {
  const plain = path.join(dir, 'plain.tar');
  const w = await writeLayer({ sourceDir: src, outputPath: plain, mode: 'plain', compression: 'none' });
  const gz = path.join(dir, 'foreign.tar.gz');
  fs.writeFileSync(gz, execFileSync('gzip', ['-c', '-9', plain], { maxBuffer: 1 << 28 }));
  t.is((await computeDiffId(gz, OCI_LAYER_GZIP)).toString(), w.diffId);
  const zst = path.join(dir, 'z.layer');
  await writeLayer({ sourceDir: src, outputPath: zst, mode: 'plain', compression: 'zstd' });
  fs.truncateSync(zst, fs.statSync(zst).size - 10);
  await t.throwsAsync(computeDiffId(zst, OCI_LAYER_ZSTD), { message: /zstd/ });
});
