// BuildKit's frontend/dockerfile/dockerfile_git_http_test.go, ported (see README.md).
// BuildKit's frontend attribute `context` is build()'s contextDir (the CLI's context argument), `filename` is `-f`.
// The servers are on 127.0.0.1 in this process: a static file server for the Git repository
// (dumb HTTP, bkFileServer) and bkHttpServer for the tarball and Dockerfile.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { bkBuildWith, bkFileServer, bkHttpServer, bkStore, makeTar, readText } from './harness.js';
import { tempDir } from '../helpers/nbuild-cli.js';

/** Builds the context URL to a folder (`-o type=local`); throws with the log on failure. */
async function bkBuildUrl(url: string, args: string[] = []): Promise<string> {
  const root = await bkStore();
  const dest = path.join(tempDir('bk-out'), 'rootfs');
  const r = await bkBuildWith(root, url, [...args, '-o', `type=local,dest=${dest}`]);
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}`);
  return dest;
}

function runShell(dir: string, ...commands: string[]): void {
  for (const c of commands) execFileSync('sh', ['-c', c], { cwd: dir, stdio: 'pipe' });
}

async function testDockerfileFromGit(t: import('ava').ExecutionContext, format: 'sha1' | 'sha256'): Promise<void> {
  const gitDir = tempDir('bk-gitdir');
  let dockerfile = `
FROM busybox AS build
RUN echo -n fromgit > foo
FROM scratch
COPY --from=build foo bar
`;
  fs.writeFileSync(path.join(gitDir, 'Dockerfile'), dockerfile, { mode: 0o600 });
  const initOptions = format === 'sha256' ? ' --object-format=sha256' : '';
  runShell(gitDir, 'git init' + initOptions, 'git config --local user.email test', 'git config --local user.name test', 'git add Dockerfile', 'git commit -m initial', 'git branch first');
  dockerfile += `
COPY --from=build foo bar2
`;
  fs.writeFileSync(path.join(gitDir, 'Dockerfile'), dockerfile, { mode: 0o600 });
  runShell(gitDir, 'git add Dockerfile', 'git commit -m second', 'git update-server-info');
  const server = await bkFileServer(gitDir);
  try {
    let destDir = await bkBuildUrl(server.url + '/.git#first');
    t.is(readText(destDir, 'bar'), 'fromgit');
    t.false(fs.existsSync(path.join(destDir, 'bar2')));

    // second request from master branch contains both files
    destDir = await bkBuildUrl(server.url + '/.git');
    t.is(readText(destDir, 'bar'), 'fromgit');
    t.is(readText(destDir, 'bar2'), 'fromgit');
  } finally {
    await server.close();
  }
}

test('testDockerfileFromGitSHA1', (t) => testDockerfileFromGit(t, 'sha1'));

test('testDockerfileFromGitSHA256', (t) => testDockerfileFromGit(t, 'sha256'));

test('testDockerfileFromHTTP', async (t) => {
  const buf = makeTar([
    { name: 'mydockerfile', type: 'file', mode: 0o600, content: 'FROM scratch\nCOPY foo bar\n' },
    { name: 'foo', type: 'file', mode: 0o600, content: 'foo-contents' },
  ]);
  const server = await bkHttpServer({ '/myurl': { etag: Math.random().toString(36).slice(2), content: buf } });
  try {
    const destDir = await bkBuildUrl(server.url + '/myurl', ['-f', 'mydockerfile']);
    t.is(readText(destDir, 'bar'), 'foo-contents');
  } finally {
    await server.close();
  }
});

test('testHTTPDockerfile', async (t) => {
  const dockerfile = `
FROM busybox
RUN echo -n "foo-contents" > /foo
FROM scratch
COPY --from=0 /foo /foo
`;
  const server = await bkHttpServer({ '/df': { etag: Math.random().toString(36).slice(2), content: dockerfile } });
  try {
    const destDir = await bkBuildUrl(server.url + '/df', ['-f', 'mydockerfile']); // this is bogus, any name should work
    t.is(readText(destDir, 'foo'), 'foo-contents');
  } finally {
    await server.close();
  }
});
