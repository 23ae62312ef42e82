// COPY/ADD/WORKDIR rules BuildKit follows that its own tests (test/buildkit/) do not pin down:
// set-id bits survive --chown (ADD of an archive too), --chown's ids are those BuildKit's readUser
// gives, user.* xattrs of context files are kept, folders COPY makes get --chown's owner and 0755,
// a new destination folder is 0755 whatever the source's mode, the last symlink of a destination
// is written through, WORKDIR accepts a symlink to a folder, --chmod errors name the line, and an
// ONBUILD heredoc keeps its body.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { inspectImages } from '../../src/index.js';
import { apiBuild } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { listLayer, openOciArchive, type TarEntry } from '../helpers/oci.js';

let store: Promise<string> | undefined;
const root = (): Promise<string> => (store ??= apiStoreWithBusybox());

async function build(files: Record<string, string>, extra: string[] = [], prepare?: (ctx: string) => void): Promise<{ code: number; stderr: string; out: string }> {
  const ctx = tempDir('copy-sem');
  writeFiles(ctx, files);
  prepare?.(ctx);
  const out = path.join(tempDir('copy-sem-out'), 'image.tar');
  const r = await apiBuild(await root(), ctx, ['-o', `type=oci,dest=${out}`, ...extra]);
  return { code: r.code, stderr: r.stderr, out };
}

function layerEntries(out: string): Map<string, TarEntry>[] {
  const a = openOciArchive(out);
  return a.manifest.layers.map((l) => new Map(listLayer(a.blob(l.digest)).map((e) => [e.name, e])));
}

test('set-id bits survive --chown, for COPY and for ADD of an archive', async (t) => {
  const r = await build({ 'suid.bin': 'x\n', Dockerfile: 'FROM scratch\nCOPY --chown=1000:1000 suid.bin /copied\nADD --chown=33:33 a.tar /added/\n' }, [], (ctx) => {
    fs.chmodSync(path.join(ctx, 'suid.bin'), 0o6755);
    const src = tempDir('copy-sem-tar');
    fs.writeFileSync(path.join(src, 'tool'), 'y\n');
    fs.chmodSync(path.join(src, 'tool'), 0o4711);
    execFileSync('tar', ['-cf', path.join(ctx, 'a.tar'), '-C', src, 'tool']);
  });
  t.is(r.code, 0, r.stderr);
  const [copied, added] = layerEntries(r.out);
  t.like(copied.get('copied'), { mode: '-rwsr-sr-x', owner: '1000/1000' });
  t.like(added.get('added/tool'), { mode: '-rws--x--x', owner: '33/33' });
  t.like(added.get('added'), { owner: '33/33' }, 'the folder ADD makes is --chown\'s');
});

test("--chown's ids as BuildKit gives them: a named user's primary group, an empty side is 0, root without /etc/passwd", async (t) => {
  // `games` (5, primary group 60) as in Debian: its gid is not its uid.
  const passwd = 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/:/bin/false\ngames:x:5:60::/usr/games:/bin/false\n';
  const group = 'root:x:0:\ndaemon:x:1:\ngames:x:60:\nstaff:x:50:\n';
  const r = await build({
    'etc/passwd': passwd, 'etc/group': group, f: 'f\n',
    Dockerfile: 'FROM scratch AS noetc\nCOPY --chown=root f /root-owned\n' +
      'FROM scratch\nCOPY etc /etc/\nARG NOBODY\nCOPY --chown=games f /games\nCOPY --chown=daemon: f /daemon-empty-group\n' +
      'COPY --chown=:staff f /empty-user\nCOPY --chown=7 f /seven\nCOPY --chown=$NOBODY f /unset\nCOPY --from=noetc /root-owned /\n',
  });
  t.is(r.code, 0, r.stderr);
  const owners = new Map(layerEntries(r.out).flatMap((m) => [...m].map(([name, e]) => [name, e.owner])));
  t.is(owners.get('games'), '5/60');
  t.is(owners.get('daemon-empty-group'), '1/0');
  t.is(owners.get('empty-user'), '0/50');
  t.is(owners.get('seven'), '7/7');
  t.is(owners.get('unset'), '0/0', '--chown= (after expansion) sets no owner: a context file is root\'s');
  t.is(owners.get('root-owned'), '0/0');
  const bad = await build({ f: 'f\n', Dockerfile: 'FROM scratch\nCOPY --chown=ghost f /\n' });
  t.not(bad.code, 0);
  t.regex(bad.stderr, /Dockerfile:2: --chown=ghost: unable to find user ghost: no matching entries in passwd file/);
  t.notRegex(bad.stderr, /\n\s+at /, 'no stack trace');
});

