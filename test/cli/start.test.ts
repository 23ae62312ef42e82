// bin/start.cjs: a command without options (`nbuild version`) runs from the small bundle without
// reading the CLI bundle or loading yargs; every other command line reads the CLI bundle, mapped
// by the addon's mapFile where the addon is built. The files Node reads are recorded by a preload
// that wraps fs.readFileSync and the addon's mapFile (docs/decisions.md, "Start-up: commands
// without options skip the parser", "Start-up: the CLI bundle and its code cache mapped, not read").
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nbuild, projectRoot, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';

const start = path.join(projectRoot, 'bin', 'start.cjs');

function run(args: string[]): { code: number | null; stdout: string; read: string[]; mapped: string[] } {
  const dir = tempDir('start-reads');
  const log = path.join(dir, 'read.log');
  const preload = path.join(dir, 'preload.cjs');
  fs.writeFileSync(
    preload,
    `const fs = require('node:fs'); const read = fs.readFileSync; const seen = [];
     fs.readFileSync = function (file, ...rest) { seen.push('read ' + String(file)); return read.call(this, file, ...rest); };
     const dlopen = process.dlopen;
     process.dlopen = function (module, ...rest) {
       dlopen.call(this, module, ...rest);
       const map = module.exports.mapFile;
       if (map) module.exports.mapFile = function (file, ...more) { seen.push('map ' + String(file)); return map.call(this, file, ...more); };
     };
     process.on('exit', () => fs.writeFileSync(${JSON.stringify(log)}, seen.join('\\n')));`,
  );
  const r = spawnSync(process.execPath, ['--require', preload, start, ...args], { encoding: 'utf8' });
  const lines = fs.readFileSync(log, 'utf8').split('\n');
  const files = (how: string) => lines.filter((l) => l.startsWith(how)).map((l) => path.relative(projectRoot, l.slice(how.length)));
  const mapped = files('map ');
  // A file mapped counts as read (the assertions below are about what is read at all).
  return { code: r.status, stdout: r.stdout, read: [...files('read '), ...mapped], mapped };
}

test('nbuild version reads neither the CLI bundle nor yargs; the same command through yargs prints the same', (t) => {
  const bare = run(['version']);
  t.is(bare.code, 0);
  t.regex(bare.stdout, /^nbuild \d+\.\d+\.\d+.*\nnode v\d+.*\nplatform linux\/\w+\n$/);
  t.false(bare.read.includes(path.join('dist', 'nbuild.cjs')), bare.read.join(' '));
  t.false(bare.read.some((f) => f.includes('yargs')), bare.read.join(' '));
  const parsed = run(['--log-level', 'info', 'version']);
  t.is(parsed.code, 0);
  t.true(parsed.read.includes(path.join('dist', 'nbuild.cjs')), parsed.read.join(' '));
  t.is(parsed.stdout, bare.stdout);
});

// The addon's mapFile: the bundle as an external string and its code cache as a mapped buffer,
// neither copied through a read (in a source checkout with the native build, as CI has it).
test('the CLI bundle and its code cache are mapped, not read, where the addon is built', (t) => {
  t.true(fs.existsSync(path.join(projectRoot, 'build', 'Release', 'nbuild_native.node')), 'this test needs the native build');
  const r = run(['--log-level', 'info', 'version']);
  t.is(r.code, 0);
  t.deepEqual(r.mapped, [path.join('dist', 'nbuild.cjs'), path.join('dist', 'nbuild.cjs.cache')]);
});

