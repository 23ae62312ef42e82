// npm's install step for nbuild (package.json "install": scripts/install.mjs runs this, bundled as
// dist/install.mjs). With the host's platform package installed (@nbuild/linux-x64 or -arm64, an
// optional dependency npm picks by os/cpu/libc) there is nothing to build. Without one (another
// libc, --omit=optional, an install that could not fetch it) the addon and the helper are
// compiled from the package's sources with node-gyp, as before prebuilt packages existed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { findPrebuilt, platformPackage } from './native/location.js';
import { nbuildVersion, packageRoot } from './package-root.js';

const root = packageRoot();

/**
 * V8's code cache for the CLI bundle, made here by the Node that will run it (bin/start.cjs
 * writes it when NBUILD_CODE_CACHE_WRITE=1; the package never ships one). Without it every
 * command compiles the bundle: slower, nothing else.
 */
function writeCodeCache(): void {
  const start = path.join(root, 'bin', 'start.cjs');
  if (!existsSync(path.join(root, 'dist', 'nbuild.cjs'))) return;
  // No arguments: start.cjs runs its own warm-up command.
  const r = spawnSync(process.execPath, [start], {
    env: { ...process.env, NBUILD_CODE_CACHE_WRITE: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) process.stdout.write(`nbuild: no code cache for the CLI (each command compiles it): ${String(r.stderr).trim().split('\n')[0] ?? ''}\n`);
}

const prebuilt = findPrebuilt(root);
const version = nbuildVersion();
if (prebuilt && prebuilt.version === version) {
  process.stdout.write(`nbuild: using the prebuilt ${prebuilt.name} ${prebuilt.version}; nothing to compile\n`);
  writeCodeCache();
  process.exit(0);
}
const why = prebuilt
  ? `${prebuilt.name} is ${prebuilt.version}, not ${version}`
  : `${platformPackage()} is not installed`;
process.stdout.write(
  `nbuild: no prebuilt binaries for ${process.platform}-${process.arch} (${why}); ` +
    'building them from source with node-gyp (needs make, a C++17 compiler and libdeflate-dev)\n',
);
// npm puts its own node-gyp on PATH for install scripts.
const r = spawnSync('node-gyp', ['rebuild', '-j', 'max'], { cwd: root, stdio: 'inherit' });
if (r.status === 0) writeCodeCache();
process.exit(r.status ?? 1);
