// The harness for BuildKit's Dockerfile integration tests, ported (test/buildkit/README.md).
// Each ported test builds a Dockerfile through the API (`build()` of src/index.ts) as root of the
// user namespace the unprivileged test user made (this folder is the user-namespace test set:
// ava.userns.config.js), on a store holding the busybox base, and checks what BuildKit's test
// checks: files of the result (`-o type=local`), the image config (inspectImages), or the error
// text. A build's outcome has the CLI's shape: `code` (the error's exitCode), `stdout` (the
// image id) and `stderr` (the plain progress log, then the error as the CLI prints it).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { inspectImages, loadImages, type BuildEvent, type ImageDetails } from '../../src/index.js';
import { apiBuild, type ApiBuildOutcome } from '../helpers/api-build.js';
import { nbuild, projectRoot, tempDir, type RunResult } from '../helpers/nbuild-cli.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { openOciArchive, type OpenedArchive } from '../helpers/oci.js';

/** A context file: text, or text/bytes with a mode, a symlink, or a unix socket. */
export type ContextEntry = string | { content: string | Uint8Array; mode?: number } | { symlink: string } | { socket: true };

export interface BuildRequest {
  dockerfile: string;
  /** Context files, relative to the context folder (the Dockerfile is written for you). */
  files?: Record<string, ContextEntry>;
  /** `nbuild build` flags, mapped to build options (test/helpers/api-build.ts), e.g. ['--build-arg', 'A=1', '--target', 'x']. */
  args?: string[];
  /** Reuse a context folder (the files are written into it); defaults to a fresh one. */
  context?: string;
  /** Write the Dockerfile in a folder of its own and pass it with -f (BuildKit's separate "dockerfile" local). */
  separateDockerfile?: boolean;
  /** Reuse a store (defaults to one store per test file, made on first use). */
  root?: string;
}

export interface BuildOutcome extends ApiBuildOutcome {
  root: string;
  context: string;
}

let sharedRoot: Promise<string> | undefined;
let libraryBusybox: string | undefined;

/**
 * A new store holding busybox:latest with the accounts of Docker Hub's busybox image
 * (make-busybox-image.sh's BUSYBOX_ACCOUNTS=library): BuildKit's tests rely on them
 * (`adduser -D user`, `--chown=1000:nobody`, `--chown=daemon`).
 */
export async function bkNewStore(): Promise<string> {
  if (!libraryBusybox) {
    libraryBusybox = path.join(tempDir('bk-busybox'), 'busybox.oci.tar');
    execFileSync('bash', [path.join(projectRoot, 'scripts', 'make-busybox-image.sh'), libraryBusybox, 'latest'], { stdio: 'pipe', env: { ...process.env, BUSYBOX_ACCOUNTS: 'library' } });
  }
  const root = tempDir('store');
  await loadImages({ storeRoot: root, input: libraryBusybox, tag: 'busybox:latest' });
  return root;
}

/** One store with busybox:latest per test file (ava runs each file in its own process). */
export function bkStore(): Promise<string> {
  return (sharedRoot ??= bkNewStore());
}

export function writeContext(dir: string, files: Record<string, ContextEntry>): void {
  for (const [name, entry] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (typeof entry === 'string') fs.writeFileSync(file, entry);
    else if ('symlink' in entry) fs.symlinkSync(entry.symlink, file);
    else if ('socket' in entry) makeSocket(file);
    else {
      fs.writeFileSync(file, entry.content);
      if (entry.mode !== undefined) fs.chmodSync(file, entry.mode);
    }
  }
}

let offlineConfig: string | undefined;

/**
 * A registries config that blocks docker.io: the ported tests run offline, so a test whose
 * Dockerfile names an image the store lacks fails at once instead of reaching the network.
 */
export function offlineRegistries(): string {
  if (!offlineConfig) {
    offlineConfig = path.join(tempDir('bk-registries'), 'registries.toml');
    fs.writeFileSync(offlineConfig, '[[registry]]\nprefix = "docker.io"\nblocked = true\n');
  }
  return offlineConfig;
}

/**
 * Builds `contextDir` with `nbuild build` FLAGS through build() (test/helpers/api-build.ts), with
 * the harness's offline registries; never throws on a failed build.
 */
export async function bkBuildWith(root: string, contextDir: string, args: readonly string[], dockerfile?: string, onEvent?: (e: BuildEvent) => void): Promise<BuildOutcome> {
  // The CLI took NBUILD_REGISTRIES_CONFIG from its environment; build() reads this process's.
  process.env.NBUILD_REGISTRIES_CONFIG ??= offlineRegistries();
  return { ...(await apiBuild(root, contextDir, args, { dockerfile, onEvent })), root, context: contextDir };
}

