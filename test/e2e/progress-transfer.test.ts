// Progress of the long steps, through bin/nbuild as the unprivileged user: `--progress=plain`
// shows a line per blob when a push, a pull (also a build's FROM) starts and ends it, and a
// build ends with its summary line. SIGTERM in the middle of a blob stops a pull within a
// second, exit 143, and leaves the store as it was (a slow registry of our own trickles the blob).
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { busyboxImage, hasCommand, nbuild, projectRoot, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { haveDistribution, startDistribution, type Distribution } from '../registry/helpers/distribution.js';
import { loadScaledMs } from '../helpers/deadline.js';

const serial = haveDistribution && hasCommand('skopeo') ? test.serial : test.serial.skip;
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** No user or system registries.toml leaks into these tests. */
function registriesEnv(): NodeJS.ProcessEnv {
  const file = path.join(tempDir('regconf'), 'registries.toml');
  fs.writeFileSync(file, '');
  return { NBUILD_REGISTRIES_CONFIG: file };
}

/** The layer digests of the busybox test image (from its OCI archive, as skopeo reads it). */
function busyboxLayers(): string[] {
  const dir = tempDir('bb-layout');
  execFileSync('tar', ['-xf', busyboxImage(), '-C', dir]);
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
  return manifest.layers.map((l) => l.digest);
}

let reg: Distribution | undefined;
test.before(async () => {
  if (haveDistribution) reg = await startDistribution();
});
test.after.always(async () => {
  await reg?.stop();
});

/** `#N sha256:<hex> …` lines of task N, as [digest, rest]. */
function blobLines(stderr: string, id: string): [string, string][] {
  return stderr
    .split('\n')
    .map((l) => new RegExp(`^#${id} (sha256:[0-9a-f]{64}) (.*)$`).exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1], m[2]]);
}

/** Every blob has one start line (`0B / SIZE`) and one done line (`SIZE / SIZE [T] done`), or one line saying why no bytes moved. */
function assertStartAndDone(t: import('ava').ExecutionContext, lines: [string, string][], digests: string[], stderr: string): void {
  for (const d of digests) {
    const mine = lines.filter(([digest]) => digest === d).map(([, rest]) => rest);
    t.is(mine.length, 2, `${d}:\n${stderr}`);
    t.regex(mine[0], /^0B \/ \d+(\.\d\d[kMG]B|B)$/, stderr);
    t.regex(mine[1], /^(\S+) \/ \1( \d+\.\ds)? done$/, stderr);
  }
}

