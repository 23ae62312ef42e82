// Loads one build of the addon by path and writes the same small tree as layers, gzip (zlib
// and libdeflate), zstd and plain, reads each back and hashes a file; prints the digests as
// JSON. test/install/arm64.sh runs it with the x64 build under the host's node and with the
// arm64 build under an arm64 node in qemu: the digests must be the same.
// CommonJS and no dependencies: it runs under Debian's node 18 as well.
// Usage: node layer-digests.cjs ADDON WORKDIR
'use strict';
const fs = require('fs');
const path = require('path');

const [addon, work] = process.argv.slice(2);
const m = { exports: {} };
process.dlopen(m, path.resolve(addon));
const engine = m.exports;

// 1.5 MiB of compressible, deterministic bytes (two 1 MiB chunks, so two gzip members
// and zstd jobs), a small file, an empty one, a folder, a symlink and a hard link.
function bytes(n, seed) {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = 97 + ((x >>> 16) % 7) + (i % 64 === 0 ? 10 : 0);
  }
  return b;
}
const tree = path.join(work, 'tree');
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(path.join(tree, 'etc', 'app'), { recursive: true });
fs.writeFileSync(path.join(tree, 'big.bin'), bytes(3 << 19, 1));
fs.writeFileSync(path.join(tree, 'etc', 'app', 'config'), 'answer = 42\n');
fs.writeFileSync(path.join(tree, 'empty'), '');
fs.symlinkSync('app/config', path.join(tree, 'etc', 'link'));
fs.linkSync(path.join(tree, 'big.bin'), path.join(tree, 'hard.bin'));
for (const [p, mode] of [['big.bin', 0o644], ['etc/app/config', 0o600], ['empty', 0o755], ['etc', 0o755], ['etc/app', 0o700]]) {
  fs.chmodSync(path.join(tree, p), mode);
}

const kinds = [
  ['gzip-zlib', 'gzip', 'zlib', 6],
  ['gzip-libdeflate', 'gzip', 'libdeflate', 6],
  ['zstd', 'zstd', 'zlib', 3],
  ['none', 'none', 'zlib', 0],
];

(async () => {
  const out = { zstd: engine.engineInfo().zstd };
  for (const [name, compression, gzipEngine, level] of kinds) {
    const outputPath = path.join(work, `${name}.layer`);
    const w = await engine.writeLayer({
      sourceDir: tree, outputPath, mode: 'plain', compression, level, threads: 2, gzipEngine,
      exclude: [], clampMtime: 0,
    });
    const r = await engine.layerDigests(outputPath);
    if (r.digest !== w.digest || r.diffId !== w.diffId || r.compression !== compression) {
      throw new Error(`${name}: read back ${JSON.stringify(r)}, wrote ${JSON.stringify(w)}`);
    }
    out[name] = { digest: w.digest, diffId: w.diffId, size: w.size };
  }
  out.sha256 = (await engine.sha256File(path.join(tree, 'big.bin'))).digest;
  process.stdout.write(JSON.stringify(out) + '\n');
})().catch((e) => {
  process.stderr.write(`layer-digests: ${e.stack || e}\n`);
  process.exit(1);
});