/** Builds and returns the outcome; never throws on a failed build. */
export async function bkBuild(req: BuildRequest): Promise<BuildOutcome> {
  const root = req.root ?? (await bkStore());
  const context = req.context ?? tempDir('bk-ctx');
  let dockerfile: string | undefined;
  if (req.separateDockerfile) {
    const dir = tempDir('bk-df');
    writeContext(dir, { Dockerfile: req.dockerfile });
    writeContext(context, req.files ?? {});
    dockerfile = path.join(dir, 'Dockerfile');
  } else {
    writeContext(context, { Dockerfile: req.dockerfile, ...(req.files ?? {}) });
  }
  return bkBuildWith(root, context, req.args ?? [], dockerfile);
}

/**
 * `nbuild build -` with `input` (a tar of the context, or a Dockerfile) on standard input: reading
 * the context from stdin is the CLI's (src/cli/stdin-context.ts), so this one spawns bin/nbuild.
 */
export async function bkBuildStdin(input: Buffer, req: { args?: string[]; root?: string } = {}): Promise<RunResult & { root: string }> {
  const root = req.root ?? (await bkStore());
  const env = { NBUILD_REGISTRIES_CONFIG: offlineRegistries() };
  const r = await nbuild(['--root', root, 'build', '--progress', 'plain', ...(req.args ?? []), '-'], { env, input });
  return { ...r, root };
}

/** A tar (GNU tar, numeric owner 0) of context files, as `docker build -` reads it. */
export function contextTar(files: Record<string, ContextEntry>): Buffer {
  const dir = tempDir('bk-tarctx');
  writeContext(dir, files);
  return execFileSync('tar', ['-cf', '-', '--numeric-owner', '--owner=0', '--group=0', '-C', dir, '.']);
}

/** Builds and expects a failure; returns the CLI's stderr (throws if the build succeeded). */
export async function bkBuildError(req: BuildRequest): Promise<string> {
  const r = await bkBuild(req);
  if (r.code === 0) throw new Error(`the build succeeded, an error was expected:\n${r.stderr}`);
  return r.stderr;
}

/** Builds to `-o type=oci` and opens the archive (index, manifest, config, blobs). */
export async function bkBuildOci(req: BuildRequest): Promise<OpenedArchive & { file: string }> {
  const file = path.join(tempDir('bk-oci'), 'out.tar');
  const r = await bkBuild({ ...req, args: [...(req.args ?? []), '-o', `type=oci,dest=${file}`] });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}`);
  return { ...openOciArchive(file), file };
}

/** Builds to `-o type=tar` and returns the tar's entry names and the folder it is unpacked in. */
export async function bkBuildTar(req: BuildRequest): Promise<{ file: string; entries: string[]; dir: string }> {
  const out = tempDir('bk-tar');
  const file = path.join(out, 'out.tar');
  const r = await bkBuild({ ...req, args: [...(req.args ?? []), '-o', `type=tar,dest=${file}`] });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}`);
  const dir = path.join(out, 'x');
  fs.mkdirSync(dir);
  execFileSync('tar', ['-xf', file, '-C', dir]);
  const entries = execFileSync('tar', ['-tf', file]).toString().split('\n').filter(Boolean).map((e) => e.replace(/^\.\//, ''));
  return { file, entries, dir };
}

/** The files of a layer blob, unpacked with GNU tar into a new folder. */
export function unpackLayer(archive: OpenedArchive, layerDigest: string): string {
  const dir = tempDir('bk-layer');
  execFileSync('tar', ['-xf', archive.blob(layerDigest), '-C', dir]);
  return dir;
}

/** Builds to `-o type=local` and returns the result's folder; throws with the log on failure. */
export async function bkBuildLocal(req: BuildRequest): Promise<string> {
  const dest = path.join(tempDir('bk-out'), 'rootfs');
  const r = await bkBuild({ ...req, args: [...(req.args ?? []), '-o', `type=local,dest=${dest}`] });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}`);
  return dest;
}

/** The inspect record (inspectImages) of an image built under `tag`. */
export type Inspected = ImageDetails;

/** Builds to a tag in the store and returns its inspect record; throws with the log on failure. */
export async function bkBuildImage(req: BuildRequest, tag = `bk-${process.pid}-${Math.random().toString(36).slice(2, 8)}:latest`): Promise<Inspected & { root: string; tag: string }> {
  const r = await bkBuild({ ...req, args: [...(req.args ?? []), '-t', tag] });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}`);
  return { ...(await bkInspect(r.root, tag)), root: r.root, tag };
}

export async function bkInspect(root: string, image: string): Promise<Inspected> {
  const [details] = await inspectImages({ storeRoot: root, images: [image] });
  if (!('Config' in details)) throw new Error(`inspect ${image}: a multi-platform index, not an image`);
  return details;
}

export function readText(root: string, rel: string): string {
  return fs.readFileSync(path.join(root, rel), 'utf8');
}

/**
 * The user database of docker.io/library/busybox (buildroot's skeleton), which BuildKit's USER
 * tests assume: root is also in `wheel` (10), `daemon` is 1:1. Our busybox base has its own.
 */
