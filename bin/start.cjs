// Starts the CLI. First the small bundle dist/without-parser.cjs (src/cli/without-parser.ts): a
// command given as its bare name that takes no options (`nbuild version`) runs there, without
// reading the CLI bundle or loading yargs. Everything else runs the CLI bundle, dist/nbuild.cjs
// (scripts/bundle.mjs), with V8's code cache for it, so Node deserializes the compiled code
// instead of parsing and compiling ~700 KB on every command (docs/decisions.md, "Start-up:
// CommonJS bundle with a code cache" and "Start-up: commands without options skip the parser").
// bin/nbuild runs this.
// Two caches, made on this machine by this Node: by scripts/bundle.mjs and by the install step
// (src/install.ts), never shipped. dist/nbuild.cjs.cache holds what `version` through yargs
// compiles, and serves every command; dist/nbuild.cjs.build.cache holds what a fully cached
// rebuild compiles (the parser, linter, planner, store and executor as well), and serves a build's
// command line, which would otherwise compile them on every run (docs/decisions.md, "Start-up: a
// code cache for builds"). Each starts with a key line (the bundle's size and mtime): V8 itself
// rejects a cache from another Node or other V8 flags, but checks only the length of the source.
// Without a usable cache the bundle is compiled as usual.
// NBUILD_CODE_CACHE_WRITE=1 (the build and install steps, with no arguments): write both. The
// build cache comes from three builds of a small image in a temporary store (writeBuildCache);
// then this process runs WARM_UP through the CLI bundle and writes the other cache when it ends,
// so each cache holds what its command compiled.
'use strict';
const path = require('node:path');

// `version` through yargs: main(), yargs and the command list, the path every command but the bare
// parser-free ones takes to its handler. (A cache made by `--help`, which also compiles every
// command module's top level, is 37% larger, cost ~6 ms more here and gained a no-op build nothing
// measurable: docs/decisions.md.)
const WARM_UP = ['--log-level', 'info', 'version'];

// '1': both caches (above); 'build': this process is writeBuildCache's last build.
const writing = process.env.NBUILD_CODE_CACHE_WRITE;
delete process.env.NBUILD_CODE_CACHE_WRITE;
const dist = path.join(__dirname, '..', 'dist');
const file = path.join(dist, 'nbuild.cjs');
if (writing === '1') {
  writeBuildCache();
  process.argv.splice(2, Infinity, ...WARM_UP);
}
// Only a one-word command line can run without the parser: others do not even read that file.
const args = process.argv.slice(2);
// A wrong guess costs time only: both caches are of the same bundle.
const build = writing === 'build' || (writing === undefined && args.includes('build'));
if (writing || args.length !== 1 || !require(path.join(dist, 'without-parser.cjs')).runWithoutParser(args)) runCli();

function runCli() {
  const { readFileSync, statSync, writeFileSync, renameSync } = require('node:fs');
  const { createRequire } = require('node:module');
  const vm = require('node:vm');
  const mapFile = addonMapFile();
  // The bundle is its own module wrapper, `(function (exports, require, ...) {...})` (scripts/bundle.mjs):
  // wrapping it here would copy the mapped string into a new one.
  const source = (mapFile && mapFile(file, true)) ?? readFileSync(file, 'latin1');
  const st = statSync(file);
  const key = Buffer.from(`nbuild-code-cache ${st.size} ${st.mtimeMs}\n`);
  const cached = (f) => {
    try {
      const c = mapFile ? mapFile(f) : readFileSync(f);
      if (c.length > key.length && c.subarray(0, key.length).equals(key)) return c.subarray(key.length);
    } catch {
      // none
    }
    return undefined;
  };
  const cacheFile = build ? `${file}.build.cache` : `${file}.cache`;
  // Without a build cache (an install whose warm-up builds failed), a build takes the other one.
  const cachedData = writing ? undefined : (cached(cacheFile) ?? (build ? cached(`${file}.cache`) : undefined));
  const script = new vm.Script(source, { filename: file, cachedData });
  if (writing) {
    // After the command ran, so the cache holds the functions it compiled on the way.
    process.once('exit', () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, Buffer.concat([key, script.createCachedData()]));
      renameSync(tmp, cacheFile);
    });
  }
  const module_ = { exports: {} };
  script.runInThisContext()(module_.exports, createRequire(file), module_, file, path.dirname(file));
}

// The addon's mapFile (native/addon/mapped_file.cc): the bundle and its code cache mapped instead
// of read, ~10 ms less per command (docs/decisions.md, "Start-up: the CLI bundle and its code cache
// mapped, not read"). The addon from where src/native/location.ts takes it (build/Release, else the
// platform package); loaded here, the layer engine's own dlopen of it later finds the library
// loaded. Without it (a checkout not built yet), the files are read.
function addonMapFile() {
  const { existsSync } = require('node:fs');
  let addon = path.join(__dirname, '..', 'build', 'Release', 'nbuild_native.node');
  if (!existsSync(addon)) {
    try {
      const manifest = require.resolve(`@nbuild/${process.platform}-${process.arch}/package.json`, { paths: [path.join(__dirname, '..')] });
      addon = path.join(path.dirname(manifest), 'nbuild_native.node');
    } catch {
      return undefined;
    }
  }
  try {
    const module_ = { exports: {} };
    process.dlopen(module_, addon);
    return typeof module_.exports.mapFile === 'function' ? module_.exports.mapFile : undefined;
  } catch {
    return undefined;
  }
}

// The build cache: a small image built in a temporary store, cold, then the same build again with
// every step cached, whose process (NBUILD_CODE_CACHE_WRITE=build) writes the cache as it exits.
// Through bin/nbuild, so the builds run where a user's do (its launcher's user namespace). Where a
// build cannot run here (no user namespace for this user), there is no build cache: builds then
// start from the other one.
function writeBuildCache() {
  const { mkdtempSync, writeFileSync, rmSync } = require('node:fs');
  const { spawnSync } = require('node:child_process');
  const os = require('node:os');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nbuild-code-cache-'));
  try {
    writeFileSync(path.join(dir, 'a.txt'), 'warm-up\n');
    writeFileSync(path.join(dir, 'base.Dockerfile'), 'FROM scratch\nCOPY a.txt /\n');
    writeFileSync(path.join(dir, 'Dockerfile'), 'ARG W=1\nFROM nbuild-warm-up-base\nENV W=$W\nWORKDIR /w\nCOPY a.txt ./\nLABEL w=1\nCMD ["/w/a.txt"]\n');
    const run = (args, env = {}) =>
      spawnSync(path.join(__dirname, 'nbuild'), ['--root', path.join(dir, 'store'), 'build', '--progress', 'plain', ...args, dir], {
        env: { ...process.env, ...env },
        stdio: 'ignore',
        timeout: 120_000, // an install must not wait on a build that cannot finish (an emulated one, say)
      }).status === 0;
    const made =
      run(['-f', path.join(dir, 'base.Dockerfile'), '-t', 'nbuild-warm-up-base']) &&
      run(['-t', 'nbuild-warm-up']) &&
      run(['-t', 'nbuild-warm-up'], { NBUILD_CODE_CACHE_WRITE: 'build' });
    // A stale one would be skipped by its key anyway; where dist/ is not writable, none was made.
    if (!made) {
      try {
        rmSync(`${file}.build.cache`, { force: true });
      } catch {
        // not ours to remove
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
