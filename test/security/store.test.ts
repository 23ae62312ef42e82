// Adversarial, end to end as the unprivileged user (issue 13, rows 10, 12, 13 and 14, Deliver 4):
// names that other tools read as whiteouts, outputs that fail half way or are interrupted, a
// registry that drips or stalls, a base image removed while a build uses it, and an unpacked
// layer modified behind the store's back.
import test, { type ExecutionContext } from 'ava';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { busyboxImage, nbuild, projectRoot, tempDir, writeFiles, type RunResult } from '../helpers/nbuild-cli.js';
import { buildTar, gzipLayer, imageOf, writeOciArchive } from '../helpers/hostile-archives.js';
import { fingerprint } from '../helpers/tree-fingerprint.js';
import { FakeRegistry } from '../registry/helpers/fake-registry.js';
import { currentOwner } from '../../src/store/owner.js';

const run = promisify(execFile);
const bin = path.join(projectRoot, 'bin', 'nbuild');

// A store with busybox loaded (blobs only, so the test user can copy it); each test copies it.
let template: string;
test.before(async () => {
  template = path.join(tempDir('sec-store-template'), 'store');
  const r = await nbuild(['--root', template, 'load', '-i', busyboxImage(), '-t', 'busybox:latest']);
  if (r.code !== 0) throw new Error(r.stderr);
});

function freshStore(): string {
  const root = path.join(tempDir('sec-store'), 'store');
  fs.cpSync(template, root, { recursive: true });
  return root;
}

function context(files: Record<string, string>): string {
  const ctx = tempDir('sec-store-ctx');
  writeFiles(ctx, files);
  return ctx;
}

function build(root: string, ctx: string, ...extra: string[]): Promise<RunResult> {
  return nbuild(['--root', root, 'build', '--progress', 'plain', ...extra, ctx]);
}

/** One `nbuild: …` line on stderr, exit status 1, no stack trace. */
function refused(t: ExecutionContext, r: RunResult, pattern: RegExp): void {
  t.is(r.code, 1, r.stdout + r.stderr);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('nbuild: '));
  t.is(lines.length, 1, r.stderr);
  t.regex(lines[0] ?? '', pattern);
  t.notRegex(r.stderr, /internal error|\n\s+at /);
}

function names(root: string): string[] {
  return Object.keys((JSON.parse(fs.readFileSync(path.join(root, 'refs.json'), 'utf8')) as { names: Record<string, string> }).names).sort();
}

// ------------------------------------------------------------------ row 10

test('row 10: a RUN that creates files named like whiteouts fails, naming the path and the line', async (t) => {
  const root = freshStore();
  const r = await build(root, context({ Dockerfile: 'FROM busybox\nRUN touch /etc/.wh.passwd /.wh.bin\n' }), '-t', 'wh:1');
  refused(t, r, /^nbuild: \S*Dockerfile:2: RUN .*\/(\.wh\.bin|etc\/\.wh\.passwd)\b.*whiteout/);
  t.deepEqual(names(root), ['docker.io/library/busybox:latest'], 'no image was named');
});

test('row 10: a COPY of a context file named like a whiteout fails, naming the path and the line', async (t) => {
  const root = freshStore();
  const r = await build(root, context({ Dockerfile: 'FROM busybox\nCOPY conf /conf\n', 'conf/.wh..wh..opq': '', 'conf/app.cfg': 'x\n' }), '-t', 'wh:2');
  refused(t, r, /^nbuild: \S*Dockerfile:2: COPY .*\/conf\/\.wh\.\.wh\.\.opq.*whiteout/);
  t.deepEqual(names(root), ['docker.io/library/busybox:latest']);
});

test('row 10: deletions still become whiteouts, and the image loads elsewhere with /bin and /etc/passwd', async (t) => {
  const root = freshStore();
  const out = path.join(tempDir('sec-wh-out'), 'img.tar');
  const r = await build(root, context({ Dockerfile: 'FROM busybox\nRUN rm /etc/group && echo ok > /ok\n' }), '-o', out);
  t.is(r.code, 0, r.stderr);
  const other = path.join(tempDir('sec-wh-other'), 'store');
  t.is((await nbuild(['--root', other, 'load', '-i', out, '-t', 'copy:1'])).code, 0);
  const ls = await nbuild(['--root', other, 'run', '--rm', 'copy:1', 'sh', '-c', 'test -x /bin/sh && test -f /etc/passwd && test ! -e /etc/group && cat /ok']);
  t.is(ls.code, 0, ls.stderr);
  t.is(ls.stdout.trim(), 'ok');
});

// ------------------------------------------------------------------ row 12