test('an unknown word and help still go to yargs', (t) => {
  const help = run(['version', '--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /print the versions of nbuild/);
  t.true(help.read.includes(path.join('dist', 'nbuild.cjs')));
});

// Two code caches (bin/start.cjs): one a fully cached rebuild made (scripts/bundle.mjs and the
// install step build a small image three times to make it), for a build's command line; the one
// `version` made, for the others (docs/decisions.md, "Start-up: a code cache for builds").
test('a build reads the code cache a rebuild made; other commands the one version made', (t) => {
  const build = run(['build', '--help']);
  t.is(build.code, 0);
  t.true(build.read.includes(path.join('dist', 'nbuild.cjs.build.cache')), build.read.join(' '));
  t.false(build.read.includes(path.join('dist', 'nbuild.cjs.cache')), build.read.join(' '));
  const other = run(['--log-level', 'info', 'version']);
  t.true(other.read.includes(path.join('dist', 'nbuild.cjs.cache')), other.read.join(' '));
  t.false(other.read.includes(path.join('dist', 'nbuild.cjs.build.cache')), other.read.join(' '));
  // The build cache was made from the bundle as it is now (its key line: size and mtime).
  const st = fs.statSync(path.join(projectRoot, 'dist', 'nbuild.cjs'));
  const head = fs.readFileSync(path.join(projectRoot, 'dist', 'nbuild.cjs.build.cache')).subarray(0, 200).toString('latin1');
  t.true(head.startsWith(`nbuild-code-cache ${st.size} ${st.mtimeMs}\n`), head.split('\n')[0]);
});

// Node before 23 reads NODE_EXTRA_CA_CERTS when it starts (and warns there when it cannot):
// bin/nbuild hands it to the registry client, which reads it on its first TLS connection
// (src/registry/trust.ts; the connection itself: test/e2e/registry-proxy.test.ts).
test('NODE_EXTRA_CA_CERTS is not read at start-up; main() gives it back to the environment', async (t) => {
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: path.join(tempDir('extra-ca'), 'missing.pem') };
  for (const args of [['version'], ['--root', tempDir('extra-ca-store'), 'images']]) {
    const r = spawnSync(path.join(projectRoot, 'bin', 'nbuild'), args, { encoding: 'utf8', env });
    t.is(r.status, 0, r.stderr);
    t.notRegex(r.stderr, /extra certs/, args.join(' '));
  }
  const { takeDeferredCaCerts } = await import('../../src/registry/trust.js');
  const moved: NodeJS.ProcessEnv = { NBUILD_EXTRA_CA_CERTS: '/x/ca.pem' };
  takeDeferredCaCerts(moved);
  t.deepEqual(moved, { NODE_EXTRA_CA_CERTS: '/x/ca.pem' });
  const untouched: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '/y/ca.pem' };
  takeDeferredCaCerts(untouched);
  t.deepEqual(untouched, { NODE_EXTRA_CA_CERTS: '/y/ca.pem' });
});

// A fully cached rebuild loads neither node:crypto (configs and keys are hashed by the addon) nor
// node:stream (nbuild's own lines are written with write(2), src/stdio.ts): ~15 ms of each no-op
// (docs/decisions.md, "Start-up: a no-op build loads neither node:crypto nor node:stream").
// Before, the store's temp names loaded node:crypto and progress on stderr node:stream.
test('a no-op rebuild loads neither node:crypto nor node:stream, its output a pipe or a file', async (t) => {
  const root = await storeWithBusybox();
  const ctx = tempDir('noop-modules');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nCOPY a /a\nRUN echo hi > /hi\n', a: 'a\n' });
  const args = ['--root', root, 'build', '--progress', 'plain', '-t', 'noop-modules', ctx];
  const first = await nbuild(args);
  t.is(first.code, 0, first.stderr);
  const id = first.stdout;
  t.regex(id, /^sha256:[0-9a-f]{64}\n$/);
  const dir = tempDir('noop-modules-list');
  const list = path.join(dir, 'modules.txt');
  const preload = path.join(dir, 'preload.cjs');
  fs.writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));`);
  const env = { NBUILD_NODE_ARGS: `--require ${preload}` };
  const unwanted = (what: string) => {
    const loaded = fs.readFileSync(list, 'utf8').split('\n');
    t.true(loaded.includes('NativeModule fs'), what); // the preload ran
    // bin/nbuild runs tsc's output instead where it is newer than the bundle (a checkout mid-edit)
    t.false(loaded.includes('NativeModule internal/modules/esm/module_job'), `${what}: not the CLI bundle: rebuild it (node scripts/bundle.mjs)`);
    for (const name of ['crypto', 'stream', 'internal/streams/writable', 'net', 'tty', 'fs/promises']) t.false(loaded.includes(`NativeModule ${name}`), `${what}: ${name}`);
  };
  // stdout and stderr pipes (nbuild() reads them)
  const piped = await nbuild(args, { env });
  t.is(piped.code, 0, piped.stderr);
  t.is(piped.stdout, id);
  t.regex(piped.stderr, /^#\d+ CACHED$/m);
  t.regex(piped.stderr, /^Built sha256:[0-9a-f]{64} as docker\.io\/library\/noop-modules:latest$/m);
  unwanted('pipes');
  // both into one file, as the benchmarks log them: the id after the Built line, as before
  const log = path.join(dir, 'log');
  const fd = fs.openSync(log, 'w');
  const r = spawnSync(path.join(projectRoot, 'bin', 'nbuild'), args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  fs.closeSync(fd);
  t.is(r.status, 0);
  t.regex(fs.readFileSync(log, 'utf8'), new RegExp(`^Built sha256:[0-9a-f]{64} as \\S+\n${id}`, 'm'));
  unwanted('a file');
});
