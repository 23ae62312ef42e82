// SPEC §Registries, air gap: FROM oci-archive:PATH[:TAG], oci:DIR[:TAG] and docker-archive:PATH,
// with the archives written by skopeo (not by nbuild), built through the API (build()).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listImages } from '../../src/index.js';
import { apiBuild } from '../helpers/api-build.js';
import { busyboxImage, hasCommand, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { openOciArchive } from '../helpers/oci.js';

const skopeo = hasCommand('skopeo') ? test : test.skip;

interface Fixture {
  /** An OCI layout folder with two images: `v1` (busybox) and `marked` (busybox + /marker). */
  layout: string;
  /** The same layout as an OCI archive. */
  archive: string;
  /** A `docker save` style archive of busybox:latest. */
  docker: string;
}

let fixture: Promise<Fixture> | undefined;

/** Made once: skopeo copies the busybox image, and an nbuild-built variant, into each transport. */
function makeFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    const dir = tempDir('transports');
    const root = tempDir('transports-store');
    const ctx = tempDir('transports-ctx');
    writeFiles(ctx, { Dockerfile: `FROM oci-archive:${busyboxImage()}\nRUN echo marked > /marker\n` });
    const marked = path.join(dir, 'marked.tar');
    const r = await apiBuild(root, ctx, ['-o', `type=oci,dest=${marked}`]);
    if (r.code !== 0) throw new Error(`building the marked image failed: ${r.stderr}`);
    const layout = path.join(dir, 'layout');
    execFileSync('skopeo', ['copy', `oci-archive:${busyboxImage()}`, `oci:${layout}:v1`], { stdio: 'pipe' });
    execFileSync('skopeo', ['copy', `oci-archive:${marked}`, `oci:${layout}:marked`], { stdio: 'pipe' });
    const archive = path.join(dir, 'two.oci.tar');
    execFileSync('tar', ['-C', layout, '-cf', archive, '.']);
    const docker = path.join(dir, 'busybox.docker.tar');
    execFileSync('skopeo', ['copy', `oci-archive:${busyboxImage()}`, `docker-archive:${docker}:busybox:latest`], { stdio: 'pipe' });
    return { layout, archive, docker };
  })();
  return fixture;
}

/** Builds `FROM <from>` + a RUN that lists /marker in a fresh store; returns the outcome and the image's layer count. */
async function buildFrom(from: string): Promise<{ code: number; stderr: string; layers: number; marker: boolean }> {
  const root = tempDir('from-store');
  const ctx = tempDir('from-ctx');
  writeFiles(ctx, { Dockerfile: `FROM ${from}\nRUN if [ -f /marker ]; then echo yes > /has-marker; else echo no > /has-marker; fi\n` });
  const out = path.join(tempDir('from-out'), 'image.tar');
  const r = await apiBuild(root, ctx, ['-o', `type=oci,dest=${out}`]);
  if (r.code !== 0) return { code: r.code, stderr: r.stderr, layers: 0, marker: false };
  const image = openOciArchive(out);
  const last = image.blob(image.manifest.layers[image.manifest.layers.length - 1].digest);
  const content = execFileSync('tar', ['-xzOf', last, 'has-marker']).toString().trim();
  // FROM a file must not name anything in the store (the base stays unnamed).
  const names = (await listImages({ storeRoot: root })).map((i) => `${i.repository}:${i.tag}`).join('\n');
  if (/busybox/.test(names)) throw new Error(`FROM ${from} named images in the store: ${names}`);
  return { code: r.code, stderr: r.stderr, layers: image.manifest.layers.length, marker: content === 'yes' };
}

skopeo('FROM oci-archive:PATH (one image) and oci-archive:PATH:TAG (two images)', async (t) => {
  const f = await makeFixture();
  const plain = await buildFrom(`oci-archive:${busyboxImage()}`);
  t.is(plain.code, 0, plain.stderr);
  t.false(plain.marker);
  const tagged = await buildFrom(`oci-archive:${f.archive}:marked`);
  t.is(tagged.code, 0, tagged.stderr);
  t.true(tagged.marker, 'the :marked tag picks the image with /marker');
  t.is(tagged.layers, plain.layers + 1);
  const v1 = await buildFrom(`oci-archive:${f.archive}:v1`);
  t.is(v1.code, 0, v1.stderr);
  t.false(v1.marker);
});

skopeo('FROM oci:DIR:TAG picks by tag; two images without a tag is a clear error', async (t) => {
  const f = await makeFixture();
  const marked = await buildFrom(`oci:${f.layout}:marked`);
  t.is(marked.code, 0, marked.stderr);
  t.true(marked.marker);
  const v1 = await buildFrom(`oci:${f.layout}:v1`);
  t.is(v1.code, 0, v1.stderr);
  t.false(v1.marker);
  const ambiguous = await buildFrom(`oci:${f.layout}`);
  t.is(ambiguous.code, 1);
  t.regex(ambiguous.stderr, /holds 2 images; name one with oci:.*:TAG/);
  const wrong = await buildFrom(`oci:${f.layout}:nope`);
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, new RegExp(`no image tagged nope in ${escape(f.layout)} \\(it has: .*v1`));
  t.notRegex(wrong.stderr, /\n\s+at /, 'no stack trace');
});

skopeo('FROM docker-archive:PATH', async (t) => {
  const f = await makeFixture();
  const r = await buildFrom(`docker-archive:${f.docker}`);
  t.is(r.code, 0, r.stderr);
  t.false(r.marker);
  const named = await buildFrom(`docker-archive:${f.docker}:busybox:latest`);
  t.is(named.code, 0, named.stderr);
});

test('a missing file or folder is one clear error naming the path', async (t) => {
  const missing = path.join(tempDir('missing'), 'nope.tar');
  for (const from of [`oci-archive:${missing}`, `oci-archive:${missing}:v1`, `oci:${missing}`, `docker-archive:${missing}`]) {
    const r = await buildFrom(from);
    t.is(r.code, 1, from);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('nbuild:'));
    t.is(lines.length, 1, r.stderr);
    t.regex(r.stderr, new RegExp(`${escape(missing)} does not exist`), from);
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const file = path.join(tempDir('notdir'), 'x.tar');
  fs.writeFileSync(file, 'not a tar');
  const notDir = await buildFrom(`oci:${file}`);
  t.is(notDir.code, 1);
  t.regex(notDir.stderr, /is not a folder/);
  const garbage = await buildFrom(`oci-archive:${file}`);
  t.is(garbage.code, 1);
  t.regex(garbage.stderr, new RegExp(`FROM oci-archive:${escape(file)}: `));
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
