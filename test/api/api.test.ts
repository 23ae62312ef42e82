// The public API (package.json `exports` → dist/src/index.js), used as a library by a program
// that is not the CLI, as the unprivileged test user: build, list, inspect, save, rmi; and what
// src/index.ts documents about the user namespace (which calls need it, the error without it).
import test from 'ava';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as nbuild from '../../src/index.js';
import { flattenLayers } from '../helpers/tar-tree.js';
import { openOciArchive } from '../helpers/oci.js';
import { projectRoot, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';

const run = promisify(execFile);
const client = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'api-client.js');

test("the package's entry and its type declarations are the compiled src/index", (t) => {
  const entry = fileURLToPath(import.meta.resolve('nbuild'));
  t.is(entry, path.join(projectRoot, 'dist', 'src', 'index.js'));
  t.true(fs.existsSync(path.join(projectRoot, 'dist', 'src', 'index.d.ts')));
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { main: string; types: string };
  t.true(fs.existsSync(path.join(projectRoot, pkg.main)) && fs.existsSync(path.join(projectRoot, pkg.types)));
});

test('a plain node program enters the namespace, then builds, lists, inspects, saves and removes through the API', async (t) => {
  t.not(process.geteuid?.(), 0, 'the suite runs unprivileged (scripts/run-tests.sh)');
  const storeRoot = await storeWithBusybox();
  const ctx = tempDir('api-ctx');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nCOPY note.txt /note.txt\nRUN echo built-by-api > /made && chown 1234:5678 /made\n', 'note.txt': 'hello\n' });
  const archive = path.join(tempDir('api-out'), 'image.oci.tar');
  const { stdout } = await run(process.execPath, [client, storeRoot, ctx, archive], { env: process.env });
  const r = JSON.parse(stdout) as {
    euid: number;
    built: { id: string; manifest: string; names: string[] };
    events: string[];
    listed: nbuild.ImageSummary[];
    inspected: nbuild.ImageDetails[];
    removed: nbuild.RemoveImagesResult;
    after: nbuild.ImageSummary[];
  };
  t.is(r.euid, 0, 'the program ran on as root of its user namespace');
  t.deepEqual(r.built.names, ['docker.io/library/api-test:1']);
  t.true(r.events.includes('step-start'), r.events.join(','));
  const row = r.listed.find((i) => i.repository === 'api-test');
  t.like(row, { tag: '1', id: r.built.id, digest: r.built.manifest, multiPlatform: false });
  t.true(r.listed.some((i) => i.repository === 'busybox' && i.tag === 'latest'));
  t.is(r.inspected.length, 1);
  t.like(r.inspected[0], { Id: r.built.id, Digest: r.built.manifest, RepoTags: ['api-test:1'] });
  t.is(r.inspected[0].RootFS.Layers.length, 3, 'busybox, COPY, RUN');
  t.deepEqual(r.removed.lines, ['Untagged: api-test:1', `Deleted: ${r.built.manifest}`]);
  t.false(r.after.some((i) => i.repository === 'api-test'));
  t.true(r.after.some((i) => i.repository === 'busybox'));
  // The archive, read with GNU tar and a tar parser of the tests' own: the saved image.
  const saved = openOciArchive(archive);
  t.is(saved.index.manifests[0].digest, r.built.manifest);
  const tree = flattenLayers(saved.manifest.layers.map((l) => saved.blob(l.digest)));
  t.like(tree.get('made'), { type: 'file', owner: '1234:5678', size: 'built-by-api\n'.length });
  t.like(tree.get('note.txt'), { type: 'file', size: 6 });
});

test('without the user namespace, the calls src/index.ts names fail with USERNS; the others work', async (t) => {
  const storeRoot = await storeWithBusybox();
  const archive = path.join(tempDir('api-save'), 'busybox.tar');
  await nbuild.saveImages({ storeRoot, images: ['busybox:latest'], output: archive, format: 'docker' });
  t.true(fs.statSync(archive).size > 0);
  await nbuild.tagImage({ storeRoot, source: 'busybox:latest', targets: ['again:2'] });
  const [details] = await nbuild.inspectImages({ storeRoot, images: ['again:2'] });
  t.deepEqual([...details.RepoTags].sort(), ['again:2', 'busybox:latest']);
  const history = await nbuild.imageHistory({ storeRoot, image: 'again:2' });
  const single = details as nbuild.ImageDetails;
  t.is(history.id, details.Id);
  t.is(history.entries.filter((h) => !h.emptyLayer).length, single.RootFS.Layers.length);
  // Newest first; an image without history gets one blank entry per layer.
  const expected = single.History.length > 0 ? [...single.History].reverse().map((h) => h.created_by ?? '') : single.RootFS.Layers.map(() => '');
  t.deepEqual(history.entries.map((h) => h.createdBy), expected);
  const lintCtx = tempDir('api-check');
  writeFiles(lintCtx, { Dockerfile: 'FROM busybox:latest\nCMD echo hi\n', 'Bad.Dockerfile': 'FROM busybox:latest\nCOPY\n' });
  const checked = await nbuild.checkDockerfile({ storeRoot, dockerfile: path.join(lintCtx, 'Dockerfile') });
  t.false(checked.failed);
  t.like(checked.findings[0], { severity: 'warning', rule: 'JSONArgsRecommended', line: 2 });
  const bad = await nbuild.checkDockerfile({ storeRoot, dockerfile: path.join(lintCtx, 'Bad.Dockerfile') });
  t.true(bad.failed);
  t.like(bad.findings.at(-1), { severity: 'error', line: 2 });
  const namespaced: [string, () => Promise<unknown>][] = [
    ['load', () => nbuild.loadImages({ storeRoot, input: archive })],
    ['rmi', () => nbuild.removeImages({ storeRoot, images: ['again:2'] })],
    ['prune', () => nbuild.pruneStore({ storeRoot })],
    ['store check', () => nbuild.checkStore({ storeRoot })],
  ];
  for (const [what, call] of namespaced) {
    const e = await t.throwsAsync(call, { instanceOf: nbuild.NbuildError });
    t.is(e?.code, 'USERNS', what);
    t.regex(e?.message ?? '', new RegExp(`^${what} needs the user namespace: call enterUserNamespace\\(\\)`));
  }
  // build() fails at the first thing that needs the namespace (unpacking busybox for its RUN step).
  const ctx = tempDir('api-ctx');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nRUN true\n' });
  const e = await t.throwsAsync(nbuild.build({ storeRoot, contextDir: ctx, pull: 'never' }), { instanceOf: nbuild.NbuildError });
  t.true(['NEEDS_USERNS', 'SANDBOX_NOT_IN_USERNS'].includes(e?.code ?? ''), `${e?.code}: ${e?.message}`);
  // Nothing was changed by the refused calls: both names are still there.
  const names = (await nbuild.listImages({ storeRoot })).map((i) => `${i.repository}:${i.tag}`).sort();
  t.deepEqual(names, ['again:2', 'busybox:latest']);
});
