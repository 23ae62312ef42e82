// Adversarial: a hostile base image whose layers hold symlinks out of the layer (absolute, a `..`
// chain, a link to a link) inside an opaque folder, each shadowed by a real folder in the layer
// above. The merged lower view (native/core/merged_view.cc) is what the copy-based snapshot
// (`--isolation copy`) diffs a RUN against and what the fuse-overlayfs upper conversion asks
// "does the image have this path?". Had it followed such a link, it would have looked at the
// invoking user's files: under copy isolation the names in the fake `~/.ssh` became whiteouts in
// the RUN's layer (`o/abs/.ssh/.wh.id_rsa`), under fuse-overlayfs an opaque mark appeared exactly
// where the host has the folder — the image told whoever pulls it what is in the builder's home.
// Run as the unprivileged test user; the home is fingerprinted before and after, and the RUN's
// layer must be the same whether or not the home has a `.ssh` at all.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildTar, gzipLayer, imageOf, writeOciArchive, type RawTarEntry } from '../helpers/hostile-archives.js';
import { nbuild, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { listLayer, openOciArchive } from '../helpers/oci.js';
import { changes, fingerprint } from '../helpers/tree-fingerprint.js';

const info = await nbuild(['info']);
const fuseLine = info.stdout.split('\n').find((l) => /^\s*\*?\s*fuse-overlayfs\s/.test(l)) ?? '';
const fuseUsable = / available /.test(fuseLine);

/** `..` enough to climb from any layer folder to `/`, within a ustar link name's 100 bytes. */
function climbTo(target: string, prefix = '', suffix = ''): string {
  const ups = Math.floor((100 - prefix.length - target.length + 1 - suffix.length) / 3);
  if (ups < 12) throw new Error(`temp folder too deep for a ustar link name: ${target}`);
  return `${prefix}${'../'.repeat(ups)}${target.slice(1)}${suffix}`;
}

/** The hostile image: busybox in the bottom layer, the links in an opaque `o/`, folders over them. */
function hostileImage(home: string): ReturnType<typeof imageOf> {
  const busybox = fs.readFileSync('/bin/busybox');
  const bottom: RawTarEntry[] = [
    { name: 'bin/', type: '5' },
    { name: 'bin/busybox', data: busybox, mode: 0o755 },
    { name: 'bin/sh', type: '2', linkname: 'busybox' },
    { name: 'bin/mkdir', type: '2', linkname: 'busybox' },
    { name: 'o/', type: '5' },
    { name: 'o/.wh..wh..opq', data: '' },
    { name: 'o/abs', type: '2', linkname: home }, // absolute: the host's path
    { name: 'o/rel', type: '2', linkname: climbTo(home) }, // a `..` chain to /
    { name: 'o/hop', type: '2', linkname: 'abs' }, // a link to a link out
    { name: 'o/deep/', type: '5' },
    { name: 'o/deep/.wh..wh..opq', data: '' },
    { name: 'o/deep/up', type: '2', linkname: climbTo(home, '../../', '/.ssh/..') }, // through a folder of the home
  ];
  // The folders that shadow the links: the kernel overlay shows them, never what a lower link names.
  const top: RawTarEntry[] = ['o/', 'o/abs/', 'o/rel/', 'o/hop/', 'o/deep/', 'o/deep/up/'].map((name) => ({ name, type: '5' as const }));
  return imageOf([gzipLayer(buildTar(bottom)), gzipLayer(buildTar(top))]);
}

const STEP = 'RUN mkdir -p /o/abs/.ssh /o/rel/.ssh /o/hop/.ssh /o/deep/up/.ssh';
const EXPECTED = ['o', 'o/abs', 'o/abs/.ssh', 'o/deep', 'o/deep/up', 'o/deep/up/.ssh', 'o/hop', 'o/hop/.ssh', 'o/rel', 'o/rel/.ssh'];

async function runLayer(t: import('ava').ExecutionContext, mode: string, home: string): Promise<string[] | undefined> {
  const ctx = tempDir('mv-ctx');
  const archive = path.join(ctx, 'hostile.oci.tar');
  await writeOciArchive(archive, hostileImage(home));
  writeFiles(ctx, { Dockerfile: `FROM oci-archive:${archive}\n${STEP}\n` });
  const store = tempDir('mv-store');
  const out = path.join(tempDir('mv-out'), 'image.tar');
  const before = fingerprint(home);
  const r = await nbuild(['--root', store, 'build', '--progress', 'plain', '--isolation', mode, '--timestamp', '0', '--no-cache',
    '-o', `type=oci,dest=${out}`, ctx], { env: { HOME: home } });
  t.deepEqual(changes(before, fingerprint(home)), [], `${mode}: the home is unchanged`);
  t.is(r.code, 0, `${mode}: ${r.stderr}`);
  t.false(/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
  if (r.code !== 0) return undefined;
  const a = openOciArchive(out);
  const layer = a.manifest.layers[a.manifest.layers.length - 1];
  return listLayer(a.blob(layer.digest)).map((e) => e.name).sort();
}

for (const mode of ['copy', 'fuse-overlayfs']) {
  const run = mode === 'copy' || fuseUsable ? test : test.skip;
  run(`--isolation ${mode}: a base image's links out under folders of the layer above never show the host in the RUN's layer${mode === 'copy' || fuseUsable ? '' : ' (skipped: fuse-overlayfs not available)'}`, async (t) => {
    const home = tempDir('mv-home');
    writeFiles(home, { '.ssh/id_rsa': 'FAKE-KEY\n', '.ssh/known_hosts': 'host\n', 'proj/x': 'x\n' });
    fs.chmodSync(path.join(home, '.ssh'), 0o700);
    const withSsh = await runLayer(t, mode, home);
    t.deepEqual(withSsh, EXPECTED, `${mode}: the RUN's layer holds only what the step made (no whiteout or opaque mark from the host's ~/.ssh)`);
    // The same build where the home has no .ssh: the layer must not tell the two apart.
    const bare = tempDir('mv-home-bare');
    writeFiles(bare, { 'proj/x': 'x\n' });
    const withoutSsh = await runLayer(t, mode, bare);
    t.deepEqual(withoutSsh, EXPECTED, `${mode}: the RUN's layer does not depend on the host's files`);
  });
}

// --squash asks the same question of the base image: the squashed layer keeps a whiteout only
// where a kept (base) layer has the path (executor/squash.ts, `whiteoutsOver`). Steps that make
// and then remove `.ssh` folders under the shadowed links: had the lookup followed a link to the
// home, the squashed layer would keep whiteouts named after the host's ~/.ssh.
const SQUASH_STEPS = `${STEP}\nRUN rm -rf /o/abs/.ssh /o/rel/.ssh /o/hop/.ssh /o/deep/up/.ssh\n`;

async function squashedLayer(t: import('ava').ExecutionContext, home: string): Promise<string[] | undefined> {
  const ctx = tempDir('mv-sq-ctx');
  const archive = path.join(ctx, 'hostile.oci.tar');
  await writeOciArchive(archive, hostileImage(home));
  writeFiles(ctx, { Dockerfile: `FROM oci-archive:${archive}\n${SQUASH_STEPS}` });
  const out = path.join(tempDir('mv-sq-out'), 'image.tar');
  const before = fingerprint(home);
  const r = await nbuild(['--root', tempDir('mv-sq-store'), 'build', '--progress', 'plain', '--squash', '--timestamp', '0', '--no-cache', '-o', `type=oci,dest=${out}`, ctx], { env: { HOME: home } });
  t.deepEqual(changes(before, fingerprint(home)), [], 'squash: the home is unchanged');
  t.is(r.code, 0, r.stderr);
  t.false(/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
  if (r.code !== 0) return undefined;
  const a = openOciArchive(out);
  t.is(a.manifest.layers.length, 3, 'the two base layers and the squashed one');
  const layer = a.manifest.layers[a.manifest.layers.length - 1];
  return listLayer(a.blob(layer.digest)).map((e) => e.name).sort();
}

test('--squash: a base image\'s links out under folders of the layer above never put the host\'s names in the squashed layer', async (t) => {
  const home = tempDir('mv-sq-home');
  writeFiles(home, { '.ssh/id_rsa': 'FAKE-KEY\n', '.ssh/known_hosts': 'host\n', 'proj/x': 'x\n' });
  fs.chmodSync(path.join(home, '.ssh'), 0o700);
  const withSsh = await squashedLayer(t, home);
  t.truthy(withSsh);
  t.deepEqual((withSsh ?? []).filter((n) => n.includes('.wh.') || n.includes('.ssh') || n.includes('id_rsa') || n.includes('known_hosts')), [], 'no whiteout and nothing named after the home');
  const bare = tempDir('mv-sq-home-bare');
  writeFiles(bare, { 'proj/x': 'x\n' });
  t.deepEqual(await squashedLayer(t, bare), withSsh, 'the squashed layer does not depend on the host\'s files');
});
