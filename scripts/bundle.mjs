// Bundles the CLI (tsc's output in dist/src) into one CommonJS file, dist/nbuild.cjs, and writes
// V8's code cache for it (dist/nbuild.cjs.cache); bin/nbuild prefers it (through bin/start.cjs):
// Node then reads one file and deserializes its compiled code instead of resolving and loading
// ~150 modules one by one (~100 ms of every command's start-up; docs/decisions.md).
// It also bundles npm's install step (dist/install.mjs, src/install.ts) and, with --sea, the
// single executable's main script as CommonJS (dist/sea/nbuild.cjs, src/cli/sea-main.ts; Node's
// single-executable applications run a CommonJS script: scripts/build-sea.mjs).
// Usage: node scripts/bundle.mjs [--sea]  (after tsc; npm run build:ts does both)
import { build } from 'esbuild';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { builtinModules, createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Four yargs costs every command paid for help it never printed (~60 ms of a ~250 ms build) or
// for checks that pass:
// - string-width (two copies) compiles Unicode-property regexes and an Intl.Segmenter when it is
//   loaded. Its body now runs on the first string that is not printable ASCII; printable ASCII
//   (all of nbuild's help) is as wide as it is long, string-width 8's own fast path.
// - yargs renders the help of every named command after starting its handler, so that help
//   could be shown after the command's state is gone; nbuild never shows help after a handler
//   ran (errors print one line: src/cli/main.ts), so the render is skipped.
// - yargs guesses a version for its own --version (off in nbuild) from the first package.json
//   above the working folder: a readdir of every folder up to / and, without one, a failed
//   assertion. The guess is now 'unknown' without a search.
// - yargs' platform shim imports node:assert for two checks; loading it loads node:stream and
//   creates the stderr stream (~10 ms). The checks now load it only to fail.
// Each patch checks the text it replaces, so a dependency update fails the bundle instead of
// silently dropping the patch.
function patch(file, text, from, to) {
  if (!text.includes(from)) throw new Error(`${file}: expected text not found; update scripts/bundle.mjs`);
  return text.replace(from, to);
}

function lazyStringWidth(file, text) {
  const lines = text.split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const body = lines.filter((l) => !l.startsWith('import ')).join('\n');
  return `${imports.join('\n')}
let nbuildImpl;
function nbuildLoad() {
${patch(file, body, 'export default function stringWidth(', 'nbuildImpl = function stringWidth(')}
}
export default function stringWidth(string, options) {
  if (typeof string === 'string' && /^[\\u0020-\\u007E]*$/.test(string)) return string.length;
  if (!nbuildImpl) nbuildLoad();
  return nbuildImpl(string, options);
}
`;
}

// yargs' two assertions (which hold on every valid call) load node:assert only to fail.
const lazyAssert = `import { createRequire as nbuildAssertRequire } from 'node:module';
const nbuildAssert = () => nbuildAssertRequire(import.meta.url)('node:assert');
const notStrictEqual = (a, b, message) => { if (Object.is(a, b)) nbuildAssert().notStrictEqual(a, b, message); };
const strictEqual = (a, b, message) => { if (!Object.is(a, b)) nbuildAssert().strictEqual(a, b, message); };`;

const startupPatches = {
  name: 'nbuild-startup-patches',
  setup(b) {
    b.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, async (args) => ({
      contents: lazyStringWidth(args.path, await readFile(args.path, 'utf8')),
      loader: 'js',
    }));
    b.onLoad({ filter: /[\\/]yargs[\\/]build[\\/]lib[\\/]yargs-factory\.js$/ }, async (args) => ({
      contents: patch(args.path, await readFile(args.path, 'utf8'), "const obj = this[kPkgUp]();\n        return obj.version || 'unknown';",
        "return 'unknown'; /* nbuild: no package.json search for a --version nbuild turns off (scripts/bundle.mjs) */"),
      loader: 'js',
    }));
    b.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => ({
      contents: patch(args.path, await readFile(args.path, 'utf8'), "import { notStrictEqual, strictEqual } from 'assert'", lazyAssert),
      loader: 'js',
    }));
    b.onLoad({ filter: /[\\/]yargs[\\/]build[\\/]lib[\\/]usage\.js$/ }, async (args) => ({
      contents: patch(args.path, await readFile(args.path, 'utf8'), 'cachedHelpMessage = this.help();', '/* nbuild: help not pre-rendered (scripts/bundle.mjs) */'),
      loader: 'js',
    }));
  },
};

