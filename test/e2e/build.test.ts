// End to end, as an unprivileged user: build a Dockerfile on the busybox base
// to an OCI archive, then check it with skopeo, umoci, tar, gzip and sha256sum.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nbuild, storeWithBusybox, tempDir, writeFiles, hasCommand } from '../helpers/nbuild-cli.js';
import { openOciArchive, sha256sum, diffIdOf, listLayer, type OpenedArchive } from '../helpers/oci.js';

const dockerfile = `FROM busybox:latest
ENV APP_HOME=/srv/app
WORKDIR $APP_HOME
RUN mkdir -p data && echo one > data/a.txt && echo two > data/b.txt && echo gone > /etc/motd
RUN echo changed > data/a.txt && rm data/b.txt && rm /etc/motd && rm -rf /home/user
RUN touch /owned-33 /owned-1000 /owned-65534 && chown 33:33 /owned-33 && chown 1000:1000 /owned-1000 && chown 65534:65534 /owned-65534
RUN ["/bin/sh", "-c", "echo exec-form > /exec.txt"]
COPY script.sh /usr/local/bin/
COPY conf/ /srv/app/conf/
LABEL maintainer.team="builders" version="1.0"
EXPOSE 8080/tcp
USER www-data
CMD ["script.sh"]
`;

let archive: OpenedArchive;
let buildOutput = '';

test.before(async () => {
  const root = await storeWithBusybox();
  const ctx = tempDir('ctx');
  writeFiles(ctx, {
    Dockerfile: dockerfile,
    'script.sh': '#!/bin/sh\necho hi\n',
    'conf/app.conf': 'port=8080\n',
    'conf/nested/deep.conf': 'deep\n',
    'conf/skip.log': 'ignored by .dockerignore\n',
    '.dockerignore': '**/*.log\n',
  });
  fs.chmodSync(path.join(ctx, 'script.sh'), 0o751);
  const out = path.join(tempDir('out'), 'image.tar');
  const r = await nbuild(['--root', root, 'build', '--progress', 'plain', '-t', 'e2e:latest', '-o', `type=oci,dest=${out}`, ctx]);
  buildOutput = r.stderr;
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  archive = openOciArchive(out);
  (archive as OpenedArchive & { file: string }).file = out;
});

test('the build ran as an unprivileged user', (t) => {
  t.not(process.getuid?.(), 0, 'run the tests as an unprivileged user (scripts/run-tests.sh does)');
  t.regex(buildOutput, /DONE/);
});

