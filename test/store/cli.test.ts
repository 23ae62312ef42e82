// The image commands end to end through bin/nbuild (run the suite as an
// unprivileged user to exercise the user-namespace re-exec).
import test from 'ava';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOciArchive } from '../../src/export/oci-archive.js';
import { Store } from '../../src/store/store.js';
import { makeImage, tempRoot } from './fixtures.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/nbuild');

function nbuild(root: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, ['--root', root, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function archive(dir: string): Promise<{ file: string; id: string }> {
  const src = await Store.open(path.join(dir, 'src'));
  const img = await makeImage(src, 'cli', 2);
  const file = path.join(dir, 'in.tar');
  await writeOciArchive(src, [{ image: img, names: ['cli/app:1'] }], file);
  return { file, id: img.id.short() };
}

test('load, images, tag, inspect, history, save, rmi, prune, store check', async (t) => {
  const dir = await tempRoot('nbuild-cli-');
  const root = path.join(dir, 'store');
  const { file, id } = await archive(dir);
  let r = await nbuild(root, 'load', '-i', file, '-t', 'extra:2');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Loaded image: cli\/app:1/);
  r = await nbuild(root, 'tag', 'cli/app:1', 'quay.io/o/app:3');
  t.is(r.code, 0, r.stderr);
  r = await nbuild(root, 'images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}');
  t.deepEqual(r.stdout.trim().split('\n').sort(), [`cli/app:1 ${id}`, `extra:2 ${id}`, `quay.io/o/app:3 ${id}`]);
  r = await nbuild(root, 'images', '--filter', 'reference=quay.io/*/*', '--json');
  t.deepEqual((JSON.parse(r.stdout) as { Tag: string }[]).map((x) => x.Tag), ['3']);
  r = await nbuild(root, 'images', '--filter', 'dangling=true', '-q');
  t.is(r.stdout, '');
  r = await nbuild(root, 'inspect', 'extra:2', '--format', '{{json .Config.Env}}');
  t.is(r.stdout.trim(), '["PATH=/usr/bin:/bin"]');
  r = await nbuild(root, 'history', 'extra:2');
  t.is(r.stdout.trim().split('\n').length, 4, r.stdout);
  const out = path.join(dir, 'out.tar');
  r = await nbuild(root, 'save', 'extra:2', '-o', out, '--format', 'docker');
  t.is(r.code, 0, r.stderr);
  t.true((await fs.stat(out)).size > 0);
  r = await nbuild(root, 'rmi', id);
  t.is(r.code, 1);
  t.regex(r.stderr, /3 names/);
  r = await nbuild(root, 'rmi', 'cli/app:1', 'quay.io/o/app:3', 'extra:2');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Deleted: sha256:/);
  r = await nbuild(root, 'prune', '-a');
  t.is(r.code, 0, r.stderr);
  r = await nbuild(root, 'store', 'check');
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /0 blob\(s\), 0 image\(s\), 0 unpacked layer\(s\) checked; 0 problem/);
  r = await nbuild(root, 'load', '-i', out);
  t.regex(r.stdout, /Loaded image: extra:2/);
});

test('errors: bad usage exits 2, a bad archive exits 1 with one clear line', async (t) => {
  const dir = await tempRoot('nbuild-cli-');
  const root = path.join(dir, 'store');
  await fs.writeFile(path.join(dir, 'junk.tar'), 'not a tar at all'.repeat(100));
  let r = await nbuild(root, 'load', '-i', path.join(dir, 'junk.tar'));
  t.is(r.code, 1);
  t.regex(r.stderr, /^nbuild: not a valid tar archive|^nbuild: cannot load/);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  r = await nbuild(root, 'tag', 'nothere', 'x');
  t.is(r.code, 1);
  t.regex(r.stderr, /no such image: nothere/);
  r = await nbuild(root, 'tag', 'x', 'Bad:Name');
  t.is(r.code, 2);
  r = await nbuild(root, 'images', '--filter', 'color=red');
  t.is(r.code, 2);
  r = await nbuild(root, 'prune', '--keep-storage', 'lots');
  t.is(r.code, 2);
});
