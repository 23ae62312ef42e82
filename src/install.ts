// npm's install step for nbuild (package.json "install": scripts/install.mjs runs this, bundled as
// dist/install.mjs). With the host's platform package installed (@nbuild/linux-x64 or -arm64, an
// optional dependency npm picks by os/cpu/libc) there is nothing to build. Without one (another
// libc, --omit=optional, an install that could not fetch it) the addon and the helper are
// compiled from the package's sources with node-gyp, as before prebuilt packages existed.
import { spawnSync } from 'node:child_process';
import { findPrebuilt, platformPackage } from './native/location.js';
import { nbuildVersion, packageRoot } from './package-root.js';

const root = packageRoot();
const prebuilt = findPrebuilt(root);
const version = nbuildVersion();
if (prebuilt && prebuilt.version === version) {
  process.stdout.write(`nbuild: using the prebuilt ${prebuilt.name} ${prebuilt.version}; nothing to compile\n`);
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
process.exit(r.status ?? 1);
