// Adversarial, end to end as the unprivileged user (issue 13, Deliver 5): the hostile archives and
// layers of test/helpers/hostile-archives.ts go through the CLI the way a user meets them —
// `nbuild load` of a hostile OCI archive, `FROM` a hostile image, `ADD` of a hostile tar — and
// each is aimed at a victim folder beside the store. The victim (and everything else outside
// the store) is snapshotted before and after and must be unchanged; a refused input is one line
// on stderr, with a non-zero exit, and leaves no name, no temp file and no problem in the store.
import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { busyboxImage, nbuild, tempDir, writeFiles, type RunResult } from '../helpers/nbuild-cli.js';
import { buildTar, gzipLayer, hostileLayers, hostileOciArchives, imageOf, writeOciArchive, type ArchiveImage } from '../helpers/hostile-archives.js';
import { fingerprint } from '../helpers/tree-fingerprint.js';

interface Scene {
  top: string;
  /** The victim: a folder of "the user's" files that every case aims at. */
  victim: string;
  /** Inputs (archives, contexts): outside the store too, so also snapshotted. */
  inputs: string;
  store: string;
}

function scene(): Scene {
  const top = tempDir('sec-hostile');
  const victim = path.join(top, 'victim');
  writeFiles(victim, { passwd: 'root:x:0:0::/root:/bin/sh\n', '.ssh/id_rsa': 'FAKE KEY\n', 'docs/notes.txt': 'notes\n' });
  fs.symlinkSync('docs', path.join(victim, 'link-to-docs'));
  const inputs = path.join(top, 'inputs');
  fs.mkdirSync(inputs);
  return { top, victim, inputs, store: path.join(top, 'store') };
}

/** Everything outside the store: the victim, the inputs, and the other names beside them. */
function outside(s: Scene): string[] {
  const top = fs.readdirSync(s.top).filter((n) => n !== 'store').sort();
  return [`top: ${top.join(' ')}`, ...lines('victim', s.victim), ...lines('inputs', s.inputs)];
}

/** One line per entry below `dir` (not the folder itself), prefixed with `name/`. */
function lines(name: string, dir: string): string[] {
  return [...fingerprint(dir, { portable: true })].map(([rel, desc]) => `${name}/${rel} ${desc}`);
}

function cli(s: Scene, ...args: string[]): Promise<RunResult> {
  return nbuild(['--root', s.store, ...args]);
}

/** A refusal is one line naming what was refused, exit status 1, no stack trace. */
function assertRefused(t: ExecutionContext, r: RunResult, pattern: RegExp): void {
  t.is(r.code, 1, r.stdout + r.stderr);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('nbuild: '));
  t.is(lines.length, 1, r.stderr);
  t.regex(lines[0] ?? '', pattern);
  t.notRegex(r.stderr, /internal error|\n\s+at /);
}

/** The store kept no name and no temp file of the failed command (and, with `check`, `store check` finds nothing wrong). */
async function assertStoreClean(t: ExecutionContext, s: Scene, names: string[], check = true): Promise<void> {
  const refsFile = path.join(s.store, 'refs.json');
  const refs = fs.existsSync(refsFile) ? (JSON.parse(fs.readFileSync(refsFile, 'utf8')) as { names: Record<string, string> }) : { names: {} };
  t.deepEqual(Object.keys(refs.names).sort(), names.sort());
  t.deepEqual(fs.readdirSync(path.join(s.store, 'tmp')).filter((n) => !n.startsWith('session-')), []);
  if (!check) return;
  const r = await cli(s, 'store', 'check');
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, / 0 problem/);
}

/** A small good image (two layers) as ArchiveImage, for the archive cases to start from. */
function goodImage(): ArchiveImage {
  return imageOf([
    gzipLayer(buildTar([{ name: 'etc/', type: '5' }, { name: 'etc/hostname', data: 'good\n' }])),
    gzipLayer(buildTar([{ name: 'app/', type: '5' }, { name: 'app/run', data: '#!/bin/sh\n', mode: 0o755 }])),
  ]);
}

for (const [i, c] of hostileOciArchives('/victim').entries()) {
  test(`load of a hostile OCI archive: ${c.title}`, async (t) => {
    const s = scene();
    const hostile = hostileOciArchives(s.victim)[i];
    const good = path.join(s.inputs, 'good.tar');
    const img = goodImage();
    await writeOciArchive(good, img);
    const bad = path.join(s.inputs, 'bad.tar');
    await hostile.make(good, img, bad);
    const before = outside(s);
    const r = await cli(s, 'load', '-i', bad, '-t', 'hostile:1');
    assertRefused(t, r, hostile.message);
    t.deepEqual(outside(s), before);
    await assertStoreClean(t, s, [], false); // a load writes no unpacked layer
  });
}

for (const [i, c] of hostileLayers('/victim').entries()) {
  test(`FROM a hostile image: ${c.title}`, async (t) => {
    const s = scene();
    const layer = hostileLayers(s.victim)[i];
    const archive = path.join(s.inputs, 'hostile.oci.tar');
    const tar = buildTar(layer.entries);
    await writeOciArchive(archive, imageOf([gzipLayer(tar)]));
    const ctx = path.join(s.inputs, 'ctx');
    writeFiles(ctx, { Dockerfile: `FROM oci-archive:${archive}\nCOPY f /f\n`, f: 'f\n' });
    const before = outside(s);
    const r = await cli(s, 'build', '--progress', 'plain', '-t', 'out:1', ctx);
    if (layer.code === undefined) t.is(r.code, 0, r.stderr);
    else assertRefused(t, r, /cannot unpack layer sha256:[0-9a-f]{64} \(blob sha256:[0-9a-f]{64}\): /);
    t.deepEqual(outside(s), before);
    await assertStoreClean(t, s, layer.code === undefined ? ['docker.io/library/out:1'] : []);
  });
}

// A store with busybox loaded (blobs only, so the test user can copy it), one copy per ADD case.
let busyboxStore: string;
test.before(async () => {
  busyboxStore = path.join(tempDir('sec-busybox'), 'store');
  const r = await nbuild(['--root', busyboxStore, 'load', '-i', busyboxImage(), '-t', 'busybox:latest']);
  if (r.code !== 0) throw new Error(r.stderr);
});

for (const [i, c] of hostileLayers('/victim').entries()) {
  test(`ADD of a hostile tar: ${c.title}`, async (t) => {
    const s = scene();
    fs.cpSync(busyboxStore, s.store, { recursive: true });
    const layer = hostileLayers(s.victim)[i];
    const ctx = path.join(s.inputs, 'ctx');
    writeFiles(ctx, { Dockerfile: 'FROM busybox\nADD evil.tar /dst/\n' });
    fs.writeFileSync(path.join(ctx, 'evil.tar'), buildTar(layer.entries));
    const before = outside(s);
    const r = await cli(s, 'build', '--progress', 'plain', '-t', 'out:1', ctx);
    // Refused with the line or the archive named (the extraction errors are row 3's: see its tests).
    if (r.code !== 0) assertRefused(t, r, /Dockerfile:2|evil\.tar/);
    t.deepEqual(outside(s), before);
    await assertStoreClean(t, s, r.code === 0 ? ['docker.io/library/busybox:latest', 'docker.io/library/out:1'] : ['docker.io/library/busybox:latest']);
  });
}
