// SPEC §Scale-out: --cache-to exports the build cache, --cache-from lets "another runner" (a
// fresh store, another context folder) take the steps as CACHED without running them, through a
// shared folder (type=local) and through Debian's docker-registry on 127.0.0.1 (type=registry).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { apiBuild } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { hasCommand, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { haveDistribution, startDistribution } from '../registry/helpers/distribution.js';

const DOCKERFILE = `FROM busybox:latest
RUN echo step-one-ran && echo one > /one
COPY app.txt /app/app.txt
RUN echo step-two-ran && wc -c /app/app.txt > /app/size
ENV MODE=prod
`;

/** A context folder of its own (as on another runner) with the same Dockerfile. */
function context(app = 'hello\n'): string {
  const dir = tempDir('cachectx');
  writeFiles(dir, { Dockerfile: DOCKERFILE, 'app.txt': app });
  return dir;
}

/** --timestamp makes the two runners' images comparable digest for digest. */
async function buildWith(root: string, ctx: string, cacheArgs: string[]): Promise<{ code: number; stderr: string; digest: string }> {
  const iid = path.join(tempDir('cacheiid'), 'meta.json');
  const r = await apiBuild(root, ctx, ['--timestamp', '1700000000', '--metadata-file', iid, ...cacheArgs]);
  const digest = r.code === 0 ? (JSON.parse(fs.readFileSync(iid, 'utf8')) as Record<string, string>)['containerimage.digest'] : '';
  return { code: r.code, stderr: r.stderr, digest };
}

function ranSteps(stderr: string): string[] {
  return [...stderr.matchAll(/^#\d+ (step-\w+-ran)$/gm)].map((m) => m[1]);
}

test('type=local: a fresh store reuses the exported cache without running the steps', async (t) => {
  const cacheDir = path.join(tempDir('cachedir'), 'cache');
  const first = await buildWith(await apiStoreWithBusybox(), context(), ['--cache-to', `type=local,dest=${cacheDir}`]);
  t.is(first.code, 0, first.stderr);
  t.deepEqual(ranSteps(first.stderr), ['step-one-ran', 'step-two-ran']);
  // The export is an OCI layout whose one manifest has the records as config and the layers as layers.
  const index = JSON.parse(fs.readFileSync(path.join(cacheDir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const blob = (d: string): string => path.join(cacheDir, 'blobs', 'sha256', d.slice(7));
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), 'utf8')) as { config: { mediaType: string; digest: string }; layers: { digest: string }[] };
  t.is(manifest.config.mediaType, 'application/vnd.nbuild.cache.config.v1+json');
  t.is(manifest.layers.length, 3, 'RUN, COPY, RUN layers');
  for (const l of manifest.layers) t.is(`sha256:${execFileSync('sha256sum', [blob(l.digest)]).toString().split(' ')[0]}`, l.digest);

  const second = await buildWith(await apiStoreWithBusybox(), context(), ['--cache-from', `type=local,src=${cacheDir}`]);
  t.is(second.code, 0, second.stderr);
  t.deepEqual(ranSteps(second.stderr), [], second.stderr);
  t.is((second.stderr.match(/^#\d+ CACHED$/gm) ?? []).length, 3, second.stderr);
  t.is(second.digest, first.digest, 'the same image, digest for digest');

  // A changed file re-runs from the COPY on; the first RUN still comes from the cache.
  const changed = await buildWith(await apiStoreWithBusybox(), context('changed\n'), ['--cache-from', `type=local,src=${cacheDir}`]);
  t.is(changed.code, 0, changed.stderr);
  t.deepEqual(ranSteps(changed.stderr), ['step-two-ran']);
  t.not(changed.digest, first.digest);
});

test('type=local: a tampered layer blob in the cache is refused, never adopted', async (t) => {
  const cacheDir = path.join(tempDir('cachedir'), 'cache');
  const first = await buildWith(await apiStoreWithBusybox(), context(), ['--cache-to', `type=local,dest=${cacheDir}`]);
  t.is(first.code, 0, first.stderr);
  const index = JSON.parse(fs.readFileSync(path.join(cacheDir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const blob = (d: string): string => path.join(cacheDir, 'blobs', 'sha256', d.slice(7));
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), 'utf8')) as { layers: { digest: string; size: number }[] };
  // Same size, other bytes: only hashing while reading can tell.
  for (const l of manifest.layers) fs.writeFileSync(blob(l.digest), Buffer.alloc(l.size, 0x41));
  const root = await apiStoreWithBusybox();
  const second = await buildWith(root, context(), ['--cache-from', `type=local,src=${cacheDir}`]);
  t.is(second.code, 0, second.stderr);
  t.regex(second.stderr, /WARNING: cache from .* not used: .*layer sha256:[0-9a-f]{64}.*the descriptor says/);
  t.deepEqual(ranSteps(second.stderr), ['step-one-ran', 'step-two-ran'], 'no step taken from a corrupt cache');
  for (const l of manifest.layers) {
    const inStore = path.join(root, 'blobs', 'sha256', l.digest.slice(7));
    if (fs.existsSync(inStore)) t.not(fs.readFileSync(inStore).toString('hex', 0, 8), Buffer.alloc(8, 0x41).toString('hex'), 'the tampered bytes are not in the store');
  }
});

test('a missing cache is a warning, not a failure', async (t) => {
  const r = await buildWith(await apiStoreWithBusybox(), context(), ['--cache-from', `type=local,src=${path.join(tempDir('nocache'), 'none')}`]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /WARNING: cache from .*none not used: no build cache/);
  t.deepEqual(ranSteps(r.stderr), ['step-one-ran', 'step-two-ran']);
});

(haveDistribution && hasCommand('skopeo') ? test.serial : test.serial.skip)('type=registry: the cache round-trips through a registry', async (t) => {
  const reg = await startDistribution();
  t.teardown(() => reg.stop());
  const conf = path.join(tempDir('cacheconf'), 'registries.toml');
  fs.writeFileSync(conf, '');
  // build() reads the registries config from this process's environment (a serial test: none runs beside it).
  const before = process.env.NBUILD_REGISTRIES_CONFIG;
  process.env.NBUILD_REGISTRIES_CONFIG = conf;
  t.teardown(() => (before === undefined ? delete process.env.NBUILD_REGISTRIES_CONFIG : (process.env.NBUILD_REGISTRIES_CONFIG = before)));
  const ref = `${reg.host}/cache/app:buildcache`;
  const first = await buildWith(await apiStoreWithBusybox(), context(), ['--cache-to', `type=registry,ref=${ref}`]);
  t.is(first.code, 0, first.stderr);
  const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]).toString()) as { config: { mediaType: string }; layers: unknown[] };
  t.is(raw.config.mediaType, 'application/vnd.nbuild.cache.config.v1+json');
  t.is(raw.layers.length, 3);

  const second = await buildWith(await apiStoreWithBusybox(), context(), ['--cache-from', `type=registry,ref=${ref}`]);
  t.is(second.code, 0, second.stderr);
  t.deepEqual(ranSteps(second.stderr), [], second.stderr);
  t.is((second.stderr.match(/^#\d+ CACHED$/gm) ?? []).length, 3, second.stderr);
  t.is(second.digest, first.digest);
});