test('row 12: a full output disk names the output, not the store, and leaves nothing there', async (t) => {
  const root = freshStore();
  const top = tempDir('sec-full');
  const dir = path.join(top, 'out');
  fs.mkdirSync(dir);
  for (const [format, dest] of [['oci', 'img.tar'], ['docker', 'img.tar'], ['oci-dir', 'layout']]) {
    const script = 'mount -t tmpfs -o size=64k tmpfs "$1" || exit 99; shift; "$@"; echo "rc=$?" >&2; ls -A "$0" >&2';
    let stderr: string;
    try {
      ({ stderr } = await run('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script, dir, dir, bin, '--root', root, 'save', 'busybox', '--format', format, '-o', path.join(dir, dest)]));
    } catch (e) {
      t.log(`skipped: cannot mount a tmpfs in a user namespace here (${(e as Error).message.split('\n')[0]})`);
      t.pass();
      return;
    }
    const lines = stderr.trim().split('\n');
    const rc = lines.findIndex((l) => /^rc=\d+$/.test(l));
    t.is(lines[rc], 'rc=1', stderr);
    const errors = lines.slice(0, rc).filter((l) => l.startsWith('nbuild: '));
    t.is(errors.length, 1, stderr);
    t.regex(errors[0] ?? '', new RegExp(`no space left on the device of ${path.join(dir, dest).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), format);
    t.notRegex(errors[0] ?? '', /the store|nbuild prune/, format);
    t.deepEqual(lines.slice(rc + 1), [], `${format}: nothing is left in the output folder`);
  }
});

test('row 12: -o type=local that fails half way leaves no folder, and an existing one as it was', async (t) => {
  const root = freshStore();
  const ctx = context({ Dockerfile: 'FROM busybox\nCOPY big /big\n', big: 'x'.repeat(100_000) });
  const first = await build(root, ctx, '-t', 'local:1');
  t.is(first.code, 0, first.stderr);
  // Damage the COPY layer's blob: the (cached) rebuild then fails while writing the output.
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'blobs', 'sha256', JSON.parse(fs.readFileSync(path.join(root, 'refs.json'), 'utf8')).names['docker.io/library/local:1'].slice(7)), 'utf8')) as { layers: { digest: string }[] };
  const blob = path.join(root, 'blobs', 'sha256', manifest.layers[manifest.layers.length - 1].digest.slice(7));
  const bytes = fs.readFileSync(blob);
  fs.writeFileSync(blob, bytes.subarray(0, bytes.length >> 1));
  const top = tempDir('sec-local');
  const fresh = path.join(top, 'fresh');
  const r = await build(root, ctx, '-o', `type=local,dest=${fresh}`);
  t.is(r.code, 1, r.stderr);
  t.deepEqual(fs.readdirSync(top), [], 'no partial folder and no temp folder');
  const existing = path.join(top, 'existing');
  writeFiles(existing, { 'keep.txt': 'mine\n' });
  const before = fingerprint(existing, { portable: true });
  const again = await build(root, ctx, '-o', `type=local,dest=${existing}`);
  t.is(again.code, 1, again.stderr);
  t.deepEqual(fingerprint(existing, { portable: true }), before, 'the existing folder is as it was');
  t.deepEqual(fs.readdirSync(top), ['existing']);
});

test("row 12: -o type=local into an existing folder: an image's opaque whiteout hides its own lower layers, never the folder's files", async (t) => {
  const root = freshStore();
  const top = tempDir('sec-local-opq');
  const archive = path.join(top, 'img.tar');
  await writeOciArchive(archive, imageOf([
    gzipLayer(buildTar([{ name: 'a/', type: '5' }, { name: 'a/old', data: 'old\n' }])),
    gzipLayer(buildTar([{ name: '.wh..wh..opq', data: '' }, { name: '.wh.keep.txt', data: '' }, { name: 'new', data: 'new\n' }])),
  ]));
  const dest = path.join(top, 'dest');
  writeFiles(dest, { 'keep.txt': 'mine\n', 'sub/mine': 'mine\n' });
  const r = await build(root, context({ Dockerfile: `FROM oci-archive:${archive}\n` }), '-o', `type=local,dest=${dest}`);
  t.is(r.code, 0, r.stderr);
  t.is(fs.readFileSync(path.join(dest, 'keep.txt'), 'utf8'), 'mine\n');
  t.is(fs.readFileSync(path.join(dest, 'sub/mine'), 'utf8'), 'mine\n');
  t.is(fs.readFileSync(path.join(dest, 'new'), 'utf8'), 'new\n');
  t.false(fs.existsSync(path.join(dest, 'a')), 'the lower layer is hidden in the image');
  t.deepEqual(fs.readdirSync(top).sort(), ['dest', 'img.tar']);
});

/** A store holding an image with one 256 MiB layer (uncompressed zeros): `save` of it takes a while. */
async function storeWithBigImage(): Promise<string> {
  const root = freshStore();
  const top = tempDir('sec-big');
  const layerTar = path.join(top, 'layer.tar');
  const size = 256 << 20;
  const header = buildTar([{ name: 'zeros', data: '' }]).subarray(0, 512);
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const fd = fs.openSync(layerTar, 'w');
  fs.writeSync(fd, header);
  fs.ftruncateSync(fd, 512 + size + 1024);
  fs.closeSync(fd);
  const tar = fs.readFileSync(layerTar);
  const archive = path.join(top, 'big.tar');
  const img = imageOf([{ blob: tar, diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}`, mediaType: 'application/vnd.oci.image.layer.v1.tar' }]);
  await writeOciArchive(archive, img);
  fs.rmSync(layerTar);
  const r = await nbuild(['--root', root, 'load', '-i', archive, '-t', 'big:1']);
  fs.rmSync(archive);
  if (r.code !== 0) throw new Error(r.stderr);
  return root;
}

/** Starts `nbuild save big:1 -o DEST` and sends `signal` as soon as its temp file appears. */
async function interruptedSave(root: string, dest: string, signal: NodeJS.Signals): Promise<{ signal: string | null; code: number | null }> {
  const child = spawn(bin, ['--root', root, 'save', 'big:1', '-o', dest], { stdio: 'ignore' });
  const dir = path.dirname(dest);
  for (let i = 0; i < 4000 && child.exitCode === null; i++) {
    if (fs.readdirSync(dir).some((n) => n.startsWith(`.${path.basename(dest)}.tmp-`))) {
      child.kill(signal);
      break;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
}

test('row 12: an interrupted save removes its temp file; a SIGKILLed one is removed by the next save', async (t) => {
  const root = await storeWithBigImage();
  const dir = tempDir('sec-save');
  const dest = path.join(dir, 'out.tar');
  const term = await interruptedSave(root, dest, 'SIGTERM');
  t.true(term.signal === 'SIGTERM' || term.code !== 0, 'the save was interrupted');
  t.deepEqual(fs.readdirSync(dir), [], 'SIGTERM: nothing left');
  const killed = await interruptedSave(root, dest, 'SIGKILL');
  t.is(killed.signal, 'SIGKILL');
  t.is(fs.readdirSync(dir).filter((n) => n.startsWith('.out.tar.tmp-')).length, 1, 'SIGKILL leaves its temp file');
  const again = await nbuild(['--root', root, 'save', 'big:1', '-o', dest]);
  t.is(again.code, 0, again.stderr);
  t.deepEqual(fs.readdirSync(dir), ['out.tar'], 'the next save removed the dead one');
});

// ------------------------------------------------------------------ row 13

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

async function registryWithImage(t: ExecutionContext, dripMs?: number): Promise<{ reg: FakeRegistry; layer: string; ref: string }> {
  const reg = await new FakeRegistry({ dripMs }).start();
  t.teardown(() => reg.close());
  const tar = buildTar([{ name: 'f', data: 'x'.repeat(50_000) }]);
  const img = imageOf([gzipLayer(tar)]);
  reg.addBlob('lib/app', img.configBytes);
  const layer = reg.addBlob('lib/app', img.layers[0].blob);
  reg.addManifest('lib/app', 'v1', img.manifestBytes, OCI_MANIFEST);
  return { reg, layer, ref: `${reg.host}/lib/app:v1` };
}

function pull(root: string, ref: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  const conf = path.join(tempDir('sec-regconf'), 'registries.toml');
  fs.writeFileSync(conf, '');
  return nbuild(['--root', root, 'pull', ref], { env: { NBUILD_REGISTRIES_CONFIG: conf, ...env } });
}

test('row 13: a manifest dripped a byte at a time fails at the overall deadline (NBUILD_REGISTRY_TIMEOUT)', async (t) => {
  // The manifest (about 350 bytes) would take 35 s at 100 ms a byte.
  const { reg, ref } = await registryWithImage(t, 100);
  reg.faults = [{ path: '/manifests/', action: 'drip', times: 100 }];
  const started = Date.now();
  const r = await pull(freshStore(), ref, { NBUILD_REGISTRY_TIMEOUT: '6' });
  const took = (Date.now() - started) / 1000;
  refused(t, r, new RegExp(`${reg.host.replace(/\./g, '\\.')}/lib/app:v1: no complete answer within 6 s`));
  t.true(took < 30, `took ${took} s`);
});

test('row 13: a stalled blob fails after the stall timeout, naming registry, repository and digest', async (t) => {
  const { reg, layer, ref } = await registryWithImage(t);
  reg.faults = [{ path: `/blobs/${layer}`, action: 'stall', times: 100 }];
  const started = Date.now();
  const root = freshStore();
  const r = await pull(root, ref, { NBUILD_REGISTRY_STALL_TIMEOUT: '1' });
  const took = (Date.now() - started) / 1000;
  refused(t, r, new RegExp(`${reg.host.replace(/\./g, '\\.')}/lib/app@${layer}: .*stalled: no data for 1 s`));
  t.true(took < 60, `took ${took} s (5 attempts of 1 s and their backoff; it was 303 s)`);
  t.false(fs.existsSync(path.join(root, 'blobs', 'sha256', layer.slice(7))));
});

test('row 13: a bad timeout setting is a usage error', async (t) => {
  const { ref } = await registryWithImage(t);
  const r = await pull(freshStore(), ref, { NBUILD_REGISTRY_TIMEOUT: 'soon' });
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /NBUILD_REGISTRY_TIMEOUT/);
});

// ------------------------------------------------------------------ row 14

test('row 14: rmi + prune of the base image while a build uses it: the build succeeds and the store stays whole', async (t) => {
  const root = freshStore();
  const ctx = context({ Dockerfile: 'FROM busybox\nRUN sleep 4\nRUN echo done > /done\n' });
  const child = spawn(bin, ['--root', root, 'build', '--progress', 'plain', '-t', 'lease:1', ctx], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 600 && !/RUN sleep 4/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
  const rmi = await nbuild(['--root', root, 'rmi', 'busybox']);
  t.is(rmi.code, 0, rmi.stderr);
  const prune = await nbuild(['--root', root, 'prune', '-a']);
  t.is(prune.code, 0, prune.stderr);
  t.is(await done, 0, out);
  const check = await nbuild(['--root', root, 'store', 'check']);
  t.is(check.code, 0, check.stdout + check.stderr);
  const runIt = await nbuild(['--root', root, 'run', '--rm', 'lease:1', 'cat', '/done']);
  t.is(runIt.stdout.trim(), 'done', runIt.stderr);
  // Once the build is over its lease is gone: the base's blobs are kept only by the new image.
  t.deepEqual(fs.readdirSync(path.join(root, 'tmp')).filter((n) => n.startsWith('lease-')), []);
});

// ------------------------------------------------------------------ Deliver 4

function layerDirs(root: string): string[] {
  return fs.readdirSync(path.join(root, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
}

test('store check finds an unpacked layer modified behind its back, and --repair re-extracts it', async (t) => {
  const root = freshStore();
  const r = await build(root, context({ Dockerfile: 'FROM busybox\nRUN echo hi > /hi\n' }), '-t', 'mod:1', '--timestamp', '0');
  t.is(r.code, 0, r.stderr);
  const clean = await nbuild(['--root', root, 'store', 'check']);
  t.is(clean.code, 0, `a freshly built store has no problem (RUN layers kept with --timestamp too): ${clean.stdout}${clean.stderr}`);
  const dirs = layerDirs(root);
  t.is(dirs.length, 2);
  // Poison the base layer: a new file, and a changed one.
  const base = dirs.find((d) => fs.existsSync(path.join(root, 'layers', d, 'bin'))) as string;
  fs.writeFileSync(path.join(root, 'layers', base, 'POISONED'), 'x');
  fs.appendFileSync(path.join(root, 'layers', base, 'etc', 'passwd'), 'evil::0:0::/:/bin/sh\n');
  const found = await nbuild(['--root', root, 'store', 'check']);
  t.is(found.code, 1);
  t.regex(found.stdout, new RegExp(`problem: layers/${base}: its files differ from what its blob sha256:[0-9a-f]{64} unpacks to`));
  // While another nbuild process uses the store (its overlays may be stacked on the layer), the
  // layer is reported, not replaced.
  const other = path.join(root, 'tmp', 'session-other-test.owner');
  fs.writeFileSync(other, JSON.stringify(currentOwner()));
  const held = await nbuild(['--root', root, 'store', 'check', '--repair']);
  t.is(held.code, 1, held.stdout + held.stderr);
  t.regex(held.stdout, new RegExp(`problem: layers/${base}: .*\\(not repaired: another nbuild process uses the store`));
  t.true(fs.existsSync(path.join(root, 'layers', base, 'POISONED')));
  fs.rmSync(other);
  const repaired = await nbuild(['--root', root, 'store', 'check', '--repair']);
  t.is(repaired.code, 0, repaired.stdout + repaired.stderr);
  t.regex(repaired.stdout, new RegExp(`repaired: layers/${base}`));
  t.false(fs.existsSync(path.join(root, 'layers', base, 'POISONED')));
  t.notRegex(fs.readFileSync(path.join(root, 'layers', base, 'etc', 'passwd'), 'utf8'), /evil/);
  const after = await nbuild(['--root', root, 'store', 'check']);
  t.is(after.code, 0, after.stdout);
  const ok = await nbuild(['--root', root, 'run', '--rm', 'mod:1', 'sh', '-c', 'cat /hi; test ! -e /POISONED']);
  t.is(ok.stdout.trim(), 'hi', ok.stderr);
});
