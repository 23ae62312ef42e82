// The build engine's semantics through the API (as root of the unprivileged test user's namespace) —
// multi-stage, cache, squash, reproducible digests, instruction rules, outputs.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { apiBuild } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { tempDir, writeFiles, projectRoot } from '../helpers/nbuild-cli.js';
import { openOciArchive, listLayer } from '../helpers/oci.js';

async function buildTo(root: string, ctx: string, extra: string[] = []) {
  const out = path.join(tempDir('out'), 'image.tar');
  const r = await apiBuild(root, ctx, ['-o', `type=oci,dest=${out}`, ...extra]);
  return { ...r, out };
}

function fileInImage(archiveFile: string, name: string): string | undefined {
  const a = openOciArchive(archiveFile);
  for (const layer of [...a.manifest.layers].reverse()) {
    const blob = a.blob(layer.digest);
    if (listLayer(blob).some((e) => e.name === name)) {
      return execFileSync('tar', ['-xOf', blob, name]).toString();
    }
  }
  return undefined;
}

test('multi-stage: COPY --from, --target, and an unused failing stage is never built', async (t) => {
  const root = await apiStoreWithBusybox();
  const ctx = tempDir('multi');
  writeFiles(ctx, {
    Dockerfile: [
      'FROM busybox:latest AS builder',
      'RUN mkdir -p /out && echo built > /out/artifact && chown 1000:1000 /out/artifact',
      'FROM busybox:latest AS broken',
      'RUN exit 42',
      'FROM scratch AS final',
      'COPY --from=builder /out/artifact /artifact',
      'COPY --from=0 /out /copied/',
      '',
    ].join('\n'),
  });
  const r = await buildTo(root, ctx);
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.stderr, /exit 42/);
  t.is(fileInImage(r.out, 'artifact'), 'built\n');
  const a = openOciArchive(r.out);
  const entries = a.manifest.layers.flatMap((l) => listLayer(a.blob(l.digest)));
  t.is(entries.find((e) => e.name === 'artifact')?.owner, '1000/1000', 'COPY --from keeps the owner');
  t.truthy(entries.find((e) => e.name === 'copied/artifact'));
  // The builder's layer never reaches the image: it is stored uncompressed (no time spent on gzip).
  const records = fs.readdirSync(path.join(root, 'cache')).filter((n) => n.endsWith('.json') && n !== 'context-stat.json')
    .map((n) => JSON.parse(fs.readFileSync(path.join(root, 'cache', n), 'utf8')) as { record: { layer?: { mediaType: string } } });
  const mediaTypes = records.map((r) => r.record.layer?.mediaType).filter(Boolean);
  t.true(mediaTypes.includes('application/vnd.oci.image.layer.v1.tar'), mediaTypes.join(' '));
  t.true(a.manifest.layers.every((l) => l.mediaType.endsWith('+gzip')), 'the image itself is gzip');
  const broken = await buildTo(root, ctx, ['--target', 'broken']);
  t.is(broken.code, 1);
  t.regex(broken.stderr, /Dockerfile:4: RUN exit 42: .*code:? 42/);
});

test('cache: a rebuild is all cache hits; a content change misses from that step on; a touch hits', async (t) => {
  const root = await apiStoreWithBusybox();
  const ctx = tempDir('cache');
  writeFiles(ctx, {
    Dockerfile: 'FROM busybox:latest\nRUN echo first > /first\nCOPY data.txt /data.txt\nRUN cat /data.txt > /second\n',
    'data.txt': 'v1\n',
  });
  const first = await buildTo(root, ctx);
  t.is(first.code, 0, first.stderr);
  t.notRegex(first.stderr, /CACHED/);
  const second = await buildTo(root, ctx);
  t.is(second.code, 0, second.stderr);
  t.is((second.stderr.match(/CACHED/g) ?? []).length, 3, second.stderr);
  t.deepEqual(openOciArchive(second.out).manifest.layers, openOciArchive(first.out).manifest.layers, 'a hit reuses the same layers');
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(path.join(ctx, 'data.txt'), later, later);
  const touched = await buildTo(root, ctx);
  t.is((touched.stderr.match(/CACHED/g) ?? []).length, 3, 'an mtime change is not a content change');
  fs.writeFileSync(path.join(ctx, 'data.txt'), 'v2\n');
  const changed = await buildTo(root, ctx);
  t.is(changed.code, 0, changed.stderr);
  t.is((changed.stderr.match(/CACHED/g) ?? []).length, 1, changed.stderr);
  t.is(fileInImage(changed.out, 'second'), 'v2\n');
  const noCache = await buildTo(root, ctx, ['--no-cache']);
  t.is(noCache.code, 0, noCache.stderr);
  t.notRegex(noCache.stderr, /CACHED/);
  t.regex(noCache.stderr, /DONE/);
});

