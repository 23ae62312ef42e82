// Starts the CLI. First the small bundle dist/without-parser.cjs (src/cli/without-parser.ts): a
// command given as its bare name that takes no options (`nbuild version`) runs there, without
// reading the CLI bundle or loading yargs. Everything else runs the CLI bundle, dist/nbuild.cjs
// (scripts/bundle.mjs), with V8's code cache for it, so Node deserializes the compiled code
// instead of parsing and compiling ~700 KB on every command (docs/decisions.md, "Start-up:
// CommonJS bundle with a code cache" and "Start-up: commands without options skip the parser").
// bin/nbuild runs this.
// The cache, dist/nbuild.cjs.cache, is made on this machine by this Node: by scripts/bundle.mjs
// and by the install step (src/install.ts), never shipped. It starts with a key line (the bundle's
// size and mtime): V8 itself rejects a cache from another Node or other V8 flags, but checks only
// the length of the source. Without a usable cache the bundle is compiled as usual.
// NBUILD_CODE_CACHE_WRITE=1 (the build and install steps, with no arguments): run WARM_UP through
// the CLI bundle and write the cache when it ends, so the cache holds what that command compiled.
'use strict';
const path = require('node:path');

// `version` through yargs: main(), yargs and the command list, the path every command but the bare
// parser-free ones takes to its handler. (A cache made by `--help`, which also compiles every
// command module's top level, is 37% larger, cost ~6 ms more here and gained a no-op build nothing
// measurable: docs/decisions.md.)
const WARM_UP = ['--log-level', 'info', 'version'];

const write = process.env.NBUILD_CODE_CACHE_WRITE === '1';
delete process.env.NBUILD_CODE_CACHE_WRITE;
if (write) process.argv.splice(2, Infinity, ...WARM_UP);
const dist = path.join(__dirname, '..', 'dist');
// Only a one-word command line can run without the parser: others do not even read that file.
const args = process.argv.slice(2);
if (write || args.length !== 1 || !require(path.join(dist, 'without-parser.cjs')).runWithoutParser(args)) runCli();

function runCli() {
  const { readFileSync, statSync, writeFileSync, renameSync } = require('node:fs');
  const { createRequire, wrap } = require('node:module');
  const vm = require('node:vm');
  const file = path.join(dist, 'nbuild.cjs');
  const cacheFile = `${file}.cache`;
  const source = readFileSync(file, 'utf8');
  const st = statSync(file);
  const key = Buffer.from(`nbuild-code-cache ${st.size} ${st.mtimeMs}\n`);
  let cachedData;
  try {
    const c = readFileSync(cacheFile);
    if (c.length > key.length && c.subarray(0, key.length).equals(key)) cachedData = c.subarray(key.length);
  } catch {
    // no cache: compile
  }
  const script = new vm.Script(wrap(source), { filename: file, cachedData });
  if (write) {
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
