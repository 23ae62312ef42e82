// Starts the CLI bundle, dist/nbuild.cjs (scripts/bundle.mjs), with V8's code cache for it, so
// Node deserializes the compiled code instead of parsing and compiling ~850 KB on every command
// (docs/decisions.md, "Start-up: CommonJS bundle with a code cache"). bin/nbuild runs this.
// The cache, dist/nbuild.cjs.cache, is made on this machine by this Node: by scripts/bundle.mjs
// and by the install step (src/install.ts), never shipped. It starts with a key line (the bundle's
// size and mtime): V8 itself rejects a cache from another Node or other V8 flags, but checks only
// the length of the source. Without a usable cache the bundle is compiled as usual.
// NBUILD_CODE_CACHE_WRITE=1 (the build and install steps): write the cache when the command ends.
'use strict';
const { readFileSync, statSync, writeFileSync, renameSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const file = path.join(__dirname, '..', 'dist', 'nbuild.cjs');
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
const write = process.env.NBUILD_CODE_CACHE_WRITE === '1';
delete process.env.NBUILD_CODE_CACHE_WRITE;
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