test('user.* extended attributes of context files reach the layer', async (t) => {
  const r = await build({ 'tagged.txt': 'x\n', 'dir/inner': 'y\n', Dockerfile: 'FROM scratch\nCOPY tagged.txt /\nCOPY dir /dir/\n' }, [], (ctx) => {
    const set = (file: string, value: string): void => {
      execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.nbuild", sys.argv[2].encode())', path.join(ctx, file), value]);
    };
    set('tagged.txt', 'kept');
    set('dir/inner', 'inner-kept');
  });
  t.is(r.code, 0, r.stderr);
  const a = openOciArchive(r.out);
  const raw = a.manifest.layers.map((l) => gunzipSync(fs.readFileSync(a.blob(l.digest))).toString('latin1'));
  t.regex(raw[0], /SCHILY\.xattr\.user\.nbuild=kept\n/);
  t.regex(raw[1], /SCHILY\.xattr\.user\.nbuild=inner-kept\n/);
});

test('folders COPY makes are 0755 and --chown\'s; a new destination folder does not take the source folder\'s mode', async (t) => {
  const r = await build(
    { 'f.txt': 'f\n', 'private/secret': 's\n', Dockerfile: 'FROM scratch\nCOPY --chown=1000:1000 f.txt /a/b/c/f.txt\nCOPY private /newdir\nCOPY --chmod=u=rw,go= f.txt /sym/f.txt\n' },
    [],
    (ctx) => fs.chmodSync(path.join(ctx, 'private'), 0o700),
  );
  t.is(r.code, 0, r.stderr);
  const [chowned, newdir, symbolic] = layerEntries(r.out);
  for (const dir of ['a', 'a/b', 'a/b/c']) t.like(chowned.get(dir), { mode: 'drwxr-xr-x', owner: '1000/1000' }, dir);
  t.like(chowned.get('a/b/c/f.txt'), { owner: '1000/1000' });
  t.like(newdir.get('newdir'), { mode: 'drwxr-xr-x', owner: '0/0' });
  t.like(newdir.get('newdir/secret'), { owner: '0/0' });
  // a symbolic --chmod leaves the parents it makes at 0755 (BuildKit: only an octal one reaches them)
  t.like(symbolic.get('sym'), { mode: 'drwxr-xr-x' });
  t.like(symbolic.get('sym/f.txt'), { mode: '-rw-------' });
});

test('COPY to a path that is a symlink writes its target; WORKDIR may name a symlink to a folder', async (t) => {
  const r = await build({
    'f.txt': 'through\n',
    Dockerfile: [
      'FROM busybox:latest',
      'RUN mkdir /real && ln -s /real /link && echo old > /target.txt && ln -s target.txt /link.txt && ln -s /made /dangling',
      'COPY f.txt /link.txt',
      'WORKDIR /link',
      'RUN pwd > /pwd.txt && [ -L /link.txt ] && [ "$(cat /target.txt)" = through ]',
      'WORKDIR /dangling',
      'RUN [ -L /dangling ] && [ -d /made ]',
      '',
    ].join('\n'),
  });
  t.is(r.code, 0, r.stderr);
  // base, RUN, COPY, (WORKDIR /link: no layer), RUN, WORKDIR /dangling, RUN
  const layers = layerEntries(r.out);
  t.deepEqual([...layers[2].keys()], ['target.txt']);
  t.deepEqual([...layers[4].keys()], ['made'], 'WORKDIR through a dangling link makes its target');
  for (const l of layers.slice(2)) t.false(l.has('link') || l.has('dangling') || l.has('link.txt'), 'no link is replaced');
});

