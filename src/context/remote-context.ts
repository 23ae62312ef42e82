// Contexts that are not a folder here, as buildx takes them: a Git URL
// (`https://host/repo.git#ref:subdir`, `git@host:repo.git#ref`, `git://…`, `ssh://…`,
// `github.com/o/r`), cloned with the host's git (its config, credentials and ssh as git uses
// them); an http(s) URL, downloaded (streamed to a file) and unpacked when it is a tar, else
// taken as the Dockerfile with an empty context; and a file that holds a context (`build -`).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { archiveMaxTime, isTarArchive, unpackArchive, UrlSources, type Downloaded } from '../executor/steps/add-sources.js';
import { NbuildError } from '../errors.js';
import type { Store } from '../store/store.js';
import { isGitContext } from './named-contexts.js';

export interface FetchedContext {
  dir: string;
  /** Set when the URL was a Dockerfile, not an archive: the context is then empty. */
  dockerfileText?: string;
  /**
   * Its time, for SOURCE_DATE_EPOCH=context (BuildKit): a Git checkout's commit time; a download's
   * Last-Modified, else the newest file of the archive it is.
   */
  epoch?: number;
}

/** Fetches a Git or http(s) context into the folder `work` (a fresh temp folder of the store). */
export async function fetchRemoteContext(url: string, work: string, store: Store, signal?: AbortSignal): Promise<FetchedContext> {
  if (isGitContext(url)) return gitContext(url, work, signal);
  const downloaded = await new UrlSources(store, async () => work, 'build context').file(url);
  const epoch = await downloadTime(downloaded);
  return { ...(await contextFromFile(downloaded.file, work, url)), epoch };
}

async function downloadTime(downloaded: Downloaded): Promise<number | undefined> {
  return downloaded.lastModified ?? ((await isTarArchive(downloaded.file)) ? await archiveMaxTime(downloaded.file) : undefined);
}

/**
 * A named context (--build-context NAME=URL): a Git URL is its checkout; an http(s) URL is, as
 * BuildKit's llb.HTTP source, a folder holding the download as the file `context` (not unpacked).
 */
export async function fetchNamedContext(url: string, work: string, store: Store, signal?: AbortSignal): Promise<FetchedContext> {
  if (isGitContext(url)) return gitContext(url, work, signal);
  const downloaded = await new UrlSources(store, async () => work, 'build context').file(url);
  const epoch = await downloadTime(downloaded);
  const dir = path.join(work, 'context');
  await fs.mkdir(dir);
  await fs.rename(downloaded.file, path.join(dir, 'context')); // 0600, as BuildKit's http source
  return { dir, epoch };
}

/**
 * A file that holds a context: a tar (any compression) is unpacked into `WORK/context`, anything
 * else is a Dockerfile with that empty folder as its context. The file is removed. `where`
 * names the file's origin in errors (`stdin`, a URL).
 */
export async function contextFromFile(file: string, work: string, where: string): Promise<FetchedContext> {
  const dir = path.join(work, 'context');
  await fs.mkdir(dir);
  if (await isTarArchive(file)) {
    await unpackArchive(file, dir, work, `${where}: cannot unpack the build context`).catch((error: Error) => {
      throw new NbuildError('CONTEXT_INVALID', error.message, { cause: error });
    });
    await fs.rm(file);
    return { dir };
  }
  const text = await fs.readFile(file, 'utf8');
  await fs.rm(file);
  return { dir, dockerfileText: text };
}

/** `REMOTE#REF:SUBDIR` → its parts (`github.com/o/r` is https). */
export function parseGitUrl(url: string): { remote: string; ref?: string; subdir?: string } {
  const hash = url.indexOf('#');
  let remote = hash >= 0 ? url.slice(0, hash) : url;
  const fragment = hash >= 0 ? url.slice(hash + 1) : '';
  if (remote.startsWith('github.com/')) remote = `https://${remote}`;
  const colon = fragment.indexOf(':');
  const ref = (colon >= 0 ? fragment.slice(0, colon) : fragment) || undefined;
  const subdir = (colon >= 0 ? fragment.slice(colon + 1) : '').replace(/^\/+|\/+$/g, '') || undefined;
  return { remote, ref, subdir };
}