// Node's built-ins through require(), not import: importing one from an ES module builds its ESM
// facade, which reads every export, and the getters behind some of them load more modules (node:fs's
// ReadStream loads all of node:stream, ~5-20 ms of `nbuild version`). As a CommonJS module the
// bundle reads an export only where the code uses it.
// Each built-in is one small ES module of the bundle that re-exports, by name, the keys of an
// object of getters (below): as a CommonJS module instead (`module.exports = require(…)`), every
// `import fs from` / `import * as fs from` of it made its own copy of all the keys (esbuild's
// __toESM: 183 copies of ~50 keys each, ~20-40 ms of a no-op build; docs/decisions.md).
// A function's own length, name and prototype are not exports.
const lazyKeys = (name) => {
  const exported = requireHere(`node:${name}`);
  const own = typeof exported === 'function' ? new Set(Object.getOwnPropertyNames(() => undefined).concat('prototype')) : new Set();
  return Object.getOwnPropertyNames(exported).filter((k) => k !== 'default' && !own.has(k));
};
const builtinsByRequire = {
  name: 'nbuild-builtins-by-require',
  setup(b) {
    const names = new Set(builtinModules);
    b.onResolve({ filter: /^[a-z_/:]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!names.has(name) || args.namespace === 'nbuild-builtin' || args.namespace === 'nbuild-lazy' || args.namespace === 'nbuild-eager') return undefined;
      return { path: name, namespace: 'nbuild-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'nbuild-builtin' }, (args) => {
      // Its keys named (not `export *`): esbuild then reads them off the object below where they are
      // used, instead of copying every key into a namespace object first.
      const keys = lazyKeys(args.path).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k));
      // A class or function (node:events, node:module, node:stream, …) as a default import is itself,
      // loaded with the importer; its named exports are read on first use like any other built-in's
      // (`import { Transform } from 'node:stream'` loads node:stream where a Transform is made, not
      // at start: ~5 ms of a no-op build). The eager module is side-effect free, so esbuild leaves
      // it out where nothing imports the default.
      const defaultFrom = typeof requireHere(`node:${args.path}`) === 'function' ? 'nbuild-eager' : 'nbuild-lazy';
      return { contents: `export { ${keys.join(', ')} } from 'nbuild-lazy:${args.path}'; export { default } from '${defaultFrom}:${args.path}';`, loader: 'js' };
    });
    b.onResolve({ filter: /^nbuild-lazy:/ }, (args) => ({ path: args.path.slice('nbuild-lazy:'.length), namespace: 'nbuild-lazy' }));
    b.onResolve({ filter: /^nbuild-eager:/ }, (args) => ({ path: args.path.slice('nbuild-eager:'.length), namespace: 'nbuild-eager', sideEffects: false }));
    b.onLoad({ filter: /.*/, namespace: 'nbuild-eager' }, (args) => ({ contents: `module.exports = require('node:${args.path}');`, loader: 'js' }));
    // An object whose prototype has a getter per key of the built-in (as this Node has them) that
    // require()s it on first use. On the prototype, not the object: esbuild's __toESM copies an
    // imported CommonJS module's own keys into a new object with the same prototype, so it copies
    // nothing here (four copies of every key of every built-in were ~3 ms and ~600 KB of a no-op
    // build; docs/decisions.md, "Start-up: the CLI bundle and its code cache mapped, not read").
    b.onLoad({ filter: /.*/, namespace: 'nbuild-lazy' }, (args) => ({
      contents: `let loaded; const load = () => (loaded ??= require('node:${args.path}'));
const getters = {};
for (const key of ${JSON.stringify(lazyKeys(args.path))}) {
  Object.defineProperty(getters, key, { get: () => load()[key], enumerable: true });
}
module.exports = Object.create(getters);`,
      loader: 'js',
    }));
  },
};

const common = { bundle: true, platform: 'node', target: 'node20', legalComments: 'inline', logLevel: 'warning' };
// CommonJS dependencies bundled into an ES module still call require() for node's built-ins.
const esmRequire = "import { createRequire as nbuildCreateRequire } from 'node:module'; const require = nbuildCreateRequire(import.meta.url);";