test('--chmod with a variable is checked once expanded, with the Dockerfile line', async (t) => {
  const r = await build({ f: 'f\n', Dockerfile: 'FROM scratch\nARG mode=abc\nCOPY --chmod=$mode f /f\n' });
  t.not(r.code, 0);
  t.regex(r.stderr, /Dockerfile:3: (COPY: )?invalid chmod parameter: 'abc'/);
  t.notRegex(r.stderr, /\n\s+at /);
});

test('an ONBUILD heredoc trigger keeps its body in the config, and runs from it', async (t) => {
  const tag = `onbuild-heredoc-${process.pid}:base`;
  const ctx = tempDir('copy-sem');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nONBUILD RUN <<EOF\necho "from the body" > /ran.txt\nEOF\n' });
  const base = await apiBuild(await root(), ctx, ['-t', tag]);
  t.is(base.code, 0, base.stderr);
  const [inspected] = await inspectImages({ storeRoot: await root(), images: [tag] });
  t.deepEqual('Config' in inspected ? inspected.Config.OnBuild : undefined, ['RUN <<EOF\necho "from the body" > /ran.txt\nEOF']);
  const child = await build({ Dockerfile: `FROM ${tag}\nRUN cat /ran.txt > /copy.txt\n` });
  t.is(child.code, 0, child.stderr);
  const layers = layerEntries(child.out);
  t.true(layers.some((l) => l.has('ran.txt')));
});

test('an archive folder staged over an image link hides the link\'s target: nothing of the host is read', async (t) => {
  // /a is a link to /proc in the image. The archive's own `a/` entry replaces the link (as in
  // BuildKit); `a/sys/x` then implies a new a/sys, 0755 root's. Looking below /a in the image
  // would follow the link out of the view, into the host's /proc/sys (owned by an unmapped id).
  const { makeTar } = await import('../buildkit/harness.js');
  const r = await build({ Dockerfile: 'FROM busybox:latest\nRUN ln -s /proc /a\nADD t.tar /\n' }, [], (ctx) => {
    fs.writeFileSync(path.join(ctx, 't.tar'), makeTar([{ name: 'a/', type: 'dir', mode: 0o750 }, { name: 'a/sys/x', type: 'file', mode: 0o644, content: 'x' }]));
  });
  t.is(r.code, 0, r.stderr);
  const added = layerEntries(r.out).at(-1) as Map<string, TarEntry>;
  t.like(added.get('a'), { mode: 'drwxr-x---', owner: '0/0' });
  t.like(added.get('a/sys'), { mode: 'drwxr-xr-x', owner: '0/0' });
  t.true(added.has('a/sys/x'));
});