test('--squash keeps the base layers and makes one of the rest; --squash-all makes one in all', async (t) => {
  const root = await apiStoreWithBusybox();
  const ctx = tempDir('squash');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nRUN echo a > /a && echo b > /b\nRUN rm /b && echo c > /c\nRUN rm /bin/ls\n' });
  const squashed = await buildTo(root, ctx, ['--squash']);
  t.is(squashed.code, 0, squashed.stderr);
  const a = openOciArchive(squashed.out);
  t.is(a.manifest.layers.length, 2);
  const names = listLayer(a.blob(a.manifest.layers[1].digest)).map((e) => e.name);
  t.true(names.includes('a') && names.includes('c') && names.includes('bin/.wh.ls'), names.join(' '));
  t.false(names.includes('b') || names.includes('.wh.b'), 'a file made and deleted inside the build leaves nothing');
  t.is(a.config.history.filter((h) => !h.empty_layer).length, 2);
  const all = await buildTo(root, ctx, ['--squash-all']);
  t.is(all.code, 0, all.stderr);
  const b = openOciArchive(all.out);
  t.is(b.manifest.layers.length, 1);
  const allNames = listLayer(b.blob(b.manifest.layers[0].digest)).map((e) => e.name);
  t.true(allNames.includes('bin/sh') && allNames.includes('a'));
  t.false(allNames.includes('bin/ls') || allNames.some((n) => n.includes('.wh.')));
});

test('reproducible: same inputs give the same digest, whatever mtimes and umask', async (t) => {
  const ctxA = tempDir('reproA');
  const ctxB = tempDir('reproB');
  const files = { Dockerfile: 'FROM busybox:latest\nCOPY . /src/\nRUN mkdir /made && echo x > /made/file\n', 'a.txt': 'a\n', 'sub/b.txt': 'b\n' };
  writeFiles(ctxA, files);
  writeFiles(ctxB, files);
  const old = new Date('2001-01-01T00:00:00Z');
  for (const f of ['a.txt', 'sub/b.txt', 'Dockerfile']) fs.utimesSync(path.join(ctxB, f), old, old);
  // A through the API (the epoch as a build arg, as the CLI passes $SOURCE_DATE_EPOCH), B through
  // bin/nbuild under umask 077 with the epoch in its environment: the same image.
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const a = await buildTo(await apiStoreWithBusybox(), ctxA, ['--no-cache', '--build-arg', 'SOURCE_DATE_EPOCH=1700000000']);
  t.is(a.code, 0, a.stderr);
  const rootB = await apiStoreWithBusybox();
  const outB = path.join(tempDir('out'), 'b.tar');
  const b = execFileSync('sh', ['-c', `umask 077; exec "$0" "$@"`, path.join(projectRoot, 'bin/nbuild'), '--root', rootB, 'build', '--no-cache', '--progress', 'quiet', '-o', outB, ctxB], { env: { ...process.env, ...env } });
  t.truthy(b.toString());
  t.is(openOciArchive(a.out).index.manifests[0].digest, openOciArchive(outB).index.manifests[0].digest);
  t.is(openOciArchive(a.out).config.created, '2023-11-14T22:13:20Z');
});

