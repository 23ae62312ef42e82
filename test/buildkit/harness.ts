// The harness for BuildKit's Dockerfile integration tests, ported (test/buildkit/README.md).
// Each ported test builds a Dockerfile as the unprivileged user with the real CLI, on a store
// holding the busybox base, and checks what BuildKit's test checks: files of the result
// (`-o type=local`), the image config (`nbuild inspect`), or the error text.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nbuild, storeWithBusybox, tempDir, type RunResult } from '../helpers/nbuild-cli.js';
import { openOciArchive, type OpenedArchive } from '../helpers/oci.js';

/** A context file: text, or text with a mode, or a symlink. */
export type ContextEntry = string | { content: string; mode?: number } | { symlink: string };

export interface BuildRequest {
  dockerfile: string;
  /** Context files, relative to the context folder (the Dockerfile is written for you). */
  files?: Record<string, ContextEntry>;
  /** Extra `nbuild build` arguments (before the context), e.g. ['--build-arg', 'A=1', '--target', 'x']. */
  args?: string[];
  /** Reuse a context folder (the files are written into it); defaults to a fresh one. */
  context?: string;
  /** Reuse a store (defaults to one store per test file, made on first use). */
  root?: string;
  env?: NodeJS.ProcessEnv;
}

export interface BuildOutcome extends RunResult {
  root: string;
  context: string;
}

let sharedRoot: Promise<string> | undefined;

/** One store with busybox:latest per test file (ava runs each file in its own process). */
export function bkStore(): Promise<string> {
  return (sharedRoot ??= storeWithBusybox());
}

export function writeContext(dir: string, files: Record<string, ContextEntry>): void {
  for (const [name, entry] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (typeof entry === 'string') fs.writeFileSync(file, entry);
    else if ('symlink' in entry) fs.symlinkSync(entry.symlink, file);
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

/** Builds and returns the CLI's outcome; never throws on a failed build. */
export async function bkBuild(req: BuildRequest): Promise<BuildOutcome> {
  const root = req.root ?? (await bkStore());
  const context = req.context ?? tempDir('bk-ctx');
  writeContext(context, { Dockerfile: req.dockerfile, ...(req.files ?? {}) });
  const env = { NBUILD_REGISTRIES_CONFIG: offlineRegistries(), ...req.env };
  const r = await nbuild(['--root', root, 'build', '--progress', 'plain', ...(req.args ?? []), context], { env });
  return { ...r, root, context };
}

/** Builds `nbuild build -` with `input` (a tar of the context, or a Dockerfile) on standard input. */
export async function bkBuildStdin(input: Buffer, req: { args?: string[]; root?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult & { root: string }> {
  const root = req.root ?? (await bkStore());
  const env = { NBUILD_REGISTRIES_CONFIG: offlineRegistries(), ...req.env };
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

/** The `nbuild inspect` record of an image built under `tag`. */
export interface Inspected {
  Id: string;
  Config: Record<string, unknown> & { Env?: string[]; Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string; User?: string; Labels?: Record<string, string>; OnBuild?: string[]; Shell?: string[] };
  History: { created_by?: string; empty_layer?: boolean; comment?: string; created?: string }[];
  RootFS: { Layers: string[] };
  Created: string | null;
  Architecture: string;
  Os: string;
}

/** Builds to a tag in the store and returns its inspect record; throws with the log on failure. */
export async function bkBuildImage(req: BuildRequest, tag = `bk-${process.pid}-${Math.random().toString(36).slice(2, 8)}:latest`): Promise<Inspected & { root: string; tag: string }> {
  const r = await bkBuild({ ...req, args: [...(req.args ?? []), '-t', tag] });
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}`);
  return { ...(await bkInspect(r.root, tag)), root: r.root, tag };
}

export async function bkInspect(root: string, image: string): Promise<Inspected> {
  const r = await nbuild(['--root', root, 'inspect', image]);
  if (r.code !== 0) throw new Error(`inspect ${image} failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Inspected[])[0];
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
    const root = await storeWithBusybox();
    const r = await bkBuild({ root, dockerfile: 'FROM busybox:latest\nCOPY passwd group /etc/\n', files: OFFICIAL_BUSYBOX_FILES, args: ['-t', 'busybox:latest'] });
    if (r.code !== 0) throw new Error(`busybox user database: build failed:\n${r.stderr}`);
    return root;
  })());
}