// The CLI as one CommonJS file, started by bin/start.cjs with V8's code cache (made below, on this
// machine, and again by the install step): CommonJS because Node 20 keeps no code cache for ES
// modules (module.enableCompileCache() is Node >= 22.1) and loads CommonJS without the ES module
// loader's work. Modules reached by dynamic import (each command, src/cli/commands.ts) are still
// evaluated only when used (docs/decisions.md, "Start-up: CommonJS bundle with a code cache").
await rm(path.join(root, 'dist/nbuild.mjs'), { force: true });
await rm(path.join(root, 'dist/nbuild.mjs.map'), { force: true });
const cli = await build({
  ...common,
  entryPoints: [path.join(root, 'dist/src/cli/entry.js')],
  outfile: path.join(root, 'dist/nbuild.cjs'),
  format: 'cjs',
  // Modules that use import.meta.url (package-root.ts; yargs' own, for its locale files) see the bundle.
  define: { 'import.meta.url': 'nbuildMetaUrl' },
  // The file is its own CommonJS module wrapper, the function Node's wrap() would make of it:
  // bin/start.cjs compiles the file as it is, mapped (not read) into an external string, which
  // wrapping there would copy (docs/decisions.md, "Start-up: the CLI bundle and its code cache
  // mapped, not read"). Run it through bin/start.cjs, not `node dist/nbuild.cjs`.
  banner: { js: "(function (exports, require, module, __filename, __dirname) {const nbuildMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  footer: { js: '\n})' },
  plugins: [startupPatches, builtinsByRequire],
  sourcemap: 'linked',
  // Less to read and hash at every start (names stay, for stack traces).
  minifyWhitespace: true,
  minifySyntax: true,
  // Written below by a rename: a running nbuild has the old file mapped, and a file rewritten in
  // place under a mapping ends that process with SIGBUS.
  write: false,
});
for (const out of cli.outputFiles) {
  const tmp = `${out.path}.${process.pid}.tmp`;
  await writeFile(tmp, out.contents);
  await rename(tmp, out.path);
}
// One character outside ASCII (esbuild escapes those in strings, not in regular expression
// literals) and the whole bundle is read into a two-byte string: twice the memory, and reading and
// compiling it were ~2x slower (docs/decisions.md, "Start-up: commands without options skip …").
async function assertAscii(file) {
  const text = await readFile(path.join(root, file), 'latin1');
  const at = text.search(/[^\x00-\x7f]/);
  if (at >= 0) throw new Error(`${file}: a non-ASCII character near ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}; write it as an escape in the source`);
}
await assertAscii('dist/nbuild.cjs');

// The commands that run without the parser, as their own small file: bin/start.cjs runs it first
// and reads the CLI bundle only when it declines (docs/decisions.md, "Start-up: commands without
// options skip the parser").
await build({
  ...common,
  entryPoints: [path.join(root, 'dist/src/cli/without-parser.js')],
  outfile: path.join(root, 'dist/without-parser.cjs'),
  format: 'cjs',
  define: { 'import.meta.url': 'nbuildMetaUrl' },
  banner: { js: "const nbuildMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [builtinsByRequire],
  minifyWhitespace: true,
  minifySyntax: true,
});
// bin/start.cjs with NBUILD_CODE_CACHE_WRITE=1 and no arguments runs its warm-up command.
const cache = spawnSync(process.execPath, [path.join(root, 'bin/start.cjs')], {
  env: { ...process.env, NBUILD_CODE_CACHE_WRITE: '1' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (cache.status !== 0) throw new Error(`bin/start.cjs (writing the code cache) exited with ${cache.status}`);

await build({
  ...common,
  entryPoints: [path.join(root, 'dist/src/install.js')],
  outfile: path.join(root, 'dist/install.mjs'),
  format: 'esm',
  banner: { js: esmRequire },
});

if (process.argv.includes('--sea')) {
  const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  await build({
    ...common,
    entryPoints: [path.join(root, 'dist/src/cli/sea-main.js')],
    outfile: path.join(root, 'dist/sea/nbuild.cjs'),
    format: 'cjs',
    // Modules that use import.meta.url (yargs' own, for its locale files) see the executable.
    define: { 'import.meta.url': 'nbuildMetaUrl', NBUILD_SEA_VERSION: JSON.stringify(version) },
    banner: { js: "const nbuildMetaUrl = require('node:url').pathToFileURL(process.execPath).href;" },
    plugins: [startupPatches],
    // Comments out (one em dash in a comment made the executable's script a two-byte string too).
    minifyWhitespace: true,
  });
  await assertAscii('dist/sea/nbuild.cjs');
}