const OFFICIAL_BUSYBOX_FILES = {
  passwd: [
    'root:x:0:0:root:/root:/bin/sh', 'daemon:x:1:1:daemon:/usr/sbin:/bin/false', 'bin:x:2:2:bin:/bin:/bin/false',
    'sys:x:3:3:sys:/dev:/bin/false', 'sync:x:4:100:sync:/bin:/bin/sync', 'mail:x:8:8:mail:/var/spool/mail:/bin/false',
    'www-data:x:33:33:www-data:/var/www:/bin/false', 'operator:x:37:37:Operator:/var:/bin/false', 'nobody:x:65534:65534:nobody:/home:/bin/false', '',
  ].join('\n'),
  group: [
    'root:x:0:', 'daemon:x:1:', 'bin:x:2:', 'sys:x:3:', 'adm:x:4:', 'tty:x:5:', 'disk:x:6:', 'lp:x:7:', 'mail:x:8:', 'kmem:x:9:',
    'wheel:x:10:root', 'cdrom:x:11:', 'dialout:x:18:', 'floppy:x:19:', 'video:x:28:', 'audio:x:29:', 'tape:x:32:', 'www-data:x:33:',
    'operator:x:37:', 'utmp:x:43:', 'plugdev:x:46:', 'staff:x:50:', 'lock:x:54:', 'netdev:x:82:', 'users:x:100:', 'nogroup:x:65534:', '',
  ].join('\n'),
};

let officialRoot: Promise<string> | undefined;

/** A store whose busybox:latest carries busybox's own /etc/passwd and /etc/group (see above). */
export function bkStoreOfficialBusybox(): Promise<string> {
  return (officialRoot ??= (async () => {
    const root = await apiStoreWithBusybox();
    const r = await bkBuild({ root, dockerfile: 'FROM busybox:latest\nCOPY passwd group /etc/\n', files: OFFICIAL_BUSYBOX_FILES, args: ['-t', 'busybox:latest'] });
    if (r.code !== 0) throw new Error(`busybox user database: build failed:\n${r.stderr}`);
    return root;
  })());
}

/** A unix socket file left behind by a process that bound it and exited (as fstest.CreateSocket). */
function makeSocket(file: string): void {
  execFileSync(process.execPath, ['-e', 'require("net").createServer().listen(process.argv[1], () => process.exit(0))', file]);
}

/** One entry of a tar written by `makeTar` (Go's tar.Header, the fields BuildKit's tests set). */
export interface TarHeader {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  mode: number;
  content?: string | Uint8Array;
  linkname?: string;
  uid?: number;
  gid?: number;
}

/** A ustar archive holding exactly `entries`, in order (as BuildKit's tests write with archive/tar). */
export function makeTar(entries: TarHeader[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = e.type === 'file' ? Buffer.from(e.content ?? '') : Buffer.alloc(0);
    const h = Buffer.alloc(512);
    const put = (text: string, offset: number, length: number): void => void h.write(text, offset, length, 'utf8');
    const octal = (n: number, offset: number, length: number): void => put(n.toString(8).padStart(length - 1, '0') + '\0', offset, length);
    if (Buffer.byteLength(e.name) > 100) throw new Error(`makeTar: name too long: ${e.name}`);
    put(e.name, 0, 100);
    octal(e.mode, 100, 8);
    octal(e.uid ?? 0, 108, 8);
    octal(e.gid ?? 0, 116, 8);
    octal(body.length, 124, 12);
    octal(0, 136, 12);
    put({ file: '0', hardlink: '1', symlink: '2', dir: '5' }[e.type], 156, 1);
    put(e.linkname ?? '', 157, 100);
    put('ustar\0', 257, 6);
    put('00', 263, 2);
    put('        ', 148, 8);
    let sum = 0;
    for (const b of h) sum += b;
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** What a test HTTP server answers for one path (BuildKit's httpserver.Response). */
export interface HttpResponse {
  content: string | Uint8Array;
  etag?: string;
  lastModified?: Date;
}

export interface HttpServer {
  url: string;
  /** The requests each path received, in order. */
  requests(pathname: string): { method: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** A server on 127.0.0.1 (offline), answering GET and HEAD with ETag / Last-Modified and 304s. */
export async function bkHttpServer(routes: Record<string, HttpResponse>): Promise<HttpServer> {
  const seen = new Map<string, { method: string; headers: http.IncomingHttpHeaders }[]>();
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    seen.set(pathname, [...(seen.get(pathname) ?? []), { method: req.method ?? '', headers: req.headers }]);
    const route = routes[pathname];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    if (route.etag) headers.etag = `"${route.etag}"`;
    if (route.lastModified) headers['last-modified'] = route.lastModified.toUTCString();
    if (route.etag && req.headers['if-none-match'] === `"${route.etag}"`) {
      res.writeHead(304, headers).end();
      return;
    }
    const body = Buffer.from(route.content);
    res.writeHead(200, { ...headers, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: (pathname) => seen.get(pathname) ?? [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Go's http.FileServer(http.Dir(dir)) on 127.0.0.1: files only, in this process. */
export async function bkFileServer(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const rel = path.normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = path.join(dir, rel);
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': st.size });
      fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