test('skopeo reads the OCI archive', (t) => {
  if (!hasCommand('skopeo')) return t.fail('skopeo is not installed (scripts/setup-host.sh installs it)');
  const file = (archive as OpenedArchive & { file: string }).file;
  const info = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${file}`]).toString());
  t.is(info.Architecture, process.arch === 'x64' ? 'amd64' : 'arm64');
  t.is(info.Layers.length, archive.manifest.layers.length);
  t.is(info.Labels.version, '1.0');
});

test('index.json names the image as the SPEC says', (t) => {
  const ann = archive.index.manifests[0].annotations ?? {};
  t.is(ann['org.opencontainers.image.ref.name'], 'latest');
  t.is(ann['io.containerd.image.name'], 'docker.io/library/e2e:latest');
  t.is(archive.manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  t.true(fs.existsSync(path.join(archive.dir, 'oci-layout')));
});

test('digests and diff_ids match the blobs and their tars', (t) => {
  t.is(archive.manifest.layers.length, archive.config.rootfs.diff_ids.length);
  archive.manifest.layers.forEach((layer, i) => {
    const file = archive.blob(layer.digest);
    t.is(sha256sum(file), layer.digest);
    t.is(fs.statSync(file).size, layer.size);
    t.is(layer.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    t.is(diffIdOf(file, layer.mediaType), archive.config.rootfs.diff_ids[i]);
    execFileSync('gzip', ['-t', file]);
  });
  t.is(sha256sum(archive.blob(archive.manifest.config.digest)), archive.manifest.config.digest);
});

test('the config holds what the Dockerfile wrote', (t) => {
  const c = archive.config.config as Record<string, unknown>;
  t.deepEqual(c.Cmd, ['script.sh']);
  t.is(c.User, 'www-data');
  t.is(c.WorkingDir, '/srv/app');
  t.true((c.Env as string[]).includes('APP_HOME=/srv/app'));
  t.deepEqual(c.ExposedPorts, { '8080/tcp': {} });
  t.deepEqual(c.Labels, { 'maintainer.team': 'builders', version: '1.0' });
  const history = archive.config.history;
  const withLayers = history.filter((h) => !h.empty_layer).length;
  t.is(withLayers, archive.config.rootfs.diff_ids.length);
  t.true(history.some((h) => h.empty_layer && /^ENV APP_HOME/.test(h.created_by ?? '')));
});

function layerEntries(i: number) {
  const base = 2; // the busybox layer, then WORKDIR's (it creates /srv/app)
  return listLayer(archive.blob(archive.manifest.layers[base + i].digest));
}

test('RUN layers hold changes, whiteouts and ids mapped back to the image', (t) => {
  t.is(archive.manifest.layers.length, 1 + 1 + 4 + 2);
  const workdir = listLayer(archive.blob(archive.manifest.layers[1].digest));
  t.deepEqual(workdir.map((e) => `${e.name} ${e.owner} ${e.mode}`), ['srv 0/0 drwxr-xr-x', 'srv/app 0/0 drwxr-xr-x'], 'WORKDIR creates its folder');
  const first = layerEntries(0).map((e) => e.name);
  t.true(first.includes('srv/app/data/a.txt'));
  t.true(first.includes('etc/motd'));
  const second = layerEntries(1);
  const names = second.map((e) => e.name);
  t.true(names.includes('srv/app/data/.wh.b.txt'), names.join(' '));
  t.true(names.includes('etc/.wh.motd'));
  t.true(names.includes('home/.wh.user'));
  t.true(names.includes('srv/app/data/a.txt'));
  const owners = new Map(layerEntries(2).map((e) => [e.name, e.owner]));
  t.is(owners.get('owned-33'), '33/33');
  t.is(owners.get('owned-1000'), '1000/1000');
  t.is(owners.get('owned-65534'), '65534/65534');
  for (const e of [...layerEntries(0), ...layerEntries(1)]) t.is(e.owner, '0/0', e.name);
  t.deepEqual(layerEntries(3).map((e) => e.name).filter((n) => n !== '').sort(), ['exec.txt']);
});

test('COPY keeps modes, gives files to 0:0 and honours .dockerignore', (t) => {
  const script = layerEntries(4).find((e) => e.name === 'usr/local/bin/script.sh');
  t.truthy(script);
  t.is(script?.mode, '-rwxr-x--x');
  t.is(script?.owner, '0/0');
  const conf = layerEntries(5);
  const names = conf.map((e) => e.name);
  t.true(names.includes('srv/app/conf/app.conf'));
  t.true(names.includes('srv/app/conf/nested/deep.conf'));
  t.false(names.some((n) => n.endsWith('.log')));
  for (const e of conf) t.is(e.owner, '0/0', e.name);
});

test('umoci unpacks the image rootless and the files are there', (t) => {
  if (!hasCommand('umoci')) return t.fail('umoci is not installed (scripts/setup-host.sh installs it)');
  const bundle = path.join(tempDir('umoci'), 'bundle');
  execFileSync('umoci', ['unpack', '--rootless', '--image', `${archive.dir}:latest`, bundle], { stdio: 'pipe' });
  const rootfs = path.join(bundle, 'rootfs');
  t.is(fs.readFileSync(path.join(rootfs, 'srv/app/data/a.txt'), 'utf8'), 'changed\n');
  t.false(fs.existsSync(path.join(rootfs, 'srv/app/data/b.txt')));
  t.false(fs.existsSync(path.join(rootfs, 'etc/motd')));
  t.false(fs.existsSync(path.join(rootfs, 'home/user')));
  t.is(fs.readFileSync(path.join(rootfs, 'exec.txt'), 'utf8'), 'exec-form\n');
  t.is(fs.statSync(path.join(rootfs, 'usr/local/bin/script.sh')).mode & 0o7777, 0o751);
  t.is(fs.readFileSync(path.join(rootfs, 'srv/app/conf/nested/deep.conf'), 'utf8'), 'deep\n');
});

test('a failing RUN exits non-zero naming the line, the command and its exit code', async (t) => {
  const root = await storeWithBusybox();
  const ctx = tempDir('fail');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nRUN true\nRUN echo about to fail && exit 3\nRUN echo never\n' });
  const r = await nbuild(['--root', root, 'build', '--progress', 'plain', ctx]);
  t.is(r.code, 1);
  const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('nbuild:'));
  t.is(errorLines.length, 1, r.stderr);
  t.regex(errorLines[0], /Dockerfile:3: RUN echo about to fail && exit 3: .*exit(ed)? .*code:? 3/);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.notRegex(r.stderr, /never/);
});

test('FROM scratch with COPY only needs no sandbox', async (t) => {
  const root = tempDir('scratch-store');
  const ctx = tempDir('scratch');
  writeFiles(ctx, { Dockerfile: 'FROM scratch\nCOPY hello.txt /\nCMD ["/hello.txt"]\n', 'hello.txt': 'hi\n' });
  const out = path.join(tempDir('out'), 'scratch.tar');
  const r = await nbuild(['--root', root, '-f', path.join(ctx, 'Dockerfile'), '-o', out, ctx]);
  t.is(r.code, 0, r.stderr);
  const a = openOciArchive(out);
  t.is(a.manifest.layers.length, 1);
  t.deepEqual(listLayer(a.blob(a.manifest.layers[0].digest)).map((e) => `${e.name} ${e.owner} ${e.mode}`), ['hello.txt 0/0 -rw-r--r--']);
});
