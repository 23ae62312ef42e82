// Bundles the CLI (tsc's output in dist/src) into one ES module, dist/nbuild.mjs, which
// bin/nbuild prefers: Node then reads and compiles one file instead of resolving and loading
// ~150 modules one by one (~100 ms of every command's start-up; docs/decisions.md).
// It also bundles npm's install step (dist/install.mjs, src/install.ts) and, with --sea, the
// single executable's main script as CommonJS (dist/sea/nbuild.cjs, src/cli/sea-main.ts; Node's
// single-executable applications run a CommonJS script: scripts/build-sea.mjs).
// Usage: node scripts/bundle.mjs [--sea]  (after tsc; npm run build:ts does both)
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Two yargs costs every command paid for help it never printed (~60 ms of a ~250 ms build):
// - string-width (two copies) compiles Unicode-property regexes and an Intl.Segmenter when it is
//   loaded. Its body now runs on the first string that is not printable ASCII; printable ASCII
//   (all of nbuild's help) is as wide as it is long, string-width 8's own fast path.
// - yargs renders the help of every named command after starting its handler, so that help
//   could be shown after the command's state is gone; nbuild never shows help after a handler
//   ran (errors print one line: src/cli/main.ts), so the render is skipped.
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

const startupPatches = {
  name: 'nbuild-startup-patches',
  setup(b) {
    b.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, async (args) => ({
      contents: lazyStringWidth(args.path, await readFile(args.path, 'utf8')),
      loader: 'js',
    }));
    b.onLoad({ filter: /[\\/]yargs[\\/]build[\\/]lib[\\/]usage\.js$/ }, async (args) => ({
      contents: patch(args.path, await readFile(args.path, 'utf8'), 'cachedHelpMessage = this.help();', '/* nbuild: help not pre-rendered (scripts/bundle.mjs) */'),
      loader: 'js',
    }));
  },
};

const common = { bundle: true, platform: 'node', target: 'node20', legalComments: 'inline', logLevel: 'warning' };
// CommonJS dependencies bundled into an ES module still call require() for node's built-ins.
const esmRequire = "import { createRequire as nbuildCreateRequire } from 'node:module'; const require = nbuildCreateRequire(import.meta.url);";

await build({
  ...common,
  entryPoints: [path.join(root, 'dist/src/cli/entry.js')],
  outfile: path.join(root, 'dist/nbuild.mjs'),
  format: 'esm',
  banner: { js: esmRequire },
  plugins: [startupPatches],
  sourcemap: 'linked',
});

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
  });
}
