// The main script of nbuild's single executable (Node's single-executable application:
// scripts/build-sea.mjs puts Node, this CLI bundled as CommonJS and the addon into one file,
// shipped with the helper nbuild-sandbox next to it). It plays bin/nbuild's part first: unless
// already started by the launcher, it hands the command to `nbuild-sandbox launch --sea`, which
// enters the user namespace when the command needs one and starts this executable again (Node
// cannot exec). The second start writes the embedded addon out next to the executable (or to
// the user's cache folder when that one is read-only), where process.dlopen can load it.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { constants, homedir } from 'node:os';
import path from 'node:path';
import { getRawAsset } from 'node:sea';
import { setSelfContained } from '../package-root.js';

// Set by scripts/bundle.mjs (esbuild define) from package.json.
declare const NBUILD_SEA_VERSION: string;

const LAUNCHED = 'NBUILD_SEA_LAUNCHED';
const dir = path.dirname(process.execPath);
const helper = path.join(dir, 'nbuild-sandbox');
const args = process.argv.slice(2); // [executable, argv0, …arguments]

function handOver(): void {
  const child = spawn(helper, ['launch', '--sea', process.execPath, ...args], {
    stdio: 'inherit',
    env: { ...process.env, [LAUNCHED]: '1' },
  });
  // Ctrl-C reaches the whole foreground process group (the launcher relays what others send):
  // this process only waits. A kill aimed at it goes on to the launcher.
  process.on('SIGINT', () => {});
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  child.on('error', (e) => {
    process.stderr.write(`nbuild: cannot start ${helper}: ${e.message} (it must be next to ${process.execPath})\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1)));
}

/** The embedded addon as a file: content-addressed, written once (temp file + rename). */
function addonFile(): string {
  const bytes = new Uint8Array(getRawAsset('nbuild_native.node') as ArrayBuffer); // no copy
  const hash = createHash('sha256').update(bytes).digest('hex');
  const name = `.nbuild_native-${hash.slice(0, 16)}.node`;
  const cache = path.join(process.env['XDG_CACHE_HOME'] || path.join(homedir(), '.cache'), 'nbuild');
  const failures: string[] = [];
  for (const d of [dir, cache]) {
    const file = path.join(d, name);
    try {
      if (createHash('sha256').update(readFileSync(file)).digest('hex') === hash) return file;
    } catch {
      // not written yet
    }
    try {
      mkdirSync(d, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes, { mode: 0o755 });
      renameSync(tmp, file);
      return file;
    } catch (e) {
      failures.push(`${d}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  process.stderr.write(`nbuild: cannot write the layer engine next to the executable or in the cache (${failures.join('; ')})\n`);
  process.exit(1);
}

const started = process.env[LAUNCHED] === '1' || process.env['NBUILD_USERNS'] === '1' || process.geteuid?.() === 0;
if (!started) {
  handOver();
} else {
  delete process.env[LAUNCHED];
  setSelfContained({ version: NBUILD_SEA_VERSION, addon: addonFile(), helper });
  void import('./main.js').then(({ main }) => main(args));
}
