// package.json "install": dist/install.mjs (src/install.ts) decides between the prebuilt platform
// package and a build from source. A source checkout that has not been built yet (npm ci runs
// "install" before "prepare") has no dist/: it builds from source.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const script = new URL('../dist/install.mjs', import.meta.url);
if (existsSync(script)) {
  await import(script.href);
} else {
  process.stdout.write('nbuild: source checkout; building the native code with node-gyp\n');
  process.exit(spawnSync('node-gyp', ['rebuild', '-j', 'max'], { stdio: 'inherit' }).status ?? 1);
}