test('instruction semantics users trip over', async (t) => {
  const root = await apiStoreWithBusybox();
  const ctx = tempDir('semantics');
  writeFiles(ctx, {
    Dockerfile: [
      'FROM busybox:latest',
      'ARG SECRET_ARG=not-in-env',
      'ENV FROM_ENV=yes',
      'WORKDIR /a',
      'WORKDIR b',
      'RUN pwd > /pwd.txt && echo "$SECRET_ARG" > /arg.txt',
      'USER www-data',
      'WORKDIR /owned-workdir',
      'USER root',
      'SHELL ["/bin/sh", "-c", "-e"]',
      'RUN echo shell-form > /shell.txt',
      'COPY --chown=www-data:staff --chmod=640 f.txt /owned.txt',
      'COPY --chown=1000 f.txt /numeric.txt',
      'COPY <<EOF /heredoc.txt',
      'from a heredoc',
      'EOF',
      'RUN <<EOS',
      'echo line1 > /run-heredoc.txt',
      'echo line2 >> /run-heredoc.txt',
      'EOS',
      'COPY links/ /links/',
      'ENTRYPOINT ["/bin/echo"]',
      'HEALTHCHECK --interval=30s --retries=3 CMD ["true"]',
      'STOPSIGNAL SIGTERM',
      'VOLUME /data',
      'ONBUILD RUN echo triggered > /onbuild.txt',
      '',
    ].join('\n'),
    'f.txt': 'f\n',
    'links/target.txt': 'target\n',
  });
  fs.symlinkSync('target.txt', path.join(ctx, 'links/sym'));
  fs.linkSync(path.join(ctx, 'links/target.txt'), path.join(ctx, 'links/hard'));
  const r = await buildTo(root, ctx, ['-t', 'semantics:latest']);
  t.is(r.code, 0, r.stderr);
  const a = openOciArchive(r.out);
  const c = a.config.config as Record<string, unknown>;
  t.is(fileInImage(r.out, 'pwd.txt'), '/a/b\n');
  t.is(fileInImage(r.out, 'arg.txt'), 'not-in-env\n');
  t.false((c.Env as string[]).some((e) => e.startsWith('SECRET_ARG')), 'ARG values are not in Env');
  t.is(c.WorkingDir, '/owned-workdir');
  t.is(c.Cmd, null, 'ENTRYPOINT resets the inherited CMD');
  t.deepEqual(c.Entrypoint, ['/bin/echo']);
  t.deepEqual(c.Shell, ['/bin/sh', '-c', '-e']);
  t.deepEqual(c.Healthcheck, { Test: ['CMD', 'true'], Interval: 30_000_000_000, Retries: 3 });
  t.is(c.StopSignal, 'SIGTERM');
  t.deepEqual(c.Volumes, { '/data': {} });
  t.deepEqual(c.OnBuild, ['RUN echo triggered > /onbuild.txt']);
  t.is(fileInImage(r.out, 'heredoc.txt'), 'from a heredoc\n');
  t.is(fileInImage(r.out, 'run-heredoc.txt'), 'line1\nline2\n');
  const entries = new Map(a.manifest.layers.flatMap((l) => listLayer(a.blob(l.digest))).map((e) => [e.name, e]));
  t.is(entries.get('owned.txt')?.owner, '33/50');
  t.is(entries.get('a/b')?.mode, 'drwxr-xr-x', 'WORKDIR creates its folder');
  t.is(entries.get('owned-workdir')?.owner, '33/33', 'WORKDIR makes its folder as USER');
  t.is(entries.get('owned.txt')?.mode, '-rw-r-----');
  t.is(entries.get('numeric.txt')?.owner, '1000/1000');
  t.is(entries.get('links/sym')?.link, 'target.txt');
  t.truthy(entries.get('links/hard')?.link ?? entries.get('links/target.txt')?.link, 'hard links stay hard links');
  // ONBUILD fires in an image built FROM this one.
  const child = tempDir('child');
  writeFiles(child, { Dockerfile: 'FROM semantics:latest\nRUN cat /onbuild.txt\n' });
  const rc = await buildTo(root, child);
  t.is(rc.code, 0, rc.stderr);
  t.is(fileInImage(rc.out, 'onbuild.txt'), 'triggered\n');
  t.is((openOciArchive(rc.out).config.config as Record<string, unknown>).OnBuild ?? null, null);
});

