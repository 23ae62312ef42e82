// Many small extractions at once: the extractor's threads and hooks must be gone before a call
// returns (a wait hook that outlived its extractor crashed or hung one extraction in a few
// hundred under load: use after free, found by CI).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { extractLayer } from '../../src/native/index.js';
import { buildTar } from '../helpers/hostile-archives.js';
import { tempDir } from './helpers.js';

test('2,000 extractions of a two-file layer, four at a time, all complete and verify', async (t) => {
  const tar = buildTar([
    { name: 'a', data: 'a\n' },
    { name: 'b', data: 'b\n' },
  ]);
  const dir = tempDir('extract-stress');
  const blob = path.join(dir, 'layer.tar.gz');
  fs.writeFileSync(blob, zlib.gzipSync(tar));
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  let n = 0;
  for (let i = 0; i < 500; i++) {
    await Promise.all(
      [0, 1, 2, 3].map(async (k) => {
        const dest = path.join(dir, `out-${i}-${k}`);
        const r = await extractLayer({ inputPath: blob, destDir: dest, whiteouts: 'apply', ignoreChownErrors: true, expectedDiffId: diffId });
        if (r.diffId === diffId && fs.readFileSync(path.join(dest, 'b'), 'utf8') === 'b\n') n++;
        fs.rmSync(dest, { recursive: true, force: true });
      }),
    );
  }
  t.is(n, 2000);
  fs.rmSync(dir, { recursive: true, force: true });
});