test('several files to a destination that is not a folder and has no trailing / is an error naming the line', async (t) => {
  const bad = await build({ a: 'a\n', b: 'b\n', Dockerfile: 'FROM scratch\nCOPY a b /dest\n' });
  t.not(bad.code, 0);
  t.regex(bad.stderr, /Dockerfile:2: COPY: with more than one source file, the destination must be a folder and end with a \//);
  const ok = await build({ a: 'a\n', b: 'b\n', Dockerfile: 'FROM scratch\nCOPY a /dest/\nCOPY a b /dest\nCOPY * /other/\n' });
  t.is(ok.code, 0, ok.stderr);
});

// BuildKit lexes a COPY source like any word, so `\?` reaches its copier as `?`, a wildcard
// (shell/lex.go; envVarTest: `abc\tdef` is `abctdef`). `\\?` reaches it as `\?`: before the
// first wildcard segment that is a name with a backslash, after it (fsutil copy's
// ResolveWildcards: filepath.Match on the rest) a literal `?`.
test('COPY source escapes: \\? is a wildcard after lexing, \\\\? past a wildcard segment is a literal ?', async (t) => {
  const files = { 'app/sub/n?pe.txt': 'lit\n', 'app/sub/nope.txt': 'wild\n', 'app/sub/st*uv.txt': 'star\n', 'app/sub/strauv.txt': 'no\n' };
  const r = await build({ ...files, Dockerfile: 'FROM scratch\nCOPY app/*/n\\\\?pe.txt app/s*/st\\\\*uv.txt /lit/\nCOPY app/sub/n\\?pe.txt /wild/\n' });
  t.is(r.code, 0, r.stderr);
  const [lit, wild] = layerEntries(r.out);
  t.deepEqual([...lit.keys()].filter((n) => !n.endsWith('/') && n !== 'lit').sort(), ['lit/n?pe.txt', 'lit/st*uv.txt']);
  t.deepEqual([...wild.keys()].filter((n) => !n.endsWith('/') && n !== 'wild').sort(), ['wild/n?pe.txt', 'wild/nope.txt']);
});

// BuildKit's unpack (solver/llbsolver/file/unpack.go) makes the destination with copy.MkdirAll
// (0755, --chown's owner) and go-archive's Unpack skips a `.` entry when the destination is a
// folder: the archive's `./` owner and mode never reach the destination folder.
test('ADD of an archive: its ./ entry does not change the destination folder, new or existing', async (t) => {
  const r = await build({ keep: 'k\n', Dockerfile: 'FROM scratch\nADD a.tar /new/\nADD --chown=7:8 a.tar /chowned/\nCOPY keep /existing/\nADD a.tar /existing/\n' }, [], (ctx) => {
    const src = tempDir('copy-sem-dot');
    fs.writeFileSync(path.join(src, 'f'), 'f\n');
    fs.chmodSync(src, 0o700);
    execFileSync('tar', ['-cf', path.join(ctx, 'a.tar'), '--owner=1234', '--group=4321', '--numeric-owner', '-C', src, '.']);
  });
  t.is(r.code, 0, r.stderr);
  const [added, chowned, , existing] = layerEntries(r.out);
  t.like(added.get('new'), { mode: 'drwxr-xr-x', owner: '0/0' });
  t.like(added.get('new/f'), { owner: '1234/4321' });
  t.like(chowned.get('chowned'), { mode: 'drwxr-xr-x', owner: '7/8' });
  t.like(existing.get('existing'), { mode: 'drwxr-xr-x', owner: '0/0' });
});

// Duplicate stage names are BuildKit's DuplicateStageName warning; --from takes the last stage of
// the name, a FROM the last one defined before it (dockerfile2llb statesByName).
test('COPY --from a duplicate stage name reads the last stage of that name; FROM the one before it', async (t) => {
  const r = await build({
    first: '1\n',
    second: '2\n',
    Dockerfile: 'FROM scratch AS b\nCOPY first /which\nFROM b AS c\nFROM scratch AS b\nCOPY second /which\nFROM scratch\nCOPY --from=b /which /from-b\nCOPY --from=c /which /from-c\n',
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /DuplicateStageName/);
  const [fromB, fromC] = layerEntries(r.out);
  t.true(fromB.has('from-b'));
  t.true(fromC.has('from-c'));
  const a = openOciArchive(r.out);
  const raw = a.manifest.layers.map((l) => gunzipSync(fs.readFileSync(a.blob(l.digest))).toString('latin1'));
  t.regex(raw[0], /from-b[\s\S]*2\n/);
  t.regex(raw[1], /from-c[\s\S]*1\n/);
});