test('outputs: oci-layout, docker, local and tar, several at once, with iidfile and metadata-file', async (t) => {
  const root = await apiStoreWithBusybox();
  const ctx = tempDir('outputs');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nRUN echo out > /out.txt\n' });
  const dir = tempDir('dests');
  const r = await apiBuild(root, ctx, [
    '-t', 'outs:1',
    '-o', `type=oci-layout,dest=${dir}/layout`,
    '-o', `type=docker,dest=${dir}/docker.tar`,
    '-o', `type=local,dest=${dir}/rootfs`,
    '-o', `type=tar,dest=${dir}/rootfs.tar`,
    '--iidfile', `${dir}/iid`, '--metadata-file', `${dir}/meta.json`,
  ]);
  t.is(r.code, 0, r.stderr);
  t.true(fs.existsSync(path.join(dir, 'layout/index.json')));
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', `${dir}/docker.tar`, 'manifest.json']).toString());
  t.deepEqual(manifest[0].RepoTags, ['outs:1']);
  t.is(fs.readFileSync(path.join(dir, 'rootfs/out.txt'), 'utf8'), 'out\n');
  t.true(fs.existsSync(path.join(dir, 'rootfs/bin/busybox')));
  t.regex(execFileSync('tar', ['-tf', `${dir}/rootfs.tar`]).toString(), /out\.txt/);
  const iid = fs.readFileSync(path.join(dir, 'iid'), 'utf8');
  t.regex(iid, /^sha256:[0-9a-f]{64}$/);
  t.is(r.stdout.trim(), iid);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  t.is(meta['containerimage.config.digest'], iid);
});

test('COPY --parents keeps source paths (with the /./ pivot); --platform takes any platform (no RUN: no emulator)', async (t) => {
  const root = await apiStoreWithBusybox();
  const ctx = tempDir('parents');
  writeFiles(ctx, {
    Dockerfile: 'FROM scratch\nCOPY --parents a/b/f.txt c/./d/g.txt /dest/\nCOPY --parents x/*.json /json/\n',
    'a/b/f.txt': 'f\n',
    'c/d/g.txt': 'g\n',
    'x/1.json': '{}\n',
    'x/2.json': '[]\n',
    'x/skip.txt': 'no\n',
  });
  const r = await buildTo(root, ctx);
  t.is(r.code, 0, r.stderr);
  const a = openOciArchive(r.out);
  const names = a.manifest.layers.flatMap((l) => listLayer(a.blob(l.digest)).map((e) => e.name));
  for (const want of ['dest/a/b/f.txt', 'dest/d/g.txt', 'json/x/1.json', 'json/x/2.json']) t.true(names.includes(want), `${want} in ${names.join(' ')}`);
  t.false(names.some((n) => n.includes('skip.txt') || n.startsWith('dest/c')));
  const wrong = await apiBuild(root, ctx, ['--platform', 'linux/s390']);
  t.is(wrong.code, 0, 'a foreign platform with no RUN needs no emulator');
  // A --platform that is not one is the CLI's error: test/cli/build-options.test.ts.
});

test('COPY --exclude: patterns relative to each source, top-level sources included, ! exceptions', async (t) => {
  const root = await apiStoreWithBusybox();
  const ctx = tempDir('exclude');
  writeFiles(ctx, {
    Dockerfile: 'FROM scratch\nCOPY --exclude=*.log --exclude=cache --exclude=!keep.log src/ /app/\nCOPY --exclude=*.txt top* /top/\n',
    'src/a.js': 'a\n',
    'src/debug.log': 'no\n',
    'src/keep.log': 'yes\n',
    'src/cache/x': 'no\n',
    'src/sub/b.js': 'b\n',
    'top1.txt': 'no\n',
    'top2.md': 'yes\n',
  });
  const r = await buildTo(root, ctx);
  t.is(r.code, 0, r.stderr);
  const a = openOciArchive(r.out);
  const names = a.manifest.layers.flatMap((l) => listLayer(a.blob(l.digest)).map((e) => e.name));
  for (const want of ['app/a.js', 'app/keep.log', 'app/sub/b.js', 'top/top2.md']) t.true(names.includes(want), `${want} in ${names.join(' ')}`);
  for (const gone of ['app/debug.log', 'app/cache/x', 'top/top1.txt']) t.false(names.includes(gone), `${gone} excluded`);
});
