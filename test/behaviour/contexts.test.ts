// Contexts as buildx takes them (issue 16), through build(): Git URLs (served offline by git
// http-backend on 127.0.0.1), http(s) tarball and Dockerfile URLs, named contexts from a Git URL,
// and .containerignore, on a busybox store. Stdin contexts are the CLI's: test/e2e/contexts-stdin.test.ts.
import test from 'ava';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { apiBuild, type ApiBuildOutcome } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { gitDaemonServer, gitHttpServer, type GitServer } from '../helpers/git-server.js';

let root: string;
let git: GitServer;
let daemon: GitServer;
let repoUrl: string;
let firstCommit: string;
let files: http.Server;
let filesUrl: string;

const gitIn = (dir: string, ...args: string[]): string =>
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { encoding: 'utf8' }).trim();

test.before(async () => {
  root = await apiStoreWithBusybox();
  // A repository: main (the default branch) with sub/Dockerfile, a tag v1 on the first commit,
  // and a branch `other` whose Dockerfile differs.
  const projects = tempDir('git-projects');
  const work = tempDir('git-work');
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  writeFiles(work, { 'sub/Dockerfile': 'FROM busybox:latest\nCOPY which /which\n', 'sub/which': 'first\n', 'Dockerfile': 'FROM busybox:latest\nCOPY sub/which /top\n', 'alt.Dockerfile': 'FROM busybox:latest\nCOPY sub/which /alt\n' });
  gitIn(work, 'add', '-A');
  gitIn(work, 'commit', '-qm', 'first');
  firstCommit = gitIn(work, 'rev-parse', 'HEAD');
  gitIn(work, 'tag', '-a', 'v1', '-m', 'v1');
  fs.writeFileSync(path.join(work, 'sub', 'which'), 'second\n');
  gitIn(work, 'commit', '-qam', 'second');
  gitIn(work, 'checkout', '-qb', 'other');
  fs.writeFileSync(path.join(work, 'sub', 'which'), 'other\n');
  gitIn(work, 'commit', '-qam', 'other');
  gitIn(work, 'checkout', '-q', 'main');
  execFileSync('git', ['clone', '-q', '--bare', work, path.join(projects, 'repo.git')]);
  git = await gitHttpServer(projects);
  daemon = await gitDaemonServer(projects);
  repoUrl = `${git.url}/repo.git`;

  const ctx = tempDir('url-ctx');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nCOPY a /a\n', a: 'from-url\n' });
  const tgz = execFileSync('tar', ['-C', ctx, '-czf', '-', '.']);
  const routes: Record<string, Buffer> = {
    '/ctx.tar.gz': tgz,
    '/Dockerfile': Buffer.from('FROM busybox:latest\nRUN echo plain > /p\n'),
  };
  files = http.createServer((req, res) => {
    const body = routes[req.url ?? ''];
    if (!body) res.writeHead(404).end();
    else res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  files.unref();
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});

test.after.always(async () => {
  await git?.close();
  await daemon?.close();
  files?.closeAllConnections();
  files?.close();
});

async function buildTo(args: string[], context: string, opts: { root?: string } = {}): Promise<ApiBuildOutcome & { out: string }> {
  const out = path.join(tempDir('ctx-out'), 'fs');
  const r = await apiBuild(opts.root ?? root, context, ['-o', out, ...args]);
  return { ...r, out };
}

const read = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8');

test('a Git URL context: the default branch, a branch, a tag, a commit, with :subdir', async (t) => {
  const head = await buildTo([], repoUrl);
  t.is(head.code, 0, head.stderr);
  t.is(read(head.out, 'top'), 'second\n');
  const sub = await buildTo([], `${repoUrl}#main:sub`);
  t.is(sub.code, 0, sub.stderr);
  t.is(read(sub.out, 'which'), 'second\n');
  const branch = await buildTo([], `${repoUrl}#other:sub`);
  t.is(branch.code, 0, branch.stderr);
  t.is(read(branch.out, 'which'), 'other\n');
  const tag = await buildTo([], `${repoUrl}#v1:sub`);
  t.is(tag.code, 0, tag.stderr);
  t.is(read(tag.out, 'which'), 'first\n');
  const commit = await buildTo([], `${repoUrl}#${firstCommit}:sub`);
  t.is(commit.code, 0, commit.stderr);
  t.is(read(commit.out, 'which'), 'first\n');
  // -f is a path inside the repository
  const named = await buildTo(['-f', 'alt.Dockerfile'], `${repoUrl}#main`);
  t.is(named.code, 0, named.stderr);
  t.is(read(named.out, 'alt'), 'second\n');
});

test('a git:// URL context (git daemon), a tag with :subdir', async (t) => {
  const r = await buildTo([], `${daemon.url}/repo.git#v1:sub`);
  t.is(r.code, 0, r.stderr);
  t.is(read(r.out, 'which'), 'first\n');
});

test('a Git context: a missing ref or folder, an unreachable repository: one line naming the URL', async (t) => {
  const own = tempDir('ctx-store'); // a store of this test's own: its temp area is checked below
  for (const url of [`${repoUrl}#nosuchbranch`, `${repoUrl}#main:nosuchdir`, `${git.url}/missing.git`]) {
    const r = await buildTo([], url, { root: own });
    t.is(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    t.is(lines.length, 1, r.stderr);
    t.true(lines[0].includes(url.split('#')[0]), lines[0]);
  }
  // nothing of the failed fetches is left in the store's temp area
  t.deepEqual(fs.readdirSync(path.join(own, 'tmp')).filter((n) => n.startsWith('context-')), []);
});

test('--build-context NAME=GIT_URL: COPY --from=NAME reads the checkout', async (t) => {
  const ctx = tempDir('ctx-named-git');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nCOPY --from=src which /from-git\n' });
  const r = await buildTo(['--build-context', `src=${repoUrl}#other:sub`], ctx);
  t.is(r.code, 0, r.stderr);
  t.is(read(r.out, 'from-git'), 'other\n');
});

test('--build-context NAME=DIR: FROM NAME with steps after it, RUN --mount=from=NAME, and its own .dockerignore', async (t) => {
  const named = tempDir('ctx-named-dir');
  writeFiles(named, { f: 'named\n', hidden: 'h\n', '.dockerignore': 'hidden\n' });
  const ctx = tempDir('ctx-named-main');
  writeFiles(ctx, { Dockerfile: 'FROM src\nCOPY --from=busybox:latest /bin/busybox /bin/\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox cp /f /copied"]\nFROM busybox:latest\nCOPY --from=0 / /zero/\nRUN --mount=from=src,target=/m cat /m/f > /mounted\n' });
  const r = await buildTo(['--build-context', `src=${named}`], ctx);
  t.is(r.code, 0, r.stderr);
  t.is(read(r.out, 'zero/f'), 'named\n');
  t.is(read(r.out, 'zero/copied'), 'named\n');
  t.false(fs.existsSync(path.join(r.out, 'zero', 'hidden')));
  t.is(read(r.out, 'mounted'), 'named\n');
});

test('--build-context NAME=URL: a folder holding the download as the file `context` (BuildKit)', async (t) => {
  const ctx = tempDir('ctx-named-url');
  writeFiles(ctx, { Dockerfile: 'FROM scratch\nCOPY --from=src /context /got\n' });
  const r = await buildTo(['--build-context', `src=${filesUrl}/Dockerfile`], ctx);
  t.is(r.code, 0, r.stderr);
  t.is(read(r.out, 'got'), 'FROM busybox:latest\nRUN echo plain > /p\n');
});

test('a Git context whose subdir is a link out of the repository is refused; the host files are not read', async (t) => {
  const projects = tempDir('git-hostile');
  const work = tempDir('git-hostile-work');
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  fs.symlinkSync('/etc', path.join(work, 'out'));
  writeFiles(work, { Dockerfile: 'FROM scratch\nCOPY passwd-link /p\n' });
  fs.symlinkSync('/etc/passwd', path.join(work, 'passwd-link'));
  gitIn(work, 'add', '-A');
  gitIn(work, 'commit', '-qm', 'links');
  execFileSync('git', ['clone', '-q', '--bare', work, path.join(projects, 'evil.git')]);
  const server = await gitHttpServer(projects);
  try {
    const sub = await buildTo([], `${server.url}/evil.git#main:out`);
    t.is(sub.code, 1, sub.stderr);
    t.regex(sub.stderr, /the folder out is not in the repository/);
    const copy = await buildTo([], `${server.url}/evil.git`);
    t.not(copy.code, 0, copy.stderr);
    t.false(fs.existsSync(path.join(copy.out, 'p')));
  } finally {
    await server.close();
  }
});

test('an http(s) URL context: a tarball is the context, a plain file the Dockerfile', async (t) => {
  const tarball = await buildTo([], `${filesUrl}/ctx.tar.gz`);
  t.is(tarball.code, 0, tarball.stderr);
  t.is(read(tarball.out, 'a'), 'from-url\n');
  const plain = await buildTo([], `${filesUrl}/Dockerfile`);
  t.is(plain.code, 0, plain.stderr);
  t.is(read(plain.out, 'p'), 'plain\n');
  const missing = await buildTo([], `${filesUrl}/nothing.tar`);
  t.is(missing.code, 1);
  t.is(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  t.regex(missing.stderr, /build context http:\/\/127\.0\.0\.1:\d+\/nothing\.tar: the server answered 404/);
});

test('.containerignore applies where there is no .dockerignore', async (t) => {
  const ctx = tempDir('ctx-containerignore');
  writeFiles(ctx, { Dockerfile: 'FROM scratch\nCOPY . /\n', keep: 'k\n', secret: 's\n', '.containerignore': 'secret\n' });
  const r = await buildTo([], ctx);
  t.is(r.code, 0, r.stderr);
  t.true(fs.existsSync(path.join(r.out, 'keep')));
  t.false(fs.existsSync(path.join(r.out, 'secret')));
  // .dockerignore wins when both are there
  writeFiles(ctx, { '.dockerignore': 'keep\n' });
  const both = await buildTo([], ctx);
  t.is(both.code, 0, both.stderr);
  t.false(fs.existsSync(path.join(both.out, 'keep')));
  t.true(fs.existsSync(path.join(both.out, 'secret')));
});