/**
 * Clones the ref (default: the remote's HEAD) shallowly where the server allows (a dumb HTTP
 * server does not), with its submodules (as BuildKit's git source), drops .git and returns the
 * subdir. A commit hash or a full ref name (`refs/pull/1/head`) takes the whole history, then
 * that commit. `git clone` takes the remote's object format (sha1 or sha256). Any failure is
 * one line naming the URL.
 */
async function gitContext(url: string, work: string, signal?: AbortSignal): Promise<FetchedContext> {
  const { remote, ref, subdir } = parseGitUrl(url);
  if (ref?.startsWith('-') || remote.startsWith('-')) throw new NbuildError('CONTEXT_INVALID', `${url}: not a Git URL`);
  const repo = path.join(work, 'repo');
  const git = (args: string[]): Promise<string> => runGit(url, ['-C', repo, ...args], signal);
  const clone = (extra: string[]): Promise<string> => runGit(url, ['clone', '-q', ...extra, '--', remote, repo], signal);
  const byCommit = ref !== undefined && (/^[0-9a-f]{7,64}$/i.test(ref) || ref.startsWith('refs/'));
  let lastError: unknown;
  let cloned = false;
  if (!ref?.startsWith('refs/')) {
    for (const depth of [['--depth=1'], []]) {
      try {
        await clone([...depth, ...(ref ? ['--branch', ref] : [])]);
        cloned = true;
        break;
      } catch (error) {
        lastError = error;
        await fs.rm(repo, { recursive: true, force: true });
        signal?.throwIfAborted();
      }
    }
  }
  if (!cloned && !byCommit) throw lastError;
  const checkout = (what: string): Promise<string> => git(['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', what]);
  if (!cloned && ref !== undefined) {
    // Most servers (protocol v2) serve one commit shallowly; else the whole history.
    cloned = await fs
      .mkdir(repo)
      .then(() => git(['init', '-q']))
      .then(() => git(['remote', 'add', 'origin', remote]))
      .then(() => git(['fetch', '-q', '--depth=1', 'origin', ref]))
      .then(() => checkout('FETCH_HEAD'))
      .then(() => true, () => false);
  }
  if (!cloned && ref !== undefined) {
    await fs.rm(repo, { recursive: true, force: true });
    signal?.throwIfAborted();
    await clone(['--no-checkout']);
    await checkout(ref).catch(async () => {
      await git(['fetch', '-q', 'origin', ref]).then(() => checkout('FETCH_HEAD'), () => {
        throw new NbuildError('GIT', `Git context ${url}: no branch, tag or commit ${ref} in the repository`);
      });
    });
  }
  if (await exists(path.join(repo, '.gitmodules'))) await git(['submodule', 'update', '-q', '--init', '--recursive', '--depth=1']);
  const epoch = Number((await git(['log', '-1', '--format=%ct', 'HEAD'])).trim()) || undefined;
  await fs.rm(path.join(repo, '.git'), { recursive: true, force: true });
  if (subdir === undefined) return { dir: repo, epoch };
  const dir = path.resolve(repo, subdir);
  const real = await fs.realpath(dir).catch(() => undefined);
  if (!real || (real !== repo && !real.startsWith(repo + path.sep))) throw new NbuildError('CONTEXT_NOT_FOUND', `${url}: the folder ${subdir} is not in the repository`);
  const st = await fs.stat(real);
  if (!st.isDirectory()) throw new NbuildError('CONTEXT_NOT_FOUND', `${url}: ${subdir} is not a folder`);
  return { dir: real, epoch };
}

/** git, with the user's own configuration and credentials; no terminal prompt (a build runs unattended). */
function runGit(url: string, args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, signal, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new NbuildError('GIT', `${url}: a Git context needs git, which is not installed`));
      if (signal?.aborted) return reject(signal.reason);
      const why = stderr.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? error.message;
      reject(new NbuildError('GIT', `Git context ${url}: ${why.replace(/^fatal: /, '')}`, { cause: error }));
    });
  });
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}