serial('push and pull --progress=plain: a start and a done line per blob, under one task', async (t) => {
  const env = registriesEnv();
  const root = await storeWithBusybox();
  const ref = `${reg!.host}/progress/busybox:1`;
  const push = await nbuild(['--root', root, 'push', '--progress=plain', '--tls-verify=false', 'busybox:latest', ref], { env });
  t.is(push.code, 0, push.stderr);
  t.regex(push.stderr, new RegExp(`^#1 pushing ${ref.replace(/\./g, '\\.')}$`, 'm'));
  const layers = busyboxLayers();
  assertStartAndDone(t, blobLines(push.stderr, '1'), layers, push.stderr);
  t.regex(push.stderr, /^#1 DONE \d+\.\ds$/m);
  t.regex(push.stderr, /^pushed /m);
  // Pushed again: the registry has every blob, one line each says so.
  const again = await nbuild(['--root', root, 'push', '--progress=plain', '--tls-verify=false', 'busybox:latest', ref], { env });
  t.is(again.code, 0, again.stderr);
  for (const d of layers) t.true(again.stderr.includes(`#1 ${d} `) && new RegExp(`^#1 ${d} \\S+ already in the registry$`, 'm').test(again.stderr), again.stderr);

  const fresh = tempDir('progress-pull');
  const pull = await nbuild(['--root', fresh, 'pull', '--progress=plain', '--tls-verify=false', ref], { env });
  t.is(pull.code, 0, pull.stderr);
  t.regex(pull.stdout, /^sha256:[0-9a-f]{64}\n$/);
  t.regex(pull.stderr, /^#1 pulling /m);
  assertStartAndDone(t, blobLines(pull.stderr, '1'), layers, pull.stderr);
  // -q: nothing but the digest.
  const quiet = await nbuild(['--root', fresh, 'pull', '-q', '--tls-verify=false', ref], { env });
  t.is(quiet.code, 0, quiet.stderr);
  t.is(quiet.stderr, '');
});

serial('build --progress=plain: FROM pulls and --push pushes with a line per blob; the summary line ends it', async (t) => {
  const env = registriesEnv();
  const seed = await storeWithBusybox();
  const base = `${reg!.host}/progress/base:1`;
  const seeded = await nbuild(['--root', seed, 'push', '-q', '--tls-verify=false', 'busybox:latest', base], { env });
  t.is(seeded.code, 0, seeded.stderr);
  const root = tempDir('progress-build');
  const ctx = tempDir('progress-build-ctx');
  writeFiles(ctx, { Dockerfile: `FROM ${base}\nRUN echo built > /built\nCOPY a /a\n`, a: 'a\n' });
  const out = path.join(tempDir('progress-out'), 'image.tar');
  const target = `${reg!.host}/progress/built:1`;
  const args = ['--root', root, 'build', '--progress=plain', '--tls-verify=false', '-t', target, '--push', '-o', `type=oci,dest=${out}`, ctx];
  const r = await nbuild(args, { env });
  t.is(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n');
  const task = (re: RegExp): string => /^#(\d+)/.exec(lines.find((l) => re.test(l)) ?? '')?.[1] ?? 'none';
  const pullId = task(/^#\d+ pulling /);
  const archiveId = task(/^#\d+ exporting to oci archive /);
  const pushId = task(/^#\d+ pushing /);
  assertStartAndDone(t, blobLines(r.stderr, pullId), busyboxLayers(), r.stderr);
  // The base's layer and the two built here (RUN, COPY).
  t.is(blobLines(r.stderr, archiveId).length, 2 * 3, `3 layers written to the archive, a start and a done line each:\n${r.stderr}`);
  // The config and the two new layers are uploaded (start, done); the base layer is mounted from the base's repository (start, mounted).
  const pushed = blobLines(r.stderr, pushId);
  t.is(pushed.length, 4 * 2, r.stderr);
  t.is(pushed.filter(([, rest]) => / done$/.test(rest)).length, 3, r.stderr);
  t.is(pushed.filter(([, rest]) => / mounted$/.test(rest)).length, 1, r.stderr);
  // Step ids and task ids are one numbering.
  t.deepEqual(new Set([pullId, archiveId, pushId]).size, 3);
  const summary = /^FINISHED (\d+\.\d)s {2}(sha256:[0-9a-f]{12}) {2}(\S+) {2}cached (\d+)\/(\d+)$/.exec(lines.filter(Boolean).at(-1) ?? '');
  t.truthy(summary, `the last line is the summary:\n${r.stderr}`);
  const id = r.stdout.trim();
  t.is(summary?.[2], id.slice(0, 19), 'the image id, short');
  t.is(summary?.[4], '0');
  const steps = summary?.[5];
  t.true(Number(steps) >= 2);
  // The size is the layers' compressed total, read back from the archive.
  const layout = tempDir('progress-layout');
  execFileSync('tar', ['-xf', out, '-C', layout]);
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(fs.readFileSync(path.join(layout, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8')) as { layers: { size: number }[] };
  const total = manifest.layers.reduce((a, l) => a + l.size, 0);
  const shown = summary?.[3] ?? '';
  const value = Number.parseFloat(shown) * (shown.endsWith('MB') ? 1e6 : shown.endsWith('kB') ? 1e3 : 1);
  t.true(Math.abs(value - total) <= total * 0.01, `${shown} for ${total} bytes`);

  const again = await nbuild(args, { env });
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr.trim().split('\n').at(-1) ?? '', new RegExp(`^FINISHED \\d+\\.\\ds {2}sha256:[0-9a-f]{12} {2}\\S+ {2}cached ${steps}/${steps}$`));
  t.notRegex(again.stderr, /^#\d+ pulling /m, 'the base image is in the store: no pull task');
  // quiet: the id only.
  const quiet = await nbuild(['--root', root, 'build', '-q', ctx], { env });
  t.is(quiet.code, 0, quiet.stderr);
  t.is(quiet.stderr, '');
});

/** A registry that serves one image whose layer comes at 64 KiB every 20 ms (about 3 MB/s). */
async function slowRegistry(): Promise<{ host: string; layer: string; config: string; close(): Promise<void>; layerRequests: () => number }> {
  const layer = randomBytes(48 << 20);
  const config = Buffer.from(JSON.stringify({ architecture: process.arch === 'arm64' ? 'arm64' : 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] }, config: {} }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }],
  }));
  let layerRequests = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/' || url === '/v2') return void res.writeHead(200).end('{}');
    if (url.includes('/manifests/')) {
      return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': manifest.length, 'docker-content-digest': sha(manifest) }).end(manifest);
    }
    if (url.endsWith(`/blobs/${sha(config)}`)) return void res.writeHead(200, { 'content-length': config.length }).end(config);
    if (url.endsWith(`/blobs/${sha(layer)}`)) {
      layerRequests++;
      res.writeHead(200, { 'content-length': layer.length });
      let at = 0;
      const timer = setInterval(() => {
        if (at >= layer.length || res.destroyed) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(layer.subarray(at, (at += 64 << 10)));
      }, 20);
      timers.add(timer);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    layer: sha(layer),
    config: sha(config),
    layerRequests: () => layerRequests,
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Every blob file in the store, each checked against its name (nothing half-written). */
function storeBlobs(t: import('ava').ExecutionContext, root: string): string[] {
  const dir = path.join(root, 'blobs', 'sha256');
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  for (const n of names) t.is(sha(fs.readFileSync(path.join(dir, n))), `sha256:${n}`, `blob ${n} is whole`);
  return names.map((n) => `sha256:${n}`);
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test.serial(`${sig} in the middle of a blob stops the pull within a second, exit ${sig === 'SIGTERM' ? 143 : 130}, the store as it was`, async (t) => {
    const slow = await slowRegistry();
    t.teardown(() => slow.close());
    const env = registriesEnv();
    const root = await storeWithBusybox();
    const before = storeBlobs(t, root);
    const child = spawn(path.join(projectRoot, 'bin', 'nbuild'), ['--root', root, 'pull', '--progress=plain', '--tls-verify=false', `${slow.host}/slow/image:1`], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('close', (code) => resolve({ code, at: Date.now() })));
    // Wait until the layer is on its way (its start line), then a little more.
    const deadline = Date.now() + 20_000;
    while (!stderr.includes(`${slow.layer} 0B /`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    t.true(stderr.includes(`${slow.layer} 0B /`), stderr);
    await new Promise((r) => setTimeout(r, 700));
    const sent = Date.now();
    child.kill(sig);
    const { code, at } = await exited;
    t.is(code, sig === 'SIGTERM' ? 143 : 130, stderr);
    t.true(at - sent < loadScaledMs(1000), `exited ${at - sent} ms after ${sig}`);
    t.is(slow.layerRequests(), 1);
    t.notRegex(stderr, new RegExp(`${slow.layer} .* done`), 'the layer was not finished');
    // The pull removed its temp dir itself (before any later open of the store could clean up after it).
    const tmp = fs.readdirSync(path.join(root, 'tmp')).filter((n) => !n.startsWith('session-'));
    t.deepEqual(tmp.filter((n) => /pull/.test(n)), [], `tmp/ holds ${tmp.join(', ')}`);
    // No image, no layer blob, no leftover in tmp/, and store check is clean.
    const images = await nbuild(['--root', root, 'images', '--digests'], { env });
    t.is(images.code, 0, images.stderr);
    t.false(images.stdout.includes(slow.host), images.stdout);
    const after = storeBlobs(t, root);
    t.false(after.includes(slow.layer), 'the half-fetched layer is not in the store');
    // The config came whole before the signal; it is the only blob the pull added (gc takes it: nothing names it).
    t.deepEqual(after.filter((b) => !before.includes(b)).filter((b) => b !== slow.config), []);
    const check = await nbuild(['--root', root, 'store', 'check'], { env });
    t.is(check.code, 0, check.stdout + check.stderr);
    t.regex(check.stdout, / 0 problem\(s\)/);
  });
}

/** Runs nbuild, sends `sig` once `ready()` holds (checked every 50 ms), and says how soon it exited. */
async function interrupt(args: string[], env: NodeJS.ProcessEnv, sig: NodeJS.Signals, ready: (stderr: string) => boolean): Promise<{ code: number | null; ms: number; stderr: string; ready: boolean }> {
  const child = spawn(path.join(projectRoot, 'bin', 'nbuild'), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('close', (code) => resolve({ code, at: Date.now() })));
  const deadline = Date.now() + 30_000;
  while (!ready(stderr) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  const wasReady = ready(stderr);
  await new Promise((r) => setTimeout(r, 500));
  const sent = Date.now();
  child.kill(sig);
  const { code, at } = await exited;
  return { code, ms: at - sent, stderr, ready: wasReady };
}

test.serial('SIGTERM while a build pulls its FROM image mid-blob: exit 143 within a second, no image, no temp left', async (t) => {
  const slow = await slowRegistry();
  t.teardown(() => slow.close());
  const env = registriesEnv();
  const root = await storeWithBusybox();
  const ctx = tempDir('slow-build-ctx');
  writeFiles(ctx, { Dockerfile: `FROM ${slow.host}/slow/image:1\nRUN true\n` });
  const r = await interrupt(['--root', root, 'build', '--progress=plain', '--tls-verify=false', '-t', 'never:1', ctx], env, 'SIGTERM', (e) => e.includes(`${slow.layer} 0B /`));
  t.true(r.ready, r.stderr);
  t.is(r.code, 143, r.stderr);
  t.true(r.ms < loadScaledMs(1000), `exited ${r.ms} ms after SIGTERM`);
  t.false(storeBlobs(t, root).includes(slow.layer));
  const tmp = fs.readdirSync(path.join(root, 'tmp')).filter((n) => /pull/.test(n));
  t.deepEqual(tmp, []);
  const images = await nbuild(['--root', root, 'images'], { env });
  t.false(/never|slow/.test(images.stdout), images.stdout);
});

/** A registry that takes a blob upload's request and never answers it (the body is not read). */
async function stuckRegistry(): Promise<{ host: string; uploads: () => number; manifests: () => number; close(): Promise<void> }> {
  let uploads = 0;
  let manifests = 0;
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/' || url === '/v2') return void res.writeHead(200).end('{}');
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST' && url.includes('/blobs/uploads/')) return void res.writeHead(202, { location: '/upload/1', 'content-length': 0 }).end();
    if (url.startsWith('/upload/')) {
      uploads++;
      req.pause(); // the body stays in the socket: the client's upload is in flight until it gives up
      return;
    }
    if (url.includes('/manifests/')) manifests++;
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    uploads: () => uploads,
    manifests: () => manifests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test.serial('SIGINT in the middle of a push: exit 130 within a second, no manifest put, the store unchanged', async (t) => {
  const stuck = await stuckRegistry();
  t.teardown(() => stuck.close());
  const env = registriesEnv();
  const root = await storeWithBusybox();
  const before = storeBlobs(t, root);
  const r = await interrupt(['--root', root, 'push', '--progress=plain', '--tls-verify=false', 'busybox:latest', `${stuck.host}/stuck/busybox:1`], env, 'SIGINT', () => stuck.uploads() > 0);
  t.true(r.ready, r.stderr);
  t.is(r.code, 130, r.stderr);
  t.true(r.ms < loadScaledMs(1000), `exited ${r.ms} ms after SIGINT`);
  t.regex(r.stderr, /^#1 sha256:[0-9a-f]{64} 0B \//m, 'the upload had started');
  t.is(stuck.manifests(), 0, 'no manifest was put');
  t.deepEqual(storeBlobs(t, root), before);
  t.deepEqual(fs.readdirSync(path.join(root, 'tmp')).filter((n) => !n.startsWith('session-')), []);
});
